"""Prompts of the single judge: direct comparison, independent scoring, combined scoring."""

RUBRIC = (
    "helpfulness, relevance, accuracy, depth, creativity and level of detail"
)

PAIRWISE_SYSTEM = f"""\
You are a careful, impartial reviewer. Two AI assistants have answered the same user \
question, and you decide which answer serves the user better. Weigh {RUBRIC}. \
Which answer is shown first tells you nothing about its quality, and a longer answer \
is not better merely for being longer. Do not favour either assistant by its name."""

COMBINED_TASK = """\
Explain in a few sentences how the two answers compare. Then finish with exactly \
these two lines, giving each answer a score from 0 to {scale} in place of X and Y:
### Score Assistant A: X/{scale}
### Score Assistant B: Y/{scale}"""

COMBINED_REPAIR = """\
I could not read your scores. Copy this template and replace X and Y with numbers \
from 0 to {scale}. Write nothing else:
### Score Assistant A: X/{scale}
### Score Assistant B: Y/{scale}"""

DIRECT_TASK = """\
Explain in a few sentences how the two answers compare. Then finish with one line: \
"Verdict: A" if Assistant A's answer is better, "Verdict: B" if Assistant B's answer \
is better, or "Verdict: C" if they are equally good."""

DIRECT_REPAIR = """\
I could not read your verdict. Copy this template and replace X with A (Assistant A \
is better), B (Assistant B is better) or C (equally good). Write nothing else:
Verdict: X"""

SINGLE_SYSTEM = f"""\
You are a careful, impartial reviewer. An AI assistant has answered a user question, \
and you rate how well it serves the user. Weigh {RUBRIC}. A longer answer is not \
better merely for being longer."""

SINGLE_TASK = """\
Explain your rating in a few sentences. Then finish with exactly this line, with a \
score from 0 to 10 in place of X:
Overall Score: X/10"""

SINGLE_REPAIR = """\
I could not read your score. Copy this template and replace X with a number from 0 \
to 10. Write nothing else:
Overall Score: X/10"""
