"""The judge, jury and debate on the real embedded model (SmolLM2-135M via llama.cpp).

These assert structure and legality, not quality: a 135M model scores oddly.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from fellowship.fileio.pairs import Pair
from fellowship.graphs.evaluate import debate_pair, judge_pair, jury_pair
from fellowship.models import ModelSettings, load_chat_model
from fellowship.models.llamacpp import LlamaCppChat
from fellowship.state.debate import DebateContext
from fellowship.state.judge import STRATEGIES, JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.state.records import Verdict

pytestmark = pytest.mark.integration

PAIR = Pair(
    id="capital",
    question="What is the capital of France?",
    response_a="The capital of France is Paris.",
    response_b="France is a country in Europe.",
)
SETTINGS = {"max_tokens": 160}


def assert_legal(verdict: Verdict, scale: int | None) -> None:
    assert verdict.verdict in {"A", "B", "tie", "invalid"}
    assert verdict.raw and all(isinstance(t, str) for t in verdict.raw)
    assert verdict.input_tokens > 0 and verdict.output_tokens > 0
    if verdict.verdict == "invalid":
        assert verdict.error and verdict.score_a is None
    elif scale is not None:
        assert 0 <= verdict.score_a <= scale and 0 <= verdict.score_b <= scale
        expected = "A" if verdict.score_a > verdict.score_b else "B" if verdict.score_b > verdict.score_a else "tie"
        assert verdict.verdict == expected


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_each_strategy_on_the_embedded_model(strategy):
    verdict = await judge_pair(PAIR, JudgeContext(strategy=strategy, **SETTINGS))
    assert verdict.model == "local:smollm2" and verdict.strategy == strategy
    scale = None if strategy == "direct" else 10 if strategy == "independent" else int(strategy.split("-")[1])
    assert_legal(verdict, scale)
    calls = 2 if strategy == "independent" else 1
    assert calls <= len(verdict.raw) <= 2 * calls  # each conversation: one reply, plus one repair turn at most


async def test_swap_on_the_embedded_model():
    verdict = await judge_pair(PAIR, JudgeContext(swap=True, **SETTINGS))
    assert [o.order for o in verdict.orders] == ["AB", "BA"]
    assert verdict.consistent in (True, False, None)
    assert_legal(verdict, 10)


async def test_jury_of_three_embedded_models():
    verdict = await jury_pair(PAIR, JuryContext(members=("local:smollm2",) * 3, **SETTINGS))
    assert len(verdict.votes) == 3 and sum(verdict.counts.values()) == 3
    assert verdict.verdict in {"A", "B", "tie", "invalid"}
    assert verdict.invalid_votes == sum(v.verdict == "invalid" for v in verdict.votes)


async def test_one_round_debate_on_the_embedded_model():
    verdict = await debate_pair(PAIR, DebateContext(rounds=1, **SETTINGS))
    assert [t.referee for t in verdict.turns] == ["General Public", "Psychologist", "Critic"]
    assert all(t.text.strip() for t in verdict.turns)
    assert len(verdict.finals) == 3
    valid = [f for f in verdict.finals if f.error is None]
    assert verdict.invalid_finals == 3 - len(valid)
    if valid:
        assert verdict.score_a == pytest.approx(sum(f.score_a for f in valid) / len(valid))
    else:
        assert verdict.verdict == "invalid"


async def test_local_backend_is_safe_under_concurrent_calls():
    model = load_chat_model("local:smollm2", ModelSettings(max_tokens=24))
    prompt = [("user", "Name three colours.")]
    await model.ainvoke(prompt)  # from here on llama.cpp reuses the cached prompt prefix on every call
    alone = (await model.ainvoke(prompt)).text
    together = await asyncio.gather(*(model.ainvoke(prompt) for _ in range(4)))
    assert alone.strip()
    assert [m.text for m in together] == [alone] * 4  # greedy decoding: same text, no crash, no mixing


def test_each_model_file_loads_once_per_process():
    first = load_chat_model("local:smollm2", ModelSettings(max_tokens=10))
    second = load_chat_model("local:smollm2", ModelSettings(max_tokens=99, temperature=0.5))
    assert isinstance(first, LlamaCppChat) and first is not second
    assert first._engine() is second._engine()


def test_cli_judges_with_the_embedded_model():
    """The README's first command path, as a subprocess."""
    result = subprocess.run(
        [sys.executable, "-m", "fellowship.cli", "judge", "--question", PAIR.question, "--a", PAIR.response_a,
         "--b", PAIR.response_b, "--max-tokens", "160", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] in {"A", "B", "tie", "invalid"} and data["model"] == "local:smollm2"
