"""The `fellowship` command: the Typer app, assembled from the command modules in `commands/`.

Exit codes: 0 done, 1 a runtime failure (a model call that failed after retries),
2 bad usage or input (the message names the file, line and field).
"""

from __future__ import annotations

import inspect
import os
import signal
from typing import Annotated, Optional

import typer

from fellowship.commands import agreement, attack, data, develop, evaluate, generate, loop, report

app = typer.Typer(
    help="Build preference datasets with LLM judges, juries, debates and feedback loops.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interruption: what finished is journalled, and the run says so."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def _interrupt(signum: int, frame: object) -> None:
    """Ctrl-C stops the run where it is. (asyncio's own handler cancels the main task instead, and a cancellation
    that a library swallows lets the run go on: seen once in the fault tests.)"""
    raise KeyboardInterrupt


@app.callback()
def _root(
    ctx: typer.Context,
    traces_mb: Annotated[Optional[float], typer.Option(
        "--traces-mb", min=0, envvar="FELLOWSHIP_TRACES_MB", show_default=False,
        help="Cap of the local trace file in MB (default 256; 0: no cap): past it the oldest runs are dropped, failed ones "
             "last.")] = None,
    trace_sample: Annotated[Optional[float], typer.Option(
        "--trace-sample", min=0, max=1, envvar="FELLOWSHIP_TRACE_SAMPLE", show_default=False,
        help="Share of a batch's items traced locally after its first 100 (default 0.05; 1: every item). Items outside "
             "the sample that fail are stored as a record of their error.")] = None,
) -> None:
    """Build preference datasets with LLM judges, juries, debates and feedback loops.

    Graph runs are traced to ./.fellowship/traces.sqlite (FELLOWSHIP_HOME moves it, FELLOWSHIP_LOCAL_TRACES=0 turns
    it off; see `fellowship traces`): every run of the first 100 items of a batch, then a sample (--trace-sample), and
    every failure. Every run goes to LangSmith when the LANGSMITH_* variables are set.
    """
    from fellowship.tracing.local import enable

    if traces_mb is not None:  # in the environment, so that Ray workers keep the same cap
        os.environ["FELLOWSHIP_TRACES_MB"] = str(traces_mb)
    if trace_sample is not None:
        os.environ["FELLOWSHIP_TRACE_SAMPLE"] = str(trace_sample)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _interrupt)

    if ctx.invoked_subcommand not in ("traces", "graph", "data", "reproduce", "report"):
        enable(ctx.invoked_subcommand or "")


for command in (generate.generate, generate.export, evaluate.judge, evaluate.jury, evaluate.debate, agreement.agreement, attack.attack,
                loop.refine, loop.winrate, report.report, data.reproduce, develop.step, develop.history, develop.fork):
    app.command()(command)
app.add_typer(data.data_app, name="data")
app.add_typer(develop.graph_app, name="graph")
app.add_typer(develop.traces_app, name="traces")


def _paragraphs(doc: str) -> str:
    """A docstring as help: each paragraph on one line, since Typer's rich mode keeps a paragraph's line breaks."""
    return "\n\n".join(" ".join(part.split("\n")) for part in inspect.cleandoc(doc).split("\n\n"))


for typer_app in (app, data.data_app, develop.graph_app, develop.traces_app):
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            info.help = _paragraphs(info.callback.__doc__)
    callback = typer_app.registered_callback
    if callback is not None and callback.callback is not None and callback.callback.__doc__:
        callback.help = _paragraphs(callback.callback.__doc__)


if __name__ == "__main__":  # pragma: no cover
    app()
