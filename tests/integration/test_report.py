"""`fellowship report` on a real generate run (the embedded model answers and judges; a scripted source answers with
HTML and a script), opened in headless Chromium: no console error, no request beyond the file, charts drawn, filters
and search that find what the data says they should, and the hostile response shown as text. Screenshots go to
build/artifacts/."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from tests.fakes import ScriptedChatModel

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "artifacts"
HOSTILE = ('<script>document.title = "pwned"; window.pwned = 1;</script><img src="x" onerror="window.pwned = 2">'
           "</pre></script><b>bold?</b> Drink water and take short breaks.")


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "needs Chromium: `apt-get install chromium` (Debian's package; CI installs it)"
        if os.environ.get("FELLOWSHIP_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def run(tmp_path, fake_models) -> Path:
    fake_models["openai:hostile"] = ScriptedChatModel(script=lambda messages: HOSTILE)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("Give one tip for staying focused while studying.\nName a healthy breakfast.\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, [
        "generate", "--prompts", str(prompts), "--out", str(out), "--candidate", "local=local:smollm2",
        "--candidate", "hostile=openai:hostile", "--loop", "loop=local:smollm2,local:smollm2", "--iterations", "1",
        "--max-tokens", "48", "--review-max-tokens", "64", "--judge-max-tokens", "96", "--strategy", "combined-10",
        "--no-preflight"])
    assert result.exit_code == 0, result.output[-2000:]
    charts = {p.name for p in (out / "charts").iterdir()}
    assert charts >= {"outcomes.png", "sources.png", "spend.png", "time.png", "margins.png"}
    card = (out / "README.md").read_text()
    assert "![Rows and drops](charts/outcomes.png)" in card and "![Time per source](charts/time.png)" in card
    shutil.rmtree(out / "charts")
    assert CliRunner().invoke(app, ["export", "--out", str(out)]).exit_code == 0
    assert {p.name for p in (out / "charts").iterdir()} == charts  # export draws them again
    return out


def test_the_report_opens_offline_draws_its_charts_and_browses_every_comparison(run, chromium):
    from playwright.sync_api import expect, sync_playwright

    made = CliRunner().invoke(app, ["report", str(run)])
    assert made.exit_code == 0, made.output
    report = run / "report.html"
    data = json.loads(report.read_text().split('<script type="application/json" id="data">')[1].split("</script>")[0])
    rows = data["rows"]
    kept = sum(r["outcome"] == "kept" for r in rows)
    hostile = [r for r in rows if HOSTILE in (r["text_a"], r["text_b"])]
    assert rows and hostile and 0 < kept < len(rows)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report.as_uri())
        page.screenshot(path=str(ARTIFACTS / "report-top.png"))
        # Every chart drawn: an SVG with marks, and a size on the page.
        charts = page.locator("#charts svg")
        assert charts.count() >= 4
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100
            assert charts.nth(i).locator("path, rect, use").count() > 5
        assert page.inner_text("#count") == f"{len(rows)} of {len(rows)} comparisons"
        # The outcome filter keeps exactly the rows kept.
        page.select_option("#filter-outcome", "kept")
        assert page.inner_text("#count") == f"{kept} of {len(rows)} comparisons"
        assert page.locator("#rows .outcome.dropped").count() == 0
        page.select_option("#filter-outcome", "")
        # Search finds the hostile response, which shows as text and never ran.
        page.fill("#filter-search", "onerror")
        expect(page.locator("#count")).to_have_text(f"{len(hostile)} of {len(rows)} comparisons")
        page.screenshot(path=str(ARTIFACTS / "report-search.png"))
        texts = page.locator("#rows pre.text").all_inner_texts()
        assert HOSTILE in texts
        assert page.evaluate("window.pwned") is None and page.title().startswith("fellowship report")
        assert page.locator("#rows b, #rows img, #rows script").count() == 0
        page.fill("#filter-search", "no such words anywhere")
        expect(page.locator("#count")).to_have_text(f"0 of {len(rows)} comparisons")
        browser.close()
    assert errors == []
    assert requests == [report.as_uri()]  # nothing fetched: no CDN, no image, no script from elsewhere
