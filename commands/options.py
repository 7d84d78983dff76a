"""Option groups shared by the commands: each option is defined once, here, with its default.

A group is a dataclass whose fields are Typer options. `@grouped(call=ModelFlags)` adds
the group's options to a command's signature and hands the command one `ModelFlags`
value. A renamed field breaks at once, in the type checker and in the command that reads it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, Optional, TypeVar

import typer

from fellowship.commands.common import CLUSTER, LOOP_PANEL, MODELS, check_spec, err, fail
from fellowship.models.constraints import ConstraintChoice
from fellowship.models.settings import JUDGE_MAX_TOKENS, ModelOptions
from fellowship.prompts.debate import PERSONAS
from fellowship.state.evaluator import EvaluatorConfig, EvaluatorKind
from fellowship.state.judge import Strategy
from fellowship.state.loop import LoopContext

F = TypeVar("F", bound=Callable[..., Any])

EVALUATOR = "Evaluator (knockout and win rate)"

StrategyOption = Annotated[Strategy, typer.Option("--strategy", help="direct: A/B/tie · independent: each response scored /10 alone · combined-N: both scored /N in one call.")]
SwapOption = Annotated[bool, typer.Option("--swap", help="Judge both presentation orders; the same winner twice wins, otherwise tie.")]
CONFIDENCE_HELP = "Judge and jury: ask for token log-probabilities and record each verdict's probability (`confidence`; in datasets provenance.confidence, filtered by --min-confidence). OpenAI, vLLM and llama.cpp's servers return them (llama-cpp-python's server with --logits_all true); the embedded model computes them at some cost per prompt token. Where a backend returns none, a note says so once and confidence is null."
ConfidenceOption = Annotated[bool, typer.Option("--confidence", help=CONFIDENCE_HELP)]


_DEFAULTS = ModelOptions()


@dataclasses.dataclass(frozen=True)
class ModelFlags:
    """--temperature, --max-tokens, --seed, --timeout, --base-url, --constrain, --constrained, --guard/--no-guard, --preflight/--no-preflight."""

    temperature: Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling temperature (0 = greedy).", rich_help_panel=MODELS)] = _DEFAULTS.temperature
    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens a model may write per reply.", rich_help_panel=MODELS)] = _DEFAULTS.max_tokens
    seed: Annotated[Optional[int], typer.Option(help="Sampling seed, where the backend takes one.", rich_help_panel=MODELS)] = _DEFAULTS.seed
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per remote request; 429, 5xx and timeouts are retried with backoff.", rich_help_panel=MODELS)] = _DEFAULTS.timeout
    base_url: Annotated[Optional[str], typer.Option(help="Base URL of an OpenAI-compatible server for openai: specs (default: OPENAI_BASE_URL).", rich_help_panel=MODELS)] = _DEFAULTS.base_url
    constrain: Annotated[ConstraintChoice, typer.Option(help="How answers are held to their format: auto (per backend: grammar for llama.cpp, structured outputs for vLLM, JSON schema for OpenAI and others) · gbnf · vllm · json-schema · off (a plain repair turn).", rich_help_panel=MODELS)] = _DEFAULTS.constrain
    constrained: Annotated[bool, typer.Option("--constrained", help="Hold the first reply of every judgement and review to its format too (an explanation, then the score lines), not only the repair turn.", rich_help_panel=MODELS)] = _DEFAULTS.constrained
    guard: Annotated[bool, typer.Option("--guard/--no-guard", help="Defend evaluators and reviewers against text aimed at them (fenced responses, neutralised injections, the evaluator's own last answer, degenerate responses ruled out). --no-guard shows responses as they are.", rich_help_panel=MODELS)] = _DEFAULTS.guard

    preflight: Annotated[bool, typer.Option("--preflight/--no-preflight", help="Before the first item, check every model once: credentials, the server (one request to its model list), the model's name. A failure is one message, exit 2, nothing written.", rich_help_panel=MODELS)] = True

    def options(self) -> dict[str, Any]:
        """The fields of `ModelOptions`, for any run context."""
        return {name: value for name, value in dataclasses.asdict(self).items() if name in ModelOptions.model_fields}

    def check(self, *specs: Any) -> None:
        """The preflight of these model specs (lists flattened), unless --no-preflight: exit 2 on a failure."""
        if not self.preflight:
            return
        from fellowship.models.preflight import PreflightFailed, preflight

        flat = [str(s) for spec in specs for s in (spec if isinstance(spec, (list, tuple)) else [spec]) if s]
        try:
            preflight(flat, self.base_url, self.timeout)
        except PreflightFailed as exc:
            fail(str(exc), 2)


@dataclasses.dataclass(frozen=True)
class JudgeModelFlags(ModelFlags):
    """The model options of the evaluator commands: room for a whole judgement by default."""

    max_tokens: Annotated[int, typer.Option(min=1, help="Most tokens a model may write per reply.", rich_help_panel=MODELS)] = JUDGE_MAX_TOKENS


_EVALUATOR = EvaluatorConfig()


def check_panel(kind: EvaluatorKind, members: list[str] | None, referees: list[str] | None) -> None:
    """A jury needs two members or more; referee models come one per referee, or not at all (exit 2)."""
    if kind == "jury" and (not members or len(members) < 2):
        fail("--evaluator jury needs at least two --member options", 2)
    if referees and len(referees) != len(PERSONAS):
        fail(f"--referee-model must be given once per referee ({len(PERSONAS)}), or not at all", 2)


@dataclasses.dataclass(frozen=True)
class EvaluatorFlags:
    """Who picks the loop's best response and compares answers: --evaluator and its models and budget."""

    evaluator: Annotated[EvaluatorKind, typer.Option("--evaluator", help="Who picks the best response and compares with the baseline.", rich_help_panel=EVALUATOR)] = _EVALUATOR.kind
    judge_model: Annotated[str, typer.Option("--judge-model", help="The judge's (or all referees') model spec.", callback=check_spec, rich_help_panel=EVALUATOR)] = _EVALUATOR.model
    member: Annotated[Optional[list[str]], typer.Option("--member", help="With --evaluator jury: a member's spec (repeat).", callback=check_spec, rich_help_panel=EVALUATOR)] = None
    referee_model: Annotated[Optional[list[str]], typer.Option("--referee-model", help="With --evaluator debate: one spec per referee.", callback=check_spec, rich_help_panel=EVALUATOR)] = None
    strategy: Annotated[Strategy, typer.Option("--strategy", help="The judge's (and jurors') strategy.", rich_help_panel=EVALUATOR)] = _EVALUATOR.strategy
    swap: Annotated[bool, typer.Option("--swap", help="The evaluator judges both orders (same winner twice, else tie).", rich_help_panel=EVALUATOR)] = _EVALUATOR.swap
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="With --evaluator debate: discussion rounds.", rich_help_panel=EVALUATOR)] = _EVALUATOR.rounds
    fixed_order: Annotated[bool, typer.Option("--fixed-order", help="Show the first source (the best so far, the loop's answer) first in every comparison. Default: which answer is shown first is drawn per comparison from --seed (reproducible, recorded as `flipped`), so an evaluator's position bias favours no source.", rich_help_panel=EVALUATOR)] = _EVALUATOR.fixed_order
    confidence: Annotated[bool, typer.Option("--confidence", help=CONFIDENCE_HELP, rich_help_panel=EVALUATOR)] = _EVALUATOR.confidence
    judge_max_tokens: Annotated[int, typer.Option("--judge-max-tokens", min=1, help="Most tokens the evaluator (judge, jurors, referees) may write per reply: room for a full judgement, apart from --max-tokens.", rich_help_panel=EVALUATOR)] = _EVALUATOR.max_tokens
    judge_temperature: Annotated[float, typer.Option("--judge-temperature", min=0.0, max=2.0, help="The evaluator's sampling temperature (the paper judged at 0), apart from --temperature.", rich_help_panel=EVALUATOR)] = _EVALUATOR.temperature

    def specs(self) -> list[str]:
        return [self.judge_model, *(self.member or ()), *(self.referee_model or ())]

    def config(self, call: ModelFlags) -> EvaluatorConfig:
        """The evaluator, with the shared model options but its own budget and temperature (exit 2 on a bad panel)."""
        check_panel(self.evaluator, self.member, self.referee_model)
        return EvaluatorConfig(kind=self.evaluator, model=self.judge_model, members=tuple(self.member or ()),
                               referee_models=tuple(self.referee_model or ()), strategy=self.strategy,
                               swap=self.swap, rounds=self.rounds, fixed_order=self.fixed_order, confidence=self.confidence,
                               **{**call.options(), "max_tokens": self.judge_max_tokens, "temperature": self.judge_temperature})


_LOOP = LoopContext()


@dataclasses.dataclass(frozen=True)
class LoopFlags:
    """The feedback loop: its generator, reviewers, iterations, early stop and review budget."""

    generator: Annotated[str, typer.Option("--generator", help="The generator's model spec.", callback=check_spec, rich_help_panel=LOOP_PANEL)] = _LOOP.generator
    reviewer: Annotated[Optional[list[str]], typer.Option("--reviewer", help="A reviewer's model spec; repeat for several (default: one local:smollm2).", callback=check_spec, rich_help_panel=LOOP_PANEL)] = None
    iterations: Annotated[int, typer.Option(min=1, help="Responses the generator writes (the paper's 3).", rich_help_panel=LOOP_PANEL)] = _LOOP.iterations
    stop_at: Annotated[Optional[float], typer.Option(min=0, max=10, help="Stop early once every reviewer scores the latest response at or above this (off by default).", rich_help_panel=LOOP_PANEL)] = _LOOP.stop_at
    review_max_tokens: Annotated[int, typer.Option("--review-max-tokens", min=1, help="Most tokens a reviewer may write per review, apart from --max-tokens.", rich_help_panel=LOOP_PANEL)] = _LOOP.review_max_tokens

    def specs(self) -> list[str]:
        return [self.generator, *(self.reviewer or ())]

    def context(self, call: ModelFlags, evaluator: EvaluatorConfig) -> LoopContext:
        return LoopContext(generator=self.generator, reviewers=tuple(self.reviewer or _LOOP.reviewers), iterations=self.iterations,
                           stop_at=self.stop_at, review_max_tokens=self.review_max_tokens, evaluator=evaluator, **call.options())


@dataclasses.dataclass(frozen=True)
class ClusterFlags:
    """--ray and --workers: run the items on a Ray cluster."""

    ray: Annotated[Optional[str], typer.Option("--ray", metavar="ADDRESS", help="Run the items on a Ray cluster: local (a Ray instance started here), auto (the cluster this machine belongs to), HOST:PORT or ray://HOST:PORT. Needs pip install 'fellowship[ray]'.", rich_help_panel=CLUSTER)] = None
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="With --ray: worker processes (Ray actors), each running --max-concurrency items at once. Default: the cluster's CPUs.", rich_help_panel=CLUSTER)] = None

    def join(self) -> int | None:
        """Join the cluster (exit 2 without Ray or a cluster); the number of workers, or None to run here."""
        if self.ray is None:
            if self.workers is not None:
                fail("--workers goes with --ray", 2)
            return None
        from fellowship.runs.cluster import ClusterUnavailable, join

        try:
            count, cpus = join(self.ray, self.workers)
        except ClusterUnavailable as exc:
            fail(str(exc), 2)
        err.print(f"ray: {count} workers on a cluster of {cpus} CPUs ({self.ray})", highlight=False)
        return count


def grouped(**groups: type[Any]) -> Callable[[F], F]:
    """Add each group's options to the command; the command receives one instance per group, by keyword."""

    def wrap(command: F) -> F:
        hints = typing.get_type_hints(command, include_extras=True)
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name])
               for p in inspect.signature(command).parameters.values() if p.name not in groups]
        added = []
        for group in groups.values():
            group_hints = typing.get_type_hints(group, include_extras=True)
            added += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=group_hints[f.name])
                      for f in dataclasses.fields(group)]
        names = [p.name for p in own + added]
        if len(set(names)) != len(names):
            raise TypeError(f"{command.__name__}: an option of a group has the name of another option")

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            for name, group in groups.items():
                values[name] = group(**{f.name: values.pop(f.name) for f in dataclasses.fields(group)})
            return command(**values)

        params = own + added
        setattr(run, "__signature__", inspect.Signature(params))  # what Typer reads, through inspect.signature
        run.__annotations__ = {p.name: p.annotation for p in params}
        return typing.cast(F, run)

    return wrap
