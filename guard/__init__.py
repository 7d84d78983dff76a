"""Defences for every place a model reads another model's text.

`fold` gives the text a reader sees, whatever characters spell it; `screen` finds text
aimed at the evaluator (imitated answers, template markers, notes to the grader,
degenerate answers) and neutralises it visibly; `fence` wraps texts in blocks they
cannot close themselves; `attacks` holds the attack families `fellowship attack` measures.
"""
