"""The fixed answer formats, rendered for each way a backend can hold a model to them.

A format is a few lines `PREFIX VALUE SUFFIX`, each value from a finite set (a score on
a scale, or a letter), optionally after a free explanation and before a free tail
(the reviewer's feedback). Backends constrain decoding in different languages: llama.cpp
takes a GBNF grammar, vLLM a regular expression, OpenAI a JSON schema. Whatever the
language, the model still picks the values; a JSON answer is turned back into the text
format, so one parser reads every reply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Line:
    key: str  # the JSON property
    prefix: str
    values: tuple[str, ...]
    suffix: str = ""


@dataclass(frozen=True)
class AnswerFormat:
    name: str
    lines: tuple[Line, ...]
    tail: str | None = None  # a free text after the lines, introduced by this label ("Feedback:")

    def text(self, values: dict[str, str], explanation: str = "", tail: str = "") -> str:
        """The canonical text of an answer with these values."""
        body = "\n".join(f"{line.prefix}{values[line.key]}{line.suffix}" for line in self.lines)
        parts = [explanation.strip(), body] if explanation.strip() else [body]
        if self.tail is not None and tail.strip():
            parts.append(f"{self.tail} {tail.strip()}")
        return "\n".join(parts)

    # Each renderer takes `explained`: True lets a free explanation come first (and the
    # tail follow), as the first turn asks; False is the bare format of the repair turn.
    # No explanation line may begin with the first character of the format ('#', 'V',
    # 'O'): a model that starts the answer block is then held to it, instead of copying
    # the template's "X/10" into its explanation and writing on to the end of its budget.

    @property
    def _mark(self) -> str:
        return self.lines[0].prefix[0]

    def gbnf(self, explained: bool) -> str:
        body = ' "\\n" '.join(" ".join(part for part in (_gbnf_literal(line.prefix), f"v{i}", _gbnf_literal(line.suffix)) if part)
                              for i, line in enumerate(self.lines))
        rules = [f"root ::= {'lead ' if explained else ''}{body}{' tail' if explained and self.tail else ''}"]
        rules += [f"v{i} ::= " + " | ".join(_gbnf_literal(v) for v in line.values) for i, line in enumerate(self.lines)]
        if explained:
            rules.append(f'lead ::= ([^{_gbnf_class(self._mark)}\\n] [^\\n]* "\\n" | "\\n")*')
            if self.tail:
                rules.append(f'tail ::= ("\\n" {_gbnf_literal(self.tail)} [^\\x00]*)?')
        return "\n".join(rules) + "\n"

    def regex(self, explained: bool) -> str:
        body = r"\n".join(f"{_re_escape(line.prefix)}(?:{'|'.join(_re_escape(v) for v in line.values)}){_re_escape(line.suffix)}"
                          for line in self.lines)
        lead = rf"(?:[^{_re_escape(self._mark)}\n][^\n]*\n|\n)*" if explained else ""
        tail = rf"(?:\n{_re_escape(self.tail)}[\s\S]*)?" if explained and self.tail else ""
        return lead + body + tail

    def json_schema(self, explained: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {"explanation": {"type": "string"}} if explained else {}
        for line in self.lines:
            values: list[Any] = [int(v) if v.isdigit() else v for v in line.values]
            properties[line.key] = {"enum": values}
        if explained and self.tail:
            properties["tail"] = {"type": "string"}
        return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}

    def from_json(self, text: str) -> str:
        """The text format of a JSON answer; text that is not such an object is returned as it is."""
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if not isinstance(data, dict) or any(line.key not in data for line in self.lines):
            return text
        values = {line.key: str(data[line.key]) for line in self.lines}
        return self.text(values, str(data.get("explanation") or ""), str(data.get("tail") or ""))


def _gbnf_literal(text: str) -> str:
    """A GBNF string literal (JSON's escaping is GBNF's); empty text is no literal at all."""
    return json.dumps(text) if text else ""


def _gbnf_class(char: str) -> str:
    return "\\" + char if char in "]^-\\" else char


def _re_escape(text: str) -> str:
    """Escape only regex metacharacters: server-side regex engines differ on escaped spaces or '#'."""
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)


def _scale(scale: int) -> tuple[str, ...]:
    return tuple(str(v) for v in range(scale, -1, -1))


def pair_scores_format(scale: int, labels: tuple[str, str] = ("A", "B")) -> AnswerFormat:
    """`### Score Assistant A: X/N` and `### Score Assistant B: Y/N`."""
    first, second = labels
    return AnswerFormat(f"pair-scores-{scale}", (
        Line("score_a", f"### Score Assistant {first}: ", _scale(scale), f"/{scale}"),
        Line("score_b", f"### Score Assistant {second}: ", _scale(scale), f"/{scale}"),
    ))


def overall_score_format(scale: int = 10, tail: str | None = None) -> AnswerFormat:
    """`Overall Score: X/10` (with a free `Feedback:` after it for the reviewer)."""
    return AnswerFormat(f"overall-score-{scale}", (Line("score", "Overall Score: ", _scale(scale), f"/{scale}"),), tail)


CHOICE_FORMAT = AnswerFormat("choice", (Line("verdict", "Verdict: ", ("A", "B", "C")),))
REVIEW_FORMAT = overall_score_format(10, tail="Feedback:")
