"""`judge`, `jury` and `debate`: one pair from flags, or a file of pairs."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from fellowship.commands.common import (
    MODELS,
    AsJson,
    Concurrency,
    Model,
    OutPath,
    Pairs,
    Question,
    RespA,
    RespB,
    Thread,
    auto_concurrency,
    check_spec,
    evaluate_pairs,
    fail,
)
from fellowship.commands.options import ConfidenceOption, JudgeModelFlags, StrategyOption, SwapOption, grouped
from fellowship.graphs.evaluate import debate_pair, judge_pair, jury_pair
from fellowship.prompts.debate import PERSONAS
from fellowship.state.debate import DebateContext
from fellowship.state.judge import JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.views.verdicts import show_debate, show_jury, show_verdict

# The defaults of the flags below are the contexts' own.
_JUDGE, _JURY, _DEBATE = JudgeContext(), JuryContext(), DebateContext()


@grouped(call=JudgeModelFlags)
def judge(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    model: Model = _JUDGE.model, strategy: StrategyOption = _JUDGE.strategy, swap: SwapOption = _JUDGE.swap,
    confidence: ConfidenceOption = _JUDGE.confidence,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None, *, call: JudgeModelFlags,
) -> None:
    """Judge which of two responses is better: one model, one of the paper's prompting strategies (LLM-as-a-Judge).

    Verdicts are A, B, tie or invalid. A reply without a readable answer gets one repair turn in the same conversation; if that fails too the verdict is [bold]invalid[/] and the raw text is kept. Scores outside the scale are invalid, never clipped. With [bold]--swap[/] and the independent strategy nothing changes: each response is scored alone.
    """
    ctx = JudgeContext(model=model, strategy=strategy, swap=swap, confidence=confidence, **call.options())
    if not thread:
        call.check(model)
    concurrency = auto_concurrency(concurrency, model, base_url=call.base_url)
    evaluate_pairs(lambda pair: judge_pair(pair, ctx, concurrency), show_verdict, question=question, a=a, b=b,
                   pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="judging",
                   graph="judge", thread=thread)


@grouped(call=JudgeModelFlags)
def jury(
    member: Annotated[list[str], typer.Option("--member", help="A jury member's model spec; repeat for each member (repeats allowed).", callback=check_spec, rich_help_panel=MODELS)],
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    strategy: StrategyOption = _JURY.strategy,
    swap: Annotated[bool, typer.Option("--swap", help="Each member judges both orders; its vote is the same winner twice, otherwise tie.")] = _JURY.swap,
    shuffle: Annotated[bool, typer.Option("--shuffle", help="Show a seeded half of the members B first, so position bias does not line up across the panel.")] = _JURY.shuffle,
    shuffle_seed: Annotated[int, typer.Option(help="Seed of --shuffle.")] = _JURY.shuffle_seed,
    confidence: ConfidenceOption = _JURY.confidence,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None, *, call: JudgeModelFlags,
) -> None:
    """Let several models judge the pair independently and concurrently; the plurality decides (LLMs-as-a-Jury).

    Each member votes A, B or tie with the judge and its strategy. When two or more labels share the top count the verdict is a tie. Invalid votes are left out of the count and reported; when every vote is invalid the verdict is [bold]invalid[/]. The scores shown are the means of the members' scores.
    """
    if len(member) < 2 and not thread:
        fail("a jury needs at least two --member options", 2)
    ctx = JuryContext(members=tuple(member), strategy=strategy, swap=swap, shuffle=shuffle, shuffle_seed=shuffle_seed,
                      confidence=confidence, **call.options())
    if not thread:
        call.check(member)
    concurrency = auto_concurrency(concurrency, member, base_url=call.base_url)
    evaluate_pairs(lambda pair: jury_pair(pair, ctx, concurrency), show_jury, question=question, a=a, b=b,
                   pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="jury",
                   graph="jury", thread=thread)


@grouped(call=JudgeModelFlags)
def debate(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    model: Model = _DEBATE.model,
    referee_model: Annotated[Optional[list[str]], typer.Option("--referee-model", help=f"One model spec per referee, in order ({', '.join(PERSONAS)}); default: --model for all.", callback=check_spec, rich_help_panel=MODELS)] = None,
    rounds: Annotated[int, typer.Option(min=0, help="Discussion rounds before the closing scores.")] = _DEBATE.rounds,
    swap: Annotated[bool, typer.Option("--swap", help="Run a second debate with B shown as Assistant 1; the same winner twice wins, otherwise tie.")] = False,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None, *, call: JudgeModelFlags,
) -> None:
    """Let three referees (General Public, Psychologist, Critic) discuss the pair, then score it each on their own (LLM Debate).

    Within a round the referees speak in that order and each sees the whole discussion so far. After the rounds every referee, concurrently, explains and scores both responses /10. Each response's score is the mean over the referees whose scores could be read (one repair turn each); the higher mean wins, equal means tie, none readable is [bold]invalid[/].
    """
    if referee_model and len(referee_model) != len(PERSONAS):
        fail(f"--referee-model must be given once per referee ({len(PERSONAS)}), or not at all", 2)
    ctx = DebateContext(model=model, referee_models=tuple(referee_model or ()), rounds=rounds, **call.options())
    if not thread:
        call.check(referee_model or model)
    concurrency = auto_concurrency(concurrency, model, referee_model, base_url=call.base_url)
    evaluate_pairs(lambda pair: debate_pair(pair, ctx, swap, concurrency), show_debate, question=question, a=a, b=b,
                   pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="debate",
                   graph="debate", thread=thread)
