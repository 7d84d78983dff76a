"""The batch runner: results in item order, failures per item, and only `concurrency` items held at once."""

from __future__ import annotations

import asyncio

from fellowship.runs.batch import ItemFailure, run_all
from fellowship.runs.journal import Journal
from fellowship.runs.runner import Batch


async def test_results_in_item_order_failures_recorded_and_a_bounded_window():
    in_flight, most, tasks = 0, 0, 0

    async def job(n: int) -> int:
        nonlocal in_flight, most, tasks
        in_flight += 1
        most = max(most, in_flight)
        tasks = max(tasks, len(asyncio.all_tasks()))
        await asyncio.sleep(0.001 * (n % 3))  # finishing out of order
        in_flight -= 1
        if n == 7:
            raise ValueError("seven")
        return n * 10

    done: list[int] = []
    results = await run_all(range(2000), job, concurrency=4, on_done=lambda i, r: done.append(i))
    assert [r for r in results if not isinstance(r, ItemFailure)] == [n * 10 for n in range(2000) if n != 7]
    assert isinstance(results[7], ItemFailure) and "seven" in str(results[7]) and results[7].index == 7
    assert most == 4 and sorted(done) == list(range(2000))
    assert tasks <= 4 + 1  # the workers and the test's own task: not one task per item


async def test_a_journalled_batch_skips_what_the_journal_holds_and_redoes_a_changed_item(tmp_path):
    from pydantic import BaseModel

    class Item(BaseModel):
        id: str
        text: str

    calls: list[str] = []

    async def job(item: Item) -> dict[str, str]:
        calls.append(item.id)
        return {"answer": item.text.upper()}

    items = [Item(id=str(n), text=f"t{n}") for n in range(5)]
    journal = Journal(tmp_path / "j.jsonl", {"v": 1})
    ids = await Batch("test", 2).journalled(items, job, journal, key=lambda item: {"id": item.id})
    rows = list(journal.rows(ids))
    journal.close()
    assert [r["answer"] for r in rows] == ["T0", "T1", "T2", "T3", "T4"] and sorted(calls) == ["0", "1", "2", "3", "4"]
    calls.clear()
    items[2] = Item(id="2", text="changed")
    journal = Journal(tmp_path / "j.jsonl", {"v": 1})
    rows = list(journal.rows(await Batch("test", 2).journalled(items, job, journal, key=lambda item: {"id": item.id})))
    journal.close()
    assert calls == ["2"] and rows[2]["answer"] == "CHANGED" and len(rows) == 5


def test_a_prompt_hashes_as_its_id_and_text_did_when_it_was_a_pydantic_model():
    """Results files of win-rate runs record each prompt's hash: a prompt keeps the one it had (its place aside)."""
    from fellowship.fileio.prompts import PromptItem
    from fellowship.runs.journal import input_hash
    from fellowship.runs.runner import hash_of

    # What PromptItem(id="7", prompt=...).model_dump_json() wrote before prompts were dataclasses.
    before = input_hash('{"id":"7","prompt":"Héllo \\"you\\"\\n\\u0000 ✓"}')
    assert hash_of(PromptItem("7", 'Héllo "you"\n\x00 ✓', 41)) == hash_of(PromptItem("7", 'Héllo "you"\n\x00 ✓')) == before
    assert hash_of(PromptItem("7", "Hello")) != hash_of(PromptItem("8", "Hello"))


async def test_a_batch_runs_with_what_it_started_with_frozen_and_unfreezes_it():
    import gc

    seen: list[int] = []

    async def job(n: int) -> int:
        seen.append(gc.get_freeze_count())
        return n

    await Batch("test", 2)._run(range(3), job, lambda i, r: None)
    # During the batch, what existed at its start (this test's modules among it) is out of the collector's walks.
    assert len(seen) == 3 and all(frozen > 10_000 for frozen in seen)
    assert gc.get_freeze_count() == 0
