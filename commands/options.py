"""Option groups shared by the commands, each option defined once.

A group is a `From` (options derived from the fields of the pydantic model they configure)
or a dataclass whose fields are Typer options (what only the CLI has: output files, the
cluster). `@grouped(ctx=From(JudgeContext))` adds the group's options to a command's
signature and hands the command one validated `JudgeContext`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Optional, TypeVar

import annotated_types
import typer
from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo

from fellowship.commands.common import CLUSTER, LOOP_PANEL, MODELS, check_spec, err, fail
from fellowship.models.settings import ModelOptions
from fellowship.prompts.debate import PERSONAS
from fellowship.state.evaluator import EvaluatorConfig
from fellowship.state.loop import LoopContext

F = TypeVar("F", bound=Callable[..., Any])

EVALUATOR = "Evaluator (knockout and win rate)"

SPECS = frozenset({"model", "members", "referee_models", "generator", "reviewers"})  # fields that hold model specs


@dataclasses.dataclass(frozen=True)
class From:
    """A group of Typer options derived from a pydantic model's fields; the command receives the model, validated.

    Each option's type, default, bounds and help are the field's own (its description is the
    help): an option is defined once, in the model it configures, so a command, `fellowship
    step` and the graphs `langgraph dev` serves cannot disagree on a default. `only`/`skip`
    choose the fields, `flags` names an option other than `--field-name` (several names
    space-separated), `help` says more where a command means more than the field, and
    `panel` is where the fields that are not model options show (model options show under
    "Model"). A tuple field is a repeatable option; unset, it keeps the model's default.
    With `given_only` every option is unset by default and the command receives a dict of
    the options given: for a command that builds several models, each with its own defaults.
    """

    model: type[BaseModel]
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    flags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    help: Mapping[str, str] = dataclasses.field(default_factory=dict)
    panel: str | None = None
    given_only: bool = False

    def fields(self) -> list[str]:
        return [name for name in self.only or tuple(self.model.model_fields) if name not in self.skip]

    def decls(self, name: str) -> list[str]:
        return self.flags.get(name, "--" + name.replace("_", "-")).split()

    def parameter(self, name: str) -> str:
        """The command's parameter for a field: its option's long name."""
        return self.decls(name)[0].lstrip("-").replace("-", "_")

    def parameters(self) -> list[inspect.Parameter]:
        return [self._parameter(name, self.model.model_fields[name]) for name in self.fields()]

    def _parameter(self, name: str, field: FieldInfo) -> inspect.Parameter:
        kind: Any = field.annotation
        default = field.get_default(call_default_factory=True)
        options: dict[str, Any] = {}
        for bound in field.metadata:
            if isinstance(bound, annotated_types.Ge):
                options["min"] = bound.ge
            elif isinstance(bound, annotated_types.Gt) and kind is int:
                options["min"] = int(bound.gt) + 1  # type: ignore[call-overload]
            elif isinstance(bound, annotated_types.Le):
                options["max"] = bound.le
            elif isinstance(bound, (annotated_types.Gt, annotated_types.Lt)):
                raise TypeError(f"{self.model.__name__}.{name}: give an option's bounds as ge/le")
        decls = self.decls(name)
        if kind is bool and default:
            decls = [f"{decls[0]}/--no-{decls[0].removeprefix('--')}", *decls[1:]]
        if typing.get_origin(kind) is tuple:
            kind, default = _optional(list.__class_getitem__(typing.get_args(kind)[0])), None
        elif type(None) in typing.get_args(kind):
            kind = _optional(next(a for a in typing.get_args(kind) if a is not type(None)))
        elif self.given_only:
            kind = _optional(kind)
        if self.given_only:
            default = None
        text = self.help.get(name) or (field.description or "").strip()
        if name == "model":
            text += " (local:smollm2 · local:PATH.gguf · openai:MODEL · hf:REPO|URL · hf-local:PATH|REPO)"
        option = typer.Option(*decls, help=text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."),
                              callback=check_spec if name in SPECS else None,
                              rich_help_panel=MODELS if name in ModelOptions.model_fields else self.panel, **options)
        return inspect.Parameter(self.parameter(name), inspect.Parameter.KEYWORD_ONLY, default=default,
                                 annotation=Annotated[kind, option])

    def build(self, values: dict[str, Any]) -> BaseModel | dict[str, Any]:
        """The model from the command's values (taking its own out of `values`), or with `given_only` the options given;
        exit 2 when they are not valid."""
        given = {name: values.pop(self.parameter(name)) for name in self.fields()}
        given = {name: tuple(value) if isinstance(value, list) else value for name, value in given.items() if value is not None}
        try:
            built = self.model(**given)
            return given if self.given_only else built
        except ValidationError as exc:
            error = exc.errors()[0]
            fail(f"{'/'.join(self.decls(str(error['loc'][0])))}: {error['msg']}" if error["loc"] else str(exc), 2)


def _optional(kind: Any) -> Any:
    """`Optional[kind]` for a type known at run time (Typer reads `X | None` only in this spelling)."""
    return typing.Union.__getitem__((kind, type(None)))


class Preflight(BaseModel):
    """--preflight/--no-preflight: every model checked once before the first item."""

    preflight: bool = Field(True, description="before the first item, check every model once: credentials, the server (one "
                                              "request to its model list), the model's name. A failure is one message, exit 2, "
                                              "nothing written")

    def check(self, options: ModelOptions, *specs: Any) -> None:
        """The preflight of these model specs (lists flattened), unless --no-preflight: exit 2 on a failure."""
        if not self.preflight:
            return
        from fellowship.models.preflight import PreflightFailed, preflight

        flat = [str(s) for spec in specs for s in (spec if isinstance(spec, (list, tuple)) else [spec]) if s]
        try:
            preflight(flat, options.base_url, options.timeout)
        except PreflightFailed as exc:
            fail(str(exc), 2)


def check_panel(members: Sequence[str] | None = None, referee_models: Sequence[str] = ()) -> None:
    """A jury (`members`) needs two members or more; referee models come one per referee, or not at all (exit 2)."""
    if members is not None and len(members) < 2:
        fail("a jury needs at least two --member options", 2)
    if referee_models and len(referee_models) != len(PERSONAS):
        fail(f"--referee-model must be given once per referee ({len(PERSONAS)}), or not at all", 2)


def check_evaluator(config: EvaluatorConfig) -> EvaluatorConfig:
    """The evaluator, once its panel is checked (exit 2)."""
    check_panel(config.members if config.kind == "jury" else None, config.referee_models)
    return config


PANEL_NAMES = {"members": "--member", "referee_models": "--referee-model", "reviewers": "--reviewer"}
STRATEGY_HELP = {"strategy": "the judge's (and jurors') prompting strategy: direct: A/B/tie · independent: each response scored /10 "
                             "alone · combined-N: both scored /N in one call"}

# The evaluator of the loop's knockout, generate's comparisons and win rates: beside the candidates'
# model options, so its budget and temperature have flags of their own.
EVALUATOR_FLAGS = From(EvaluatorConfig, only=("kind", "model", "members", "referee_models", "strategy", "swap", "rounds",
                                              "fixed_order", "confidence", "max_tokens", "temperature"),
                       flags={**PANEL_NAMES, "kind": "--evaluator", "model": "--judge-model", "max_tokens": "--judge-max-tokens",
                              "temperature": "--judge-temperature"},
                       help={**STRATEGY_HELP, "kind": "who picks the best response and compares answers",
                             "temperature": "the evaluator's sampling temperature (the paper judged at 0), apart from --temperature",
                             "max_tokens": "most tokens the evaluator (judge, jurors, referees) may write per reply: room for a "
                                           "full judgement, apart from --max-tokens"},
                       panel=EVALUATOR)


def evaluator_for(judging: EvaluatorConfig, call: ModelOptions) -> EvaluatorConfig:
    """The evaluator with the run's shared model options, but its own budget and temperature (exit 2 on a bad panel)."""
    check_evaluator(judging)
    shared = {k: v for k, v in call.options().items() if k not in ("max_tokens", "temperature")}
    return judging.model_copy(update=shared)


# An evaluator on its own (agreement, attack): every model option is its own.
LIVE_EVALUATOR = From(EvaluatorConfig, skip=("fixed_order", "confidence"),
                      flags={**PANEL_NAMES, "kind": "--evaluator", "model": "--model -m"}, help=STRATEGY_HELP)

LOOP_FLAGS = From(LoopContext, skip=("evaluator",), flags=PANEL_NAMES, panel=LOOP_PANEL)


@dataclasses.dataclass(frozen=True)
class ClusterFlags:
    """--ray and --workers: run the items on a Ray cluster."""

    ray: Annotated[Optional[str], typer.Option(
        "--ray", metavar="ADDRESS",
        help="Run the items on a Ray cluster: local (a Ray instance started here), auto (the cluster this machine belongs to), "
             "HOST:PORT or ray://HOST:PORT. Needs pip install 'fellowship[ray]'.",
        rich_help_panel=CLUSTER)] = None
    workers: Annotated[Optional[int], typer.Option(
        "--workers", min=1,
        help="With --ray: worker processes (Ray actors), each running --max-concurrency items at once. Default: the cluster's "
             "CPUs.",
        rich_help_panel=CLUSTER)] = None

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


MODEL_OPTIONS = From(ModelOptions)
PREFLIGHT = From(Preflight)


def grouped(**groups: type[Any] | From) -> Callable[[F], F]:
    """Add each group's options to the command; the command receives one value per group, by keyword."""

    def parameters(group: type[Any] | From) -> list[inspect.Parameter]:
        if isinstance(group, From):
            return group.parameters()
        hints = typing.get_type_hints(group, include_extras=True)
        return [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name])
                for f in dataclasses.fields(group)]

    def value(group: type[Any] | From, values: dict[str, Any]) -> Any:
        if isinstance(group, From):
            return group.build(values)
        return group(**{f.name: values.pop(f.name) for f in dataclasses.fields(group)})

    def wrap(command: F) -> F:
        hints = typing.get_type_hints(command, include_extras=True)
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name])
               for p in inspect.signature(command).parameters.values() if p.name not in groups]
        params = own + [p for group in groups.values() for p in parameters(group)]
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise TypeError(f"{command.__name__}: an option of a group has the name of another option")

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            for name, group in groups.items():
                values[name] = value(group, values)
            return command(**values)

        setattr(run, "__signature__", inspect.Signature(params))  # what Typer reads, through inspect.signature
        run.__annotations__ = {p.name: p.annotation for p in params}
        return typing.cast(F, run)

    return wrap
