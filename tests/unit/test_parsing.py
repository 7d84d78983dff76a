"""The tolerant parsers, on hand-made replies and on the paper authors' recorded ones."""

from __future__ import annotations

import json
import re

import pytest

from fellowship.parsing.formats import CHOICE_FORMAT, REVIEW_FORMAT, overall_score_format, pair_scores_format
from fellowship.parsing.scores import ParseError, explanation_of, parse_choice, parse_overall_score, parse_pair_scores


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Good.\n### Score Assistant A: 8/10\n### Score Assistant B: 6/10", (8, 6)),
        ("### Score Assistant A:\n9/10\n\n### Score Assistant B:\n7/10", (9, 7)),
        ("**Score Assistant A:** 7.5/10\n**Score Assistant B:** 7.5 / 10", (7.5, 7.5)),
        ("Score for Assistant A: 3 out of 10. Score for Assistant B: 4 out of 10", (3, 4)),
        ("### Score Assistant A: 0/10 (off topic)\n### Score Assistant B: 2/10 (partial)", (0, 2)),
        ("score assistant a: 10\nscore assistant b: 1", (10, 1)),
    ],
)
def test_pair_scores_read_common_shapes(text, expected):
    assert parse_pair_scores(text, 10) == expected


def test_pair_scores_read_the_first_statement_as_the_authors_did():
    text = ("### Score Assistant A: 0/10\n### Score Assistant B: 0/10\nOn reflection:\n"
            "### Score Assistant A: 0/10\n### Score Assistant B: 2/10")
    assert parse_pair_scores(text, 10) == (0, 0)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("A is better.", "no 'Score Assistant A"),
        ("### Score Assistant A: 8/10", "no 'Score Assistant B"),
        ("### Score Assistant A: 11/10\n### Score Assistant B: 3/10", "outside the scale"),
        ("### Score Assistant A: -1/10\n### Score Assistant B: 3/10", "outside the scale"),
        ("### Score Assistant A: 4/5\n### Score Assistant B: 3/5", "out of 5, expected out of 10"),
    ],
)
def test_pair_scores_refuse_rather_than_guess(text, reason):
    with pytest.raises(ParseError, match=reason):
        parse_pair_scores(text, 10)


def test_pair_scores_on_other_scales_and_labels():
    assert parse_pair_scores("Score Assistant A: 85/100\nScore Assistant B: 90/100", 100) == (85, 90)
    assert parse_pair_scores("Score Assistant 1: 6/10\nScore Assistant 2: 8/10", 10, labels=("1", "2")) == (6, 8)
    with pytest.raises(ParseError):
        parse_pair_scores("Score Assistant A: 6/5\nScore Assistant B: 3/5", 5)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A is more helpful.\nVerdict: A", "A"),
        ("Both fine.\n**Verdict:** C", "tie"),
        ("Final verdict: [[B]]", "B"),
        ("[[A]]", "A"),
        ("B", "B"),
        ("The answer is: B", "B"),
    ],
)
def test_choice(text, expected):
    assert parse_choice(text) == expected


def test_choice_refuses_text_without_a_verdict():
    with pytest.raises(ParseError):
        parse_choice("Both responses have merits.")


def test_overall_score():
    assert parse_overall_score("Solid answer.\nOverall Score: 7/10") == 7
    assert parse_overall_score("**Overall Score:** 6.5/10") == 6.5
    with pytest.raises(ParseError, match="outside"):
        parse_overall_score("Overall Score: 12/10")
    with pytest.raises(ParseError):
        parse_overall_score("I like it.")


def test_explanation_stops_at_the_score_lines():
    assert explanation_of("A is clearer.\n\n### Score Assistant A: 8/10\n### Score Assistant B: 5/10") == "A is clearer."


def test_every_recorded_paper_reply_parses_to_the_authors_scores(paper):
    """All 12 combined-scoring /10 files of GPT-4o, Llama and Gemma replies."""
    files = sorted(paper.glob("paper-outputs/*/combined-scoring-10/*.json"))
    assert len(files) == 12
    checked = 0
    for path in files:
        for index, record in enumerate(json.loads(path.read_text())):
            if record["score_1"] < 0 or record["score_2"] < 0:
                continue
            assert parse_pair_scores(record["response"], 10) == (record["score_1"], record["score_2"]), (path.name, index)
            checked += 1
    assert checked == 6465


def test_recorded_debate_finals_parse(paper):
    records = json.loads((paper / "paper-outputs/fair-eval/debate/gpt-4o.json").read_text())
    parsed = [parse_pair_scores(r["response_1"], 10, labels=("1", "2")) for r in records]
    assert len(parsed) == 80


FORMATS = [
    (pair_scores_format(5), lambda t: parse_pair_scores(t, 5), (5.0, 0.0), {"score_a": "5", "score_b": "0"}),
    (pair_scores_format(10), lambda t: parse_pair_scores(t, 10), (10.0, 3.0), {"score_a": "10", "score_b": "3"}),
    (pair_scores_format(100), lambda t: parse_pair_scores(t, 100), (100.0, 42.0), {"score_a": "100", "score_b": "42"}),
    (pair_scores_format(10, ("1", "2")), lambda t: parse_pair_scores(t, 10, labels=("1", "2")), (7.0, 8.0), {"score_a": "7",
    "score_b": "8"}),
    (overall_score_format(), parse_overall_score, 6.0, {"score": "6"}),
    (REVIEW_FORMAT, parse_overall_score, 9.0, {"score": "9"}),
    (CHOICE_FORMAT, parse_choice, "tie", {"verdict": "C"}),
]


@pytest.mark.parametrize("fmt, parse, value, values", FORMATS, ids=[f[0].name for f in FORMATS])
def test_answer_formats_in_every_language_admit_what_the_parser_reads(fmt, parse, value, values):
    """The grammar compiles in llama.cpp; the regex and the JSON schema accept exactly the format; each reads back to the value."""
    from llama_cpp import LlamaGrammar

    for explained in (False, True):
        LlamaGrammar.from_string(fmt.gbnf(explained), verbose=False)
    bare = fmt.text(values)
    explained_text = fmt.text(values, explanation="Both answers are fine.\nA is shorter.", tail="Add an example.")
    assert parse(bare) == value and parse(explained_text) == value
    assert re.fullmatch(fmt.regex(False), bare) and re.fullmatch(fmt.regex(True), explained_text)
    assert not re.fullmatch(fmt.regex(False), explained_text)
    wrong = bare.replace(next(iter(values.values())), "101", 1) if fmt is not CHOICE_FORMAT else bare.replace("C", "D")
    assert not re.fullmatch(fmt.regex(False), wrong)
    schema = fmt.json_schema(True)
    assert schema["required"] == list(schema["properties"]) and schema["additionalProperties"] is False
    reply = {"explanation": "Because.", **{k: int(v) if v.isdigit() else v for k, v in values.items()}}
    if "tail" in schema["properties"]:
        reply["tail"] = "Add an example."
    assert parse(fmt.from_json(json.dumps(reply))) == value
    assert fmt.from_json("not json") == "not json"
