"""`graph list` and `graph draw`, offline."""

from __future__ import annotations

from typer.testing import CliRunner

from fellowship.cli import app

runner = CliRunner()


def test_list_names_every_graph_and_what_runs_inside():
    text = runner.invoke(app, ["graph", "list"]).stdout
    for name in ("judge", "jury", "debate", "loop", "generate"):
        assert f"{name}  " in text
    assert "member_vote runs: judge" in text and "make_candidate runs: loop" in text


def test_mermaid_with_the_graphs_run_inside_nodes():
    result = runner.invoke(app, ["graph", "draw", "jury"])
    assert result.exit_code == 0
    assert "member_vote(member_vote)" in result.stdout and "tally(tally)" in result.stdout
    assert "inside jury: judge" in result.stdout and "judge_call(judge_call)" in result.stdout
    only = runner.invoke(app, ["graph", "draw", "jury", "--no-nested"]).stdout
    assert "judge_call" not in only


def test_a_node_that_runs_one_graph_has_it_as_its_subgraph():
    """LangGraph itself sees these (Studio and `get_graph(xray=...)` draw them inside the node)."""
    from fellowship.graphs.registry import WORKFLOWS

    assert [(node, sub.name) for node, sub in WORKFLOWS["jury"].graph.get_subgraphs()] == [("member_vote", "judge")]
    assert [(node, sub.name) for node, sub in WORKFLOWS["generate"].graph.get_subgraphs()] == [("make_candidate", "loop")]
    assert "member_vote:judge_call" in WORKFLOWS["jury"].graph.get_graph(xray=1).nodes


def test_nodes_that_run_one_of_the_evaluators_name_them_in_their_metadata():
    text = runner.invoke(app, ["graph", "draw", "loop", "--no-nested"]).stdout
    assert "knockout(knockout<hr/><small><em>runs = judge, jury, debate</em></small>)" in text


def test_generate_draws_every_graph_it_runs_once_each():
    text = runner.invoke(app, ["graph", "draw", "generate"]).stdout
    inside = [line.split(": ")[1] for line in text.splitlines() if line.startswith("%% inside generate: ")]
    assert inside == ["loop", "judge", "jury", "debate"]  # breadth first; the loop's own evaluators are not repeated


def test_ascii_boxes_or_edges_for_self_loops():
    boxes = runner.invoke(app, ["graph", "draw", "judge", "--format", "ascii"]).stdout
    assert "| judge_call |" in boxes
    edges = runner.invoke(app, ["graph", "draw", "debate", "--format", "ascii", "--no-nested"]).stdout
    assert "referee_turn -.-> referee_turn" in edges and "closing_score --> conclude" in edges


def test_unknown_graph():
    result = runner.invoke(app, ["graph", "draw", "nope"])
    assert result.exit_code == 2 and "unknown graph" in result.stderr


def test_every_graph_describes_its_input_output_and_context_for_studio():
    from fellowship.graphs.registry import WORKFLOWS

    for name, workflow in WORKFLOWS.items():
        graph = workflow.graph
        assert graph.get_input_jsonschema()["properties"], name
        assert graph.get_output_jsonschema()["properties"], name
        context = graph.get_context_jsonschema()["properties"]
        undescribed = [field for field, schema in context.items() if not schema.get("description")]
        assert not undescribed, f"{name}: context fields without a description: {undescribed}"
