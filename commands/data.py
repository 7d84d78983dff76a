"""`data list`, `data fetch` and `reproduce`: third-party data by name, and the paper's numbers from it."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.table import Table

from fellowship.commands.common import err, fail, out

data_app = typer.Typer(help="Third-party evaluation data by name: list, fetch (pinned, verified, cached).", no_args_is_help=True)


@data_app.command("list")
def list_data(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per dataset.")] = False) -> None:
    """Every dataset the project knows: where it is found here (mirror, cache or missing), its origin, size and licence.

    A mirror named by FELLOWSHIP_DATA is read first; the cache is FELLOWSHIP_DATA_CACHE, else
    $XDG_CACHE_HOME/fellowship/data.
    """
    from fellowship.data.catalogue import catalogue
    from fellowship.data.store import cache_root, mirror_root, status

    datasets = list(catalogue().values())
    if as_json:
        for d in datasets:
            print(json.dumps({"name": d.name, "status": status(d.name), "kind": d.kind, "files": len(d.files),
                              "mb": round(d.size / 1e6, 1), "origin": f"{d.repo}@{d.commit[:7]}", "license": d.license,
                              "title": d.title}))
        return
    table = Table("name", "status", "MB", "licence", "origin (repository@commit)", box=None, header_style="bold")
    for d in datasets:
        table.add_row(d.name, status(d.name), f"{d.size / 1e6:.1f}", d.license, f"{d.repo}@{d.commit[:7]}")
    out.print(table)
    out.print(f"mirror: {mirror_root() or '(FELLOWSHIP_DATA not set)'} · cache: {cache_root()}")


@data_app.command("fetch")
def fetch_data(
    names: Annotated[list[str], typer.Argument(help="Dataset names (see `fellowship data list`), or all.")],
    force: Annotated[bool, typer.Option("--force", help="Download even what the mirror or the cache already holds.")] = False,
) -> None:
    """Download datasets from their origin at the pinned commit, check every file's sha256, and store them in the cache.

    Files are verified before anything is stored; a failed or corrupt download caches nothing. Datasets another needs
    (paper-outputs needs pandalm and faireval) come along.
    """
    from fellowship.data.catalogue import catalogue
    from fellowship.data.store import FetchError, fetch, status

    known = catalogue()
    wanted = list(known) if names == ["all"] else names
    unknown = [n for n in wanted if n not in known]
    if unknown:
        fail(f"unknown dataset {', '.join(unknown)} (known: {', '.join(known)}, or all)", 2)
    for name in wanted:
        if not force and status(name) != "missing":
            err.print(f"{name}: already here ({status(name)})", highlight=False)
            continue
        entry = known[name]
        err.print(f"{name}: {len(entry.files)} files, {entry.size / 1e6:.1f} MB from {entry.repo}@{entry.commit[:7]}", highlight=False)
        try:
            root = fetch(name, progress=lambda f: err.print(f"  ✓ {f.local}", highlight=False))
        except FetchError as exc:
            fail(str(exc), 1)
        err.print(f"{name}: stored in {root}", highlight=False)


class TableName(str, Enum):
    judge = "judge"
    debate = "debate"
    jury = "jury"
    winrate = "winrate"
    all = "all"


def reproduce(
    table: Annotated[TableName, typer.Option("--table", help="Which of the paper's tables.")] = TableName.all,
    as_authors: Annotated[bool, typer.Option(
        "--as-authors",
        help="Score the texts the authors could not parse as they did (-1 scores; unreadable debate finals as 0/0).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per number, then a summary.")] = False,
    show: Annotated[Optional[str], typer.Option("--show", help="Only the rows with this status: match, explained or differs.")] = None,
) -> None:
    """Every number of the paper that has recorded outputs behind it, recomputed from the authors' texts by this
    project's parsers and metrics.

    Kappas: the judge (combined /10), the debate and every jury, on FairEval and PandaLM; win rates: the feedback loop's
    18. Needs the paper-outputs data (`fellowship data fetch paper-outputs`). Exits 0 only when every number matches or
    its difference is explained.
    """
    from fellowship.data.store import DataMissing
    from fellowship.runs.reproduce import TABLES, summary
    from fellowship.runs.reproduce import reproduce as run
    from fellowship.views.reproduce import show_numbers

    tables = set(TABLES) if table is TableName.all else {table.value}
    try:
        numbers = run(tables, as_authors)
    except DataMissing as exc:
        fail(str(exc), 2)
    totals = summary(numbers)
    listed = [n for n in numbers if show is None or n.status == show]
    if as_json:
        for number in listed:
            print(json.dumps(number.model_dump()))
        print(json.dumps(totals))
    else:
        show_numbers(out, listed, totals)
    if totals["differs"]:
        raise typer.Exit(1)
