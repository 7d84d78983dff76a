"""The package's imports point one way, down the layers, and never in a circle.

Every import counts, the ones inside functions too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_PACKAGE = {"tests", "benchmarks", ".venv", "out", "build", "fellowship.egg-info"}

# Top to bottom. A module imports from its own package or from a lower layer; the
# packages of one layer do not import each other.
LAYERS: list[set[str]] = [
    {"cli"},
    {"commands"},
    {"report"},
    {"runs", "views"},
    {"graphs", "preference"},
    {"nodes"},
    {"state"},
    {"models", "prompts", "readers", "metrics", "tracing"},
    {"guard"},
    {"parsing", "fileio", "data"},
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted names (without the `fellowship.` prefix) of the package's modules."""
    found = {}
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in NOT_PACKAGE:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules a file imports: `from fellowship.graphs import judge` is graphs.judge,
    `from fellowship.models import ModelOptions` is models (its __init__)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name.removeprefix("fellowship.") for alias in node.names if alias.name.startswith("fellowship.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("fellowship."):
            module = (node.module or "").removeprefix("fellowship.")
            submodules = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in known]
            names = submodules + ([module] if len(submodules) < len(node.names) else [])
        else:
            continue
        found.update(name for name in names if name in known)
    return found


def package_of(module: str) -> str:
    return module.split(".")[0]


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    return {module: imports_of(path, known) - {module} for module, path in known.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} -> {target}" for module, imported in graph.items() for target in imported
                  if package_of(module) != package_of(target) and RANK[package_of(target)] <= RANK[package_of(module)])


def circle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        return list(exc.args[1])
    return None


def test_every_package_has_a_layer():
    assert {package_of(m) for m in modules()} <= set(RANK), "add the new package to LAYERS"


def test_imports_point_down_the_layers():
    upward = upward_imports(import_graph())
    assert not upward, "imports that do not point down the layers:\n" + "\n".join(upward)


def test_no_import_circle():
    found = circle(import_graph())
    assert found is None, f"import circle: {' -> '.join(found or [])}"


def test_nodes_and_state_do_not_run_graphs_and_verdict_rules_know_no_langgraph():
    graph = import_graph()
    assert not [m for m in graph["state.verdicts"] if not m.startswith("state.")]
    assert "langgraph" not in (ROOT / "state" / "verdicts.py").read_text()
    for module, imported in graph.items():
        if package_of(module) in ("nodes", "state"):
            assert not {package_of(m) for m in imported} & {"graphs", "runs", "commands"}, module


def test_the_walk_sees_an_upward_import_and_a_circle(tmp_path):
    """The checks above can fail: a node importing a graph that imports it is caught twice."""
    for folder in ("nodes", "graphs"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "nodes" / "vote.py").write_text("from fellowship.graphs import judge\n")
    (tmp_path / "graphs" / "judge.py").write_text("def build():\n    from fellowship.nodes.vote import x\n")
    graph = import_graph(tmp_path)
    assert graph["nodes.vote"] == {"graphs.judge"} and graph["graphs.judge"] == {"nodes.vote"}
    assert upward_imports(graph) == ["nodes.vote -> graphs.judge"]
    assert set(circle(graph) or []) == {"nodes.vote", "graphs.judge"}
