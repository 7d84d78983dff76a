"""`judge`, `jury` and `debate`: one pair from flags, or a file of pairs."""

from __future__ import annotations

from typing import Annotated

import typer

from fellowship.commands.common import (
    AsJson,
    Concurrency,
    OutPath,
    Pairs,
    Question,
    RespA,
    RespB,
    Thread,
    auto_concurrency,
    evaluate_pairs,
)
from fellowship.commands.costs import CostFlags, pairs_dry_run
from fellowship.commands.options import PREFLIGHT, STRATEGY_HELP, From, Preflight, check_panel, grouped
from fellowship.state.debate import DebateContext
from fellowship.state.judge import JudgeContext
from fellowship.state.jury import JuryContext
from fellowship.views.verdicts import show_debate, show_jury, show_verdict

# The options of each evaluator are its context's fields: the defaults `fellowship step` and `langgraph dev` use too.
JUDGE = From(JudgeContext, flags={"model": "--model -m"}, help=STRATEGY_HELP)
JURY = From(JuryContext, flags={"members": "--member"}, help=STRATEGY_HELP)
DEBATE = From(DebateContext, skip=("referees",), flags={"model": "--model -m", "referee_models": "--referee-model"})


@grouped(ctx=JUDGE, pre=PREFLIGHT, cost=CostFlags)
def judge(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None, *, ctx: JudgeContext, pre: Preflight,
    cost: CostFlags,
) -> None:
    """Judge which of two responses is better: one model, one of the paper's prompting strategies (LLM-as-a-Judge).

    Verdicts are A, B, tie or invalid. A reply without a readable answer gets one repair turn in the same conversation;
    if that fails too the verdict is [bold]invalid[/] and the raw text is kept. Scores outside the scale are invalid,
    never clipped. With [bold]--swap[/] and the independent strategy nothing changes: each response is scored alone.
    """
    from fellowship.graphs.evaluate import judge_pair  # LangGraph loads with the command, not with the CLI

    if not thread and not cost.dry_run:
        pre.check(ctx, ctx.model)
    concurrency = auto_concurrency(concurrency, ctx.model, base_url=ctx.base_url)
    evaluate_pairs(lambda pair: judge_pair(pair, ctx, concurrency), show_verdict, question=question, a=a, b=b,
                   pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="judging",
                   graph="judge", thread=thread, dry_run=pairs_dry_run(cost, "judge", ctx, as_json))


@grouped(ctx=JURY, pre=PREFLIGHT, cost=CostFlags)
def jury(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None, *, ctx: JuryContext, pre: Preflight,
    cost: CostFlags,
) -> None:
    """Let several models judge the pair independently and concurrently; the plurality decides (LLMs-as-a-Jury).

    Each member votes A, B or tie with the judge and its strategy. When two or more labels share the top count the
    verdict is a tie. Invalid votes are left out of the count and reported; when every vote is invalid the verdict is
    [bold]invalid[/]. The scores shown are the means of the members' scores.
    """
    from fellowship.graphs.evaluate import jury_pair

    if not thread:
        check_panel(ctx.members)
    if not thread and not cost.dry_run:
        pre.check(ctx, ctx.members)
    concurrency = auto_concurrency(concurrency, ctx.members, base_url=ctx.base_url)
    evaluate_pairs(lambda pair: jury_pair(pair, ctx, concurrency), show_jury, question=question, a=a, b=b,
                   pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="jury",
                   graph="jury", thread=thread, dry_run=pairs_dry_run(cost, "jury", ctx, as_json))


@grouped(ctx=DEBATE, pre=PREFLIGHT, cost=CostFlags)
def debate(
    question: Question = None, a: RespA = None, b: RespB = None, pairs: Pairs = None, out_path: OutPath = None,
    swap: Annotated[bool, typer.Option(
        "--swap", help="Run a second debate with B shown as Assistant 1; the same winner twice wins, otherwise tie.")] = False,
    as_json: AsJson = False, concurrency: Concurrency = None, thread: Thread = None, *, ctx: DebateContext, pre: Preflight,
    cost: CostFlags,
) -> None:
    """Let three referees (General Public, Psychologist, Critic) discuss the pair, then score it each on their own (LLM
    Debate).

    Within a round the referees speak in that order and each sees the whole discussion so far. After the rounds every
    referee, concurrently, explains and scores both responses /10. Each response's score is the mean over the referees
    whose scores could be read (one repair turn each); the higher mean wins, equal means tie, none readable is
    [bold]invalid[/].
    """
    from fellowship.graphs.evaluate import debate_pair

    if not thread:
        check_panel(referee_models=ctx.referee_models)
    if not thread and not cost.dry_run:
        pre.check(ctx, ctx.referee_models or ctx.model)
    concurrency = auto_concurrency(concurrency, ctx.model, ctx.referee_models, base_url=ctx.base_url)
    evaluate_pairs(lambda pair: debate_pair(pair, ctx, swap, concurrency), show_debate, question=question, a=a, b=b,
                   pairs=pairs, out_path=out_path, as_json=as_json, concurrency=concurrency, label="debate",
                   graph="debate", thread=thread, dry_run=pairs_dry_run(cost, "debate", ctx, as_json, swap=swap))
