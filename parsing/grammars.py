"""GBNF grammars of the answer formats, for backends that decode under a grammar (llama.cpp).

Used only for the repair turn: the grammar fixes the format, the model still picks the
numbers or the letter.
"""

from __future__ import annotations


def _score(scale: int) -> str:
    if scale == 100:
        return '"100" | [1-9] [0-9] | [0-9]'
    if scale == 10:
        return '"10" | [0-9]'
    if scale < 10:
        return f"[0-{scale}]"
    raise ValueError(f"no grammar for the scale {scale}")


def pair_scores_grammar(scale: int, labels: tuple[str, str] = ("A", "B")) -> str:
    first, second = labels
    return (
        f'root ::= "### Score Assistant {first}: " score "/{scale}\\n### Score Assistant {second}: " score "/{scale}"\n'
        f"score ::= {_score(scale)}\n"
    )


def overall_score_grammar(scale: int = 10) -> str:
    return f'root ::= "Overall Score: " score "/{scale}"\nscore ::= {_score(scale)}\n'


CHOICE_GRAMMAR = 'root ::= "Verdict: " [ABC]\n'
