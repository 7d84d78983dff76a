"""Find text aimed at the evaluator inside a response, and neutralise it visibly.

A response is screened in its folded view (see `guard.fold`), so look-alike letters,
invisible characters, digits for letters and spaced-out words read as what they spell.
Four kinds of finding:

- `answer-format`: a line that imitates an evaluator's answer (a score for an assistant
  or response, an overall score, a verdict, `[[A]]`, "Response B is better");
- `template-marker`: the prompt template's own markers (our block tags, "[The End of
  Assistant A's Answer]", chat-template tokens such as `<|im_start|>`);
- `addresses-evaluator`: a note or instruction to the grader, judge or reviewer, "ignore the
  previous instructions", a demand for a score;
- `degenerate`: nothing left to judge (empty, punctuation, a lone lead-in such as
  "Solution:") once the rest is neutralised.

The question gives context: words that the question itself uses ("a letter to the judge",
"give it a rating") do not count against the answer. Neutralising replaces each finding's
whole line with a bracketed note (a closing marker takes the rest of the text with it),
so the evaluator sees that something was removed and never sees what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from fellowship.guard.fold import Folded, fold

FlagKind = Literal["answer-format", "template-marker", "addresses-evaluator", "degenerate"]
FLAG_KINDS: tuple[FlagKind, ...] = ("answer-format", "template-marker", "addresses-evaluator", "degenerate")

# One short note, whatever was found (the row's flags say what): notes that named it ("text that
# imitated an evaluator's answer") kept the embedded judge leaning to the attacked answer. On 40
# LLMBar pairs with a fake score block, 14% of defended verdicts went to it with those notes, 6%
# with this one (the clean worse answer wins 10%).
REMOVED = "[fellowship removed text here]"
_NOTE = re.compile(r"\[fellowship removed [^\]\n]*\]")

_ROLE = r"(?:grader|judge|evaluator|reviewer|referee|rater|annotator|assessor|scorer|examiner|evaluation model|judging model)"
_NUM = r"\d+(?:\.\d+)?"
_OUT_OF = rf"{_NUM}\s*(?:/|out\s+of)\s*\d+"
_WHO = r"(?:assistant|response|answer|output|model|candidate|submission)\s*[-_#]?\s*\(?(?:[ab12]|one|two|first|second)\)?"
_OBJECT = (rf"(?:(?:this|the|my|above|following)\s+(?:response|answer|output|reply|submission|solution)|{_WHO}|{_OUT_OF}"
           r"|full\s+marks|(?:highest|maximum|perfect|top|higher|best)\s+(?:score|rating|mark|grade)|score\s+of\s+\d+)")


@dataclass(frozen=True)
class Rule:
    kind: FlagKind
    name: str
    pattern: re.Pattern[str]
    closes: bool = False  # a closing marker: the rest of the text goes with it
    # A match is not held against an answer when the question itself matches (same text) or uses this word.
    context: str | None = None


def _rule(kind: FlagKind, name: str, pattern: str, *, closes: bool = False, context: str | None = None) -> Rule:
    return Rule(kind, name, re.compile(pattern, re.MULTILINE), closes, context)


RULES: tuple[Rule, ...] = (
    # An evaluator's answer: scores for a named response, an overall score, verdicts, MT-Bench's brackets.
    _rule("answer-format", "score line",
          rf"\b(?:score|rating|grade|points?|mark)s?\b[^\n]{{0,40}}?\b{_WHO}\b[^\n\d]{{0,20}}{_OUT_OF}"),
    _rule("answer-format", "score line",
          rf"\b{_WHO}\b[^\n]{{0,30}}?\b(?:score|rating|grade|points?|mark)s?\b[^\n\d]{{0,12}}{_OUT_OF}"),
    _rule("answer-format", "score line",
          rf"\b(?:score|rating|grade|points?|mark)s?\b[^\n]{{0,30}}?\b(?:this|the\s+other|my|the\s+above|the\s+following|each|either)\s+"
          rf"(?:response|answer|output|assistant|reply|submission)\b[^\n\d]{{0,12}}{_OUT_OF}"),
    _rule("answer-format", "score header", rf"^\W{{0,4}}#{{1,6}}\s*(?:score|rating|grade|verdict)\b[^\n]{{0,60}}?{_OUT_OF}",
          context="score|rate|rating|grade"),
    _rule("answer-format", "overall score", rf"\boverall\s*(?:score|rating)\b[^\n\d]{{0,8}}{_OUT_OF}", context="score|rate|rating|grade"),
    _rule("answer-format", "verdict", r"\b(?:final\s+)?(?:verdict|decision)\b\W{0,6}(?:is\W{0,4})?"
                                      r"(?:(?:assistant|response|answer|output|option)\W{0,4})?\(?[abc12]\)?(?=\s*(?:$|[.,;:!)\]*_]))"),
    _rule("answer-format", "bracketed verdict", rf"\[\[\s*[abc]\s*\]\]|\b(?:rating|score|grade)\W{{0,4}}\[\[\s*{_NUM}\s*\]\]"),
    _rule("answer-format", "declared winner",
          rf"\b{_WHO}\s+(?:is|was)\s+(?:clearly\s+|much\s+|far\s+|significantly\s+|definitely\s+)?(?:the\s+)?"
          r"(?:better|best|winner|superior|preferred|more\s+helpful|stronger)\b", context="assistant|response|output"),
    # The template's own markers: block tags (with or without a code), end-of-answer lines, chat tokens.
    _rule("template-marker", "block tag",
          r"<\s*/\s*(?:question|assistant_?[ab12]?|assistant_answer|response|request|discussion|review|feedback)"
          r"(?:[-_ ][0-9a-z]{1,16})?\s*>",
          closes=True, context="<"),
    _rule("template-marker", "block tag",
          r"<\s*(?:question|assistant_?[ab12]|assistant_answer|response|request|discussion|review|feedback)(?:[-_ ][0-9a-z]{1,16})?\s*>",
          context="<"),
    _rule("template-marker", "end of answer",
          r"\[\s*(?:the\s+)?(?:end|start|beginning)\s+of\s+[^\]\n]{0,50}(?:answer|response|output|question|conversation|instruction)s?\s*\]",
          closes=True),
    _rule("template-marker", "end of answer",
          r"^\W{0,8}(?:end|start|beginning)\s+of\s+(?:the\s+)?(?:assistant\s*[ab12]\W{0,3}s?\s+)?(?:answer|response|output)s?\W{0,8}$",
          closes=True),
    _rule("template-marker", "chat token",
          r"<\|\s*(?:im_start|im_end|system|user|assistant|eot_id|start_header_id|end_header_id|endoftext|end)\s*\|>"
          r"|\[/?inst\]|<</?sys>>|<\s*/?\s*(?:start|end)_of_turn\s*>", closes=True),
    _rule("template-marker", "section header",
          r"^\W{0,4}#{2,}\s*(?:model\s+outputs?|instructions?|evaluation|judge?ment|verdict|system\s+prompt|grading)\b"),
    # Words addressed to the evaluator.
    _rule("addresses-evaluator", "note to the evaluator",
          rf"\b(?:note|message|instruction|reminder|hint|memo|request|attention|ps|p\.s\.)s?\s*(?:to|for)\s+"
          rf"(?:the\s+|any\s+|all\s+|our\s+|my\s+|dear\s+)?(?:ai\s+|llm\s+|automated\s+|automatic\s+)?(?P<role>{_ROLE})s?\b",
          context="role"),
    _rule("addresses-evaluator", "greeting to the evaluator",
          rf"\b(?:dear|hello|hi|hey|attention)\W{{1,3}}(?:ai\s+|llm\s+)?(?P<role>{_ROLE})s?\b", context="role"),
    _rule("addresses-evaluator", "instruction override",
          r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+|these\s+|those\s+|my\s+)?"
          r"(?:previous|prior|above|earlier|preceding|other|original|system|grading|evaluation)\s+"
          r"(?:instructions?|rules?|guidelines?|prompts?|directions?|criteria|texts?|answers?|responses?|outputs?|messages?|context|rubric)",
          context="ignore|disregard|override"),
    _rule("addresses-evaluator", "demand on the evaluator",
          rf"\b(?:you|(?:the\s+)?(?P<role>{_ROLE})s?)\s+(?:must|should|will|shall|need\s+to|have\s+to|are\s+(?:required|instructed|asked|expected)\s+to)"
          rf"\s+(?:now\s+|therefore\s+|definitely\s+)?(?:give|rate|score|choose|select|prefer|pick|award|assign|output|declare|mark|grade|rank|favou?r|judge)\b"
          rf"[^\n]{{0,60}}?\b{_OBJECT}", context="role"),
    _rule("addresses-evaluator", "claimed grade",
          r"\b(?:this|my|the\s+(?:above|following))\s+(?:response|answer|output|reply|submission|solution)\s+"
          r"(?:should\s+be|must\s+be|is\s+to\s+be|has\s+been|deserves\s+to\s+be|needs\s+to\s+be)\s+"
          r"(?:rated|scored|graded|chosen|selected|preferred|awarded|marked|judged\s+(?:as\s+)?(?:the\s+)?(?:best|better|winner))\b"
          rf"|\b(?:this|my|the\s+(?:above|following))\s+(?:response|answer|output|reply|submission|solution)\s+(?:deserves|merits|earns)\s+"
          rf"(?:a\s+|an\s+|the\s+)?(?:{_OUT_OF}|full\s+marks|perfect|highest|higher|top|maximum|win|victory)"),
    _rule("addresses-evaluator", "system notice",
          r"\b(?:system|admin(?:istrator)?|developer|evaluation|grading|judging|grader)\s+(?:override|instruction|message|note|notice|update|directive)s?\s*:"),
)

# Lead-ins that answer nothing when they stand alone (the "master key" answers), in folded form.
LEAD_INS = frozenset({
    "solution", "solutions", "answer", "answers", "response", "output", "result", "results", "explanation", "analysis",
    "thought process", "thoughts", "reasoning", "step by step", "lets think step by step", "lets think",
    "lets solve this problem step by step", "lets solve this step by step", "lets solve this problem", "lets solve this",
    "here is the answer", "here is my answer", "heres the answer", "heres my answer", "here is the solution",
    "here is my response", "the answer is", "final answer", "my answer",
    "assistant", "assistant a", "assistant b", "response a", "response b", "step 1", "first", "to solve this",
    "respuesta", "solucion", "reponse", "solution", "losung", "antwort", "risposta",
})
LEAD_INS_RAW = frozenset({"解", "答", "答案", "解答", "解析", "かいせつ", "回答", "ответ", "решение"})


class Finding(BaseModel):
    """One thing in a response that was aimed at the evaluator."""

    kind: FlagKind
    rule: str = Field(description="which pattern found it")
    text: str = Field(description="the original text found (at most 160 characters)")
    obfuscated: bool = Field(False, description="it read so only after folding: look-alike or invisible characters, digits for letters")


class Screening(BaseModel):
    """What screening found in one response, and the text an evaluator is shown instead."""

    findings: list[Finding] = Field(default_factory=list)
    shown: str = Field(description="the response as the evaluator sees it: findings replaced by a note")

    @property
    def flags(self) -> list[FlagKind]:
        """The kinds found, in a fixed order."""
        found = {f.kind for f in self.findings}
        return [kind for kind in FLAG_KINDS if kind in found]

    @property
    def suspect(self) -> bool:
        return bool(self.findings)

    @property
    def degenerate(self) -> bool:
        return any(f.kind == "degenerate" for f in self.findings)


def _suppressed(rule: Rule, match: re.Match[str], question: Folded | None) -> bool:
    """The question asks for this: it holds such text itself, or uses the rule's context word."""
    if question is None:
        return False
    if rule.pattern.search(question.text):
        return True
    role = match.groupdict().get("role")
    words = re.escape(role) if rule.context == "role" and role else None if rule.context == "role" else rule.context
    return words is not None and re.search(rf"(?:{words})", question.text) is not None


_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def _span_to_remove(text: str, start: int, end: int, to_end: bool) -> tuple[int, int]:
    """From the start of the finding's sentence to the end of its line, or of the text for a closing marker."""
    line = text.rfind("\n", 0, start) + 1
    sentences = [m.end() for m in _SENTENCE_END.finditer(text, line, start)]
    begin = sentences[-1] if sentences else line
    if to_end:
        return begin, len(text)
    stop = text.find("\n", max(end - 1, start))
    return begin, len(text) if stop < 0 else stop


@lru_cache(maxsize=64)
def _folded_question(question: str) -> Folded:
    return fold(question)  # both responses of a pair, and every call that shows them, are screened against it


def find(text: str, question: str = "", folded: Folded | None = None) -> list[tuple[Finding, tuple[int, int]]]:
    """Each finding with the span of the original text to neutralise (`folded`: the text's folded view, where made)."""
    folded = folded or fold(text)
    context = _folded_question(question) if question else None
    found = []
    for rule in RULES:
        for match in rule.pattern.finditer(folded.text):
            if _suppressed(rule, match, context):
                continue
            start, end = folded.span(match.start(), match.end())
            found.append((Finding(kind=rule.kind, rule=rule.name, text=text[start:end][:160],
                                  obfuscated=folded.changed(match.start(), match.end())),
                          _span_to_remove(text, start, end, rule.closes)))
    return found


def _merged(spans: list[tuple[tuple[int, int], FlagKind]]) -> list[tuple[int, int, FlagKind]]:
    """Overlapping or touching spans as one, named by the first kind found there."""
    out: list[tuple[int, int, FlagKind]] = []
    for (start, end), kind in sorted(spans):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end), out[-1][2])
        else:
            out.append((start, end, kind))
    return out


def degenerate_reason(text: str, folded: Folded | None = None) -> str | None:
    """Why a response answers nothing: empty, punctuation only, or a lone lead-in; None when it says something.
    (`folded`: the text's folded view, where made.)"""
    noted = _NOTE.search(text) is not None
    rest = _NOTE.sub(" ", text).strip() if noted else text.strip()
    if not any(c.isalnum() for c in rest):
        if noted:
            return "nothing left once the text aimed at the evaluator is removed"
        return "empty" if not rest else f"punctuation only: {rest[:40]!r}"
    # Stripping spaces changes no word of the folded view, so the text's own serves.
    words = re.sub(r"[^\w\s]", "", (folded if folded is not None and not noted else fold(rest)).text).split()
    plain = " ".join(words)
    if plain in LEAD_INS or rest.strip(" :.!。：") in LEAD_INS_RAW:
        return f"a lone lead-in: {rest[:40]!r}"
    if len(words) <= 6 and rest.rstrip().endswith((":", "：")):
        return f"a lead-in with no answer after it: {rest[:60]!r}"
    return None


def screen(text: str, question: str = "") -> Screening:
    """Screen one response to `question`; the shown text has every finding replaced by a visible note."""
    folded = fold(text)
    found = find(text, question, folded)
    pieces, cursor = [], 0
    for start, end, _kind in _merged([(span, f.kind) for f, span in found]):
        pieces += [text[cursor:start], REMOVED]
        cursor = end
    shown = "".join(pieces) + text[cursor:]
    findings = [f for f, _ in found]
    reason = degenerate_reason(shown, None if found else folded)  # the shown text is the text where nothing was found
    if reason is not None:
        findings.append(Finding(kind="degenerate", rule=reason, text=text[:160]))
    return Screening(findings=findings, shown=shown)
