"""What a `generate` run will ask of its models, before any is called: calls, tokens and dollars per role.

Each prompt's calls are laid out as the graphs make them (sources, review rounds, revisions,
knockout bouts, comparisons, the evaluator's orders, votes and debate turns), and each call's
messages are built by the same functions the nodes use, with every text a model would write
left empty: that is the fixed part of its input, counted with the model's own tokenizer.
What models write and other calls read (responses, reviews, debate turns) adds up to their
budgets on top, so input tokens are a range; so are output tokens (up to each call's budget)
and the calls themselves (repair turns, early stops, comparisons spared for identical or
degenerate answers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from fellowship.fileio.pairs import Pair
from fellowship.fileio.prompts import PromptItem
from fellowship.models.prices import Prices
from fellowship.models.tokens import Tokenizer, tokenizer_for
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.generate import GenerateContext


@dataclass(frozen=True)
class Call:
    """One model call of the plan: the fixed tokens of its input, the most its embedded texts can add, its output budget;
    `repair` for the turn that follows a reply that could not be read (made only then)."""

    role: str
    model: str
    fixed: int
    embedded: int
    budget: int
    repair: bool = False


@dataclass
class RoleEstimate:
    """Sums over a role's calls: planned calls and repair turns; input tokens from the fixed parts of the planned calls
    to every call at full budgets; output tokens up to the budgets; dollars likewise."""

    calls: int = 0
    repairs: int = 0
    input_low: int = 0
    input_high: int = 0
    output_high: int = 0
    dollars_low: float = 0.0
    dollars_high: float = 0.0

    def add(self, other: RoleEstimate) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def plain(self, priced: bool) -> dict[str, Any]:
        return {"calls": self.calls, "repairs_up_to": self.repairs, "input_tokens": [self.input_low, self.input_high],
                "output_tokens_up_to": self.output_high,
                "dollars": [round(self.dollars_low, 6), round(self.dollars_high, 6)] if priced else None}


# -- the calls of one prompt ----------------------------------------------------------------------------------------


Answers = int | tuple[str, str]  # the budget of answers yet to be written, or the two texts of a pair


def _texts(answers: Answers) -> tuple[tuple[str, str], int]:
    """The pair's texts (empty for answers yet to be written) and the tokens those may still add to each."""
    return (answers, 0) if isinstance(answers, tuple) else (("", ""), answers)


class Planner:
    """Lays out an evaluator's calls on one pair; `count(spec, messages)` counts a call's fixed input."""

    def __init__(self, count: Callable[[str, Sequence[BaseMessage]], int]) -> None:
        self.count = count

    def evaluation(self, question: str, config: EvaluatorConfig, answers: Answers) -> Iterator[Call]:
        """The evaluator's calls on one pair: its two texts, or answers yet to be written, of up to `answers` tokens each."""
        if config.kind == "debate":
            yield from self.debate(question, config, answers)
            return
        for member in config.specs():
            yield from self.judge(question, config, member, answers)

    def judge(self, question: str, config: EvaluatorConfig, model: str, answers: Answers) -> Iterator[Call]:
        from fellowship.nodes.judge import judge_messages
        from fellowship.state.judge import CallTask

        (a, b), unwritten = _texts(answers)
        parts = [("AB", "A", a, ""), ("AB", "B", b, "")] if config.strategy == "independent" else [("AB", "pair", a, b)]
        if config.swap and config.strategy != "independent":
            parts.append(("BA", "pair", b, a))
        for order, part, first, second in parts:
            task = CallTask(question=question, order=order, part=part, first=first, second=second, quoted=[])  # type: ignore[typeddict-item]
            messages, _, repair, _ = judge_messages(config.strategy, task, config.guard)
            embedded = unwritten * (1 if part != "pair" else 2)
            yield Call("evaluator", model, self.count(model, messages), embedded, config.max_tokens)
            again = [*messages, AIMessage(""), HumanMessage(repair)]
            yield Call("evaluator", model, self.count(model, again), embedded + config.max_tokens, config.max_tokens, True)

    def debate(self, question: str, config: EvaluatorConfig, answers: Answers) -> Iterator[Call]:
        from fellowship.nodes.debate import referee_messages
        from fellowship.prompts import debate as p
        from fellowship.state.debate import DebateState
        from fellowship.state.records import Turn

        ctx = config.debate_context()
        (a, b), unwritten = _texts(answers)
        for state in [DebateState(question=question, response_a=x, response_b=y) for x, y in [(a, b), (b, a)][:1 + config.swap]]:
            turns: list[Turn] = []
            for round_ in range(1, ctx.rounds + 1):
                for seat, referee in enumerate(ctx.referees):
                    model = ctx.model_of(seat)
                    messages = referee_messages(ctx, seat, state, turns, p.TURN.format(round=round_, rounds=ctx.rounds))
                    embedded = 2 * unwritten + len(turns) * ctx.max_tokens
                    yield Call("evaluator", model, self.count(model, messages), embedded, ctx.max_tokens)
                    turns.append(Turn(referee=referee, model=model, round=round_, text=""))
            for seat in range(len(ctx.referees)):
                model = ctx.model_of(seat)
                messages = referee_messages(ctx, seat, state, turns, p.FINAL)
                embedded = 2 * unwritten + len(turns) * ctx.max_tokens
                yield Call("evaluator", model, self.count(model, messages), embedded, ctx.max_tokens)
                again = [*messages, AIMessage(""), HumanMessage(p.FINAL_REPAIR)]
                yield Call("evaluator", model, self.count(model, again), embedded + ctx.max_tokens, ctx.max_tokens, True)


class GenerationPlanner(Planner):
    """Lays out the calls of `generate` for one prompt."""

    def __init__(self, ctx: GenerateContext, count: Callable[[str, Sequence[BaseMessage]], int]) -> None:
        super().__init__(count)
        self.ctx = ctx

    def calls(self, prompt: str) -> Iterator[Call]:
        """Every call one prompt can make, repair turns included (spared comparisons are not foreseen)."""
        ctx = self.ctx
        for source in ctx.candidates:
            if source.kind == "single":
                yield Call("candidate", source.models[0], self.count(source.models[0], [HumanMessage(prompt)]), 0, ctx.max_tokens)
            else:
                yield from self.loop(prompt, source.models[0], source.models[1:])
        n = len(ctx.candidates)
        comparisons = n * (n - 1) // 2 if ctx.pairing == "all" else n - 1
        for _ in range(comparisons):
            yield from self.evaluation(prompt, ctx.evaluator, ctx.max_tokens)

    def loop(self, prompt: str, generator: str, reviewers: Sequence[str]) -> Iterator[Call]:
        """A loop's drafts, reviews and revisions (every iteration: `generate` has no early stop), then its knockout."""
        from fellowship.nodes.loop import feedback_message, review_request
        from fellowship.prompts import loop as p
        from fellowship.prompts.fencing import with_rule
        from fellowship.state.records import Review

        ctx = self.ctx
        conversation: list[BaseMessage] = [HumanMessage(prompt)]
        yield Call("generator", generator, self.count(generator, conversation), 0, ctx.max_tokens)
        reviewer_talks: list[list[BaseMessage]] = [[] for _ in reviewers]
        for iteration in range(1, ctx.iterations):
            for seat, spec in enumerate(reviewers):
                request, _ = review_request(prompt, "", bool(reviewer_talks[seat]), ctx.guard)
                talk = reviewer_talks[seat] or [SystemMessage(with_rule(p.REVIEWER_SYSTEM, ctx.guard, "response", request))]
                talk = [*talk, HumanMessage(request)]
                # the responses so far, this reviewer's earlier reviews, and any earlier repair turn with its reply
                repair_turn = self.count(spec, [HumanMessage(p.REVIEW_REPAIR)]) + ctx.review_max_tokens
                embedded = ctx.max_tokens * iteration + (ctx.review_max_tokens + repair_turn) * (iteration - 1)
                yield Call("reviewer", spec, self.count(spec, talk), embedded, ctx.review_max_tokens)
                repair = [*talk, AIMessage(""), HumanMessage(p.REVIEW_REPAIR)]
                yield Call("reviewer", spec, self.count(spec, repair), embedded + ctx.review_max_tokens, ctx.review_max_tokens, True)
                reviewer_talks[seat] = [*talk, AIMessage("")]
            reviews = [Review(iteration=iteration, reviewer=spec, seat=seat, score=0) for seat, spec in enumerate(reviewers)]
            conversation = [*conversation, AIMessage(""), HumanMessage(feedback_message(reviews, ctx.guard, prompt))]
            embedded = ctx.max_tokens * iteration + ctx.review_max_tokens * len(reviewers) * iteration
            yield Call("generator", generator, self.count(generator, conversation), embedded, ctx.max_tokens)
        for _ in range(ctx.iterations - 1):
            yield from self.evaluation(prompt, ctx.evaluator, ctx.max_tokens)


# -- the estimate -----------------------------------------------------------------------------------------------------


def _summed(noun: str, count: int, calls: Iterable[Call], counters: dict[str, Tokenizer], prices: Prices) -> dict[str, Any]:
    """Calls, input and output tokens and dollars per role and in all, over the `calls` planned for `count` items."""
    roles: dict[str, RoleEstimate] = {}
    for call in calls:
        role = roles.setdefault(call.role, RoleEstimate())
        price = prices.of(call.model)
        planned = 0 if call.repair else 1
        role.add(RoleEstimate(
            calls=planned, repairs=1 - planned, input_low=planned * call.fixed, input_high=call.fixed + call.embedded,
            output_high=call.budget, dollars_low=price.of(planned * call.fixed, 0) if price else 0.0,
            dollars_high=price.of(call.fixed + call.embedded, call.budget) if price else 0.0))
    total = RoleEstimate()
    for role in roles.values():
        total.add(role)
    unpriced = prices.unknown(list(counters))
    return {"items": count, "noun": noun, "by_role": {name: e.plain(not unpriced) for name, e in roles.items()},
            "total": total.plain(not unpriced), "unpriced_models": unpriced,
            "tokenizers": {spec: t.how for spec, t in counters.items()},
            "exact_tokenizers": all(t.exact for t in counters.values())}


def _counters(specs: Iterable[str], base_url: str | None, named: dict[str, str] | None) -> dict[str, Tokenizer]:
    return {spec: tokenizer_for(spec, base_url, (named or {}).get(spec)) for spec in dict.fromkeys(specs)}


def estimate(items: Sequence[PromptItem], ctx: GenerateContext, prices: Prices,
             named: dict[str, str] | None = None) -> dict[str, Any]:
    """What `generate` will ask on these prompts (`named`: --tokenizer's sources by model spec)."""
    counters = _counters([*(m for c in ctx.candidates for m in c.models), *ctx.evaluator.specs()], ctx.base_url, named)
    planner = GenerationPlanner(ctx, lambda spec, messages: counters[spec].count(messages))
    return _summed("prompts", len(items), (call for item in items for call in planner.calls(item.prompt)), counters, prices)


def estimate_pairs(pairs: Sequence[Pair], config: EvaluatorConfig, prices: Prices,
                   named: dict[str, str] | None = None) -> dict[str, Any]:
    """What an evaluator will ask on these pairs, their texts counted in (`judge`, `jury`, `debate`, `agreement`)."""
    counters = _counters(config.specs(), config.base_url, named)
    planner = Planner(lambda spec, messages: counters[spec].count(messages))
    calls = (call for pair in pairs for call in planner.evaluation(pair.question, config, (pair.response_a, pair.response_b)))
    return _summed("pairs", len(pairs), calls, counters, prices)
