"""Kappa by hand, the dataset readers, and the paper's tables reproduced from the authors' recorded texts."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from fellowship.cli import app
from fellowship.metrics.agreement import bootstrap_ci, cohen_kappa, confusion, longer_preference
from fellowship.readers import read_labelled
from fellowship.readers.named import LABELLED, read_dataset
from fellowship.runs.agreement import all_juries, recorded_labels, report

MODELS = ["gpt-4o", "gpt-4o-mini", "Meta-Llama-3.1-70B-Instruct-Turbo", "Meta-Llama-3.1-8B-Instruct-Turbo", "gemma-2-27b-it",
          "gemma-2-9b-it"]
runner = CliRunner()


def test_kappa_perfect_agreement():
    assert cohen_kappa(["A", "B", "tie", "A"], ["A", "B", "tie", "A"]) == 1.0


def test_kappa_chance_level_is_zero():
    # Evaluator independent of humans: each label pairing appears equally often.
    human = ["A", "A", "B", "B"]
    assert cohen_kappa(human, ["A", "B", "A", "B"]) == 0.0


def test_kappa_hand_computed():
    # po = 3/5; pe = (2*2 + 2*1 + 1*2) / 25 = 8/25; kappa = (15/25 - 8/25) / (17/25) = 7/17
    human = ["A", "A", "B", "B", "tie"]
    evaluator = ["A", "B", "B", "tie", "tie"]
    assert cohen_kappa(human, evaluator) == pytest.approx(7 / 17)


def test_kappa_systematic_disagreement_is_negative():
    assert cohen_kappa(["A", "B", "A", "B"], ["B", "A", "B", "A"]) == -1.0


def test_kappa_single_class_edge_cases():
    assert cohen_kappa(["A", "A", "A"], ["A", "A", "A"]) == 1.0
    assert math.isnan(cohen_kappa(["A", "A"], ["B", "B"])) is False  # pe = 0: kappa = po = 0
    assert cohen_kappa(["A", "A"], ["B", "B"]) == 0.0
    assert cohen_kappa(["A", "A", "A", "A"], ["A", "A", "B", "A"]) == 0.0  # one human class: pe = po's base rate


def test_invalid_counts_as_disagreement():
    assert cohen_kappa(["A", "B"], ["A", "invalid"]) < cohen_kappa(["A", "B"], ["A", "B"])
    with pytest.raises(ValueError):
        cohen_kappa(["A"], ["A", "B"])


def test_bootstrap_interval_brackets_kappa():
    human = ["A", "B", "tie", "A", "B"] * 20
    evaluator = ["A", "B", "A", "A", "tie"] * 20
    low, high = bootstrap_ci(human, evaluator, rounds=300, seed=1)
    assert low <= cohen_kappa(human, evaluator) <= high and low < high


def test_confusion_and_length_preference():
    table = confusion(["A", "B", "tie"], ["A", "invalid", "B"])
    assert table["A"]["A"] == 1 and table["B"]["invalid"] == 1 and table["tie"]["B"] == 1
    assert longer_preference(["A", "B", "tie"], [10, 10, 3], [5, 20, 4]) == 1.0


@pytest.mark.parametrize(
    "name, count, labels",
    [
        ("pandalm", 999, {"A": 422, "B": 472, "tie": 105}),
        ("faireval", 80, {"A": 41, "B": 25, "tie": 14}),
        ("llmbar-natural", 100, {"A": 42, "B": 58}),
        ("llmbar-mt-bench", 200, {"A": 101, "B": 99}),
        ("autoj", 1392, {"A": 520, "B": 499, "tie": 373}),
        ("llmeval2", 2553, {"A": 1050, "B": 1021, "tie": 482}),
        ("paper-outputs/fair-eval", 80, {"A": 25, "B": 41, "tie": 14}),
    ],
)
def test_datasets_by_name(need_data, name, count, labels):
    need_data(LABELLED[name][0])
    pairs = read_dataset(name)
    assert len(pairs) == count
    assert {label: sum(p.human == label for p in pairs) for label in labels} == labels
    assert all(isinstance(p.question, str) and isinstance(p.response_a, str) for p in pairs)  # LLMEval2 has empty queries


def test_faireval_pairs_built_from_the_upstream_files(need_data):
    need_data("faireval")
    upstream = read_dataset("faireval")
    first = upstream[0]
    assert (first.id, first.human, first.extra["model_a"]) == ("faireval-1", "A", "gpt-3.5-turbo")  # CHATGPT on line 1
    assert first.question == "How can I improve my time management skills?"
    assert first.response_a.startswith("Here are some tips to improve your time management skills")


def test_paper_items_are_the_authors_order_and_orientation(paper):
    fair = read_dataset("paper-outputs/fair-eval")
    upstream = read_dataset("faireval")
    assert [(p.response_a, p.response_b) for p in fair] == [(p.response_b, p.response_a) for p in upstream]
    assert [p.id for p in fair] == [str(i) for i in range(80)]
    panda = read_dataset("paper-outputs/pandalm-eval")
    assert len(panda) == 999 and panda[0].id == "0" and panda[0].human == "B"


@pytest.mark.parametrize("name, relative", [
    ("pandalm", "human-labels/pandalm_testset/testset-v1.json"),
    ("llmbar-natural", "human-labels/llmbar/Dataset/LLMBar/Natural/dataset.json"),
    ("autoj", "human-labels/autoj_pairwise_test/testdata_pairwise.jsonl"),
    ("llmeval2", "human-labels/llmeval2/LLMEval2_benchmark.jsonl"),
])
def test_readers_detect_each_file_format(need_data, name, relative):
    assert read_labelled(need_data(name) / relative) == read_dataset(name)


def test_pandalm_keeps_each_annotator(need_data):
    need_data("pandalm")
    first = read_dataset("pandalm")[0]
    assert len(first.annotators) == 3 and first.human == "B"


def test_hub_ids_fail_clearly_offline(monkeypatch):
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    # Both libraries read the variables once, at import, which an earlier test may have done: without these, the Hub
    # is tried for real and the test waits out its retries (20 s) before the same error.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    result = runner.invoke(app, ["agreement", "--dataset", "ma-eval/pandalm-eval", "--recorded", "x.json"])
    assert result.exit_code == 2 and "ma-eval/pandalm-eval" in result.stderr


JUDGE_TABLE = {
    "fair-eval": [0.327, 0.333, 0.257, 0.206, 0.389, 0.279],
    "pandalm-eval": [0.688, 0.613, 0.597, 0.523, 0.586, 0.595],
}


@pytest.mark.parametrize("dataset", ["fair-eval", "pandalm-eval"])
def test_judge_table_reproduced_as_the_authors_scored(paper, dataset):
    pairs = read_dataset(f"paper-outputs/{dataset}")
    files = [paper / f"paper-outputs/{dataset}/combined-scoring-10/{m}.json" for m in MODELS]
    members = recorded_labels(pairs, files, "judge", as_authors=True)
    kappas = [round(cohen_kappa([p.human for p in pairs], members[m]), 3) for m in MODELS]
    assert kappas == JUDGE_TABLE[dataset]


def test_our_parser_reads_the_texts_the_authors_could_not(paper):
    """Llama-8B and Gemma-27B on PandaLM: 3 and 6 texts the authors scored -1 parse here."""
    pairs = read_dataset("paper-outputs/pandalm-eval")
    files = [paper / f"paper-outputs/pandalm-eval/combined-scoring-10/{m}.json" for m in MODELS]
    ours = recorded_labels(pairs, files, "judge", as_authors=False)
    human = [p.human for p in pairs]
    assert all(label != "invalid" for labels in ours.values() for label in labels)
    assert round(cohen_kappa(human, ours["gpt-4o"]), 3) == 0.688
    assert round(cohen_kappa(human, ours["Meta-Llama-3.1-8B-Instruct-Turbo"]), 3) == 0.525
    assert round(cohen_kappa(human, ours["gemma-2-27b-it"]), 3) == 0.588


def test_debate_table_reproduced(paper):
    pairs = read_dataset("paper-outputs/fair-eval")
    files = [paper / f"paper-outputs/fair-eval/debate/{m}.json" for m in MODELS]
    members = recorded_labels(pairs, files, "debate", as_authors=False)
    kappas = [round(cohen_kappa([p.human for p in pairs], members[m]), 3) for m in MODELS]
    assert kappas == [0.404, 0.360, 0.292, 0.080, 0.336, 0.323]


def test_pandalm_debate_unparseable_finals(paper):
    pairs = read_dataset("paper-outputs/pandalm-eval")
    path = [paper / "paper-outputs/pandalm-eval/debate/gemma-2-27b-it.json"]
    human = [p.human for p in pairs]
    assert round(cohen_kappa(human, recorded_labels(pairs, path, "debate", as_authors=True)["gemma-2-27b-it"]), 3) == 0.605
    assert round(cohen_kappa(human, recorded_labels(pairs, path, "debate", as_authors=False)["gemma-2-27b-it"]), 3) == 0.603


def test_all_57_fair_eval_juries_match_the_authors(paper):
    pairs = read_dataset("paper-outputs/fair-eval")
    files = [paper / f"paper-outputs/fair-eval/combined-scoring-10/{m}.json" for m in MODELS]
    juries = all_juries(pairs, recorded_labels(pairs, files, "judge", as_authors=False))
    reported = json.loads((paper / "paper-outputs/reported-kappa/Fair-Eval/llms-as-a-jury.json").read_text())
    expected = {frozenset(members): round(kappa, 3) for members, kappa in reported}
    assert len(juries) == len(expected) == 57
    assert {frozenset(j["members"]): round(j["kappa"], 3) for j in juries} == expected
    assert round(juries[0]["kappa"], 3) == 0.428
    assert set(juries[0]["members"]) == {"gpt-4o-mini", "gemma-2-9b-it", "Meta-Llama-3.1-8B-Instruct-Turbo", "gemma-2-27b-it"}


def test_pandalm_juries_of_fully_parseable_judges_match(paper):
    clean = ["gpt-4o", "gpt-4o-mini", "Meta-Llama-3.1-70B-Instruct-Turbo", "gemma-2-9b-it"]
    pairs = read_dataset("paper-outputs/pandalm-eval")
    files = [paper / f"paper-outputs/pandalm-eval/combined-scoring-10/{m}.json" for m in clean]
    juries = all_juries(pairs, recorded_labels(pairs, files, "judge", as_authors=False))
    reported = json.loads((paper / "paper-outputs/reported-kappa/PandaLM-Eval/llms-as-a-jury.json").read_text())
    expected = {frozenset(m): round(k, 3) for m, k in reported if set(m) <= set(clean)}
    assert len(juries) == len(expected) == 11
    assert {frozenset(j["members"]): round(j["kappa"], 3) for j in juries} == expected


def test_cli_json_report_and_bad_recorded_file(paper, tmp_path):
    items = "paper-outputs/fair-eval"
    gpt = "paper-outputs/fair-eval/debate/gpt-4o.json"  # resolved inside the dataset
    result = runner.invoke(app, ["agreement", "--dataset", str(items), "--recorded", str(gpt), "--kind", "debate", "--json", "--bootstrap",
                                 "200"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert round(data["kappa"], 3) == 0.404 and data["n"] == 80 and data["invalid"] == 0
    assert len(data["kappa_ci"]) == 2 and 0 < data["accuracy"] < 1
    assert set(data["confusion"]) == {"A", "B", "tie"}
    short = tmp_path / "short.json"
    short.write_text(json.dumps([{"response": "x"}]))
    result = runner.invoke(app, ["agreement", "--dataset", str(items), "--recorded", str(short)])
    assert result.exit_code == 2 and "short.json" in result.stderr and "80 items" in " ".join(result.stderr.split())


def test_report_counts_invalid(paper):
    pairs = read_dataset("paper-outputs/fair-eval")[:4]
    result = report("x", pairs, ["invalid", "A", "B", "tie"], ci_rounds=0)
    assert result["invalid"] == 1 and result["n"] == 4


def test_live_agreement_with_a_scripted_judge_resumes_and_reports(fake_models, paper, tmp_path):
    from tests.fakes import ScriptedChatModel

    judge = fake_models["openai:fake"] = ScriptedChatModel(script=lambda m: "### Score Assistant A: 8/10\n### Score Assistant B: 3/10")
    items = "paper-outputs/fair-eval"
    results = tmp_path / "results.jsonl"
    args = ["agreement", "--dataset", str(items), "--limit", "4", "--model", "openai:fake", "--swap",
            "--results", str(results), "--bootstrap", "50", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["n"] == 4 and report["invalid"] == 0 and report["failed"] == 0
    assert report["position_consistency"] == 0.0  # the script prefers whatever is shown first
    assert report["tie_rate_evaluator"] == 1.0  # inconsistent under swap: every verdict is a tie
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert "config" in rows[0] and [r["human"] for r in rows[1:]] and all(len(r["raw"]) == 2 for r in rows[1:])
    calls = len(judge.calls)
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "resuming: 4 of 4" in again.stderr and len(judge.calls) == calls
    assert json.loads(again.stdout)["kappa"] == report["kappa"]
    other = runner.invoke(app, [*args[:-1], "--strategy", "direct", "--json"])
    assert other.exit_code == 2 and "another configuration" in " ".join(other.stderr.split())
    jury = runner.invoke(app, ["agreement", "--dataset", str(items), "--evaluator", "jury", "--member", "openai:fake"])
    assert jury.exit_code == 2 and "at least two --member" in jury.stderr
