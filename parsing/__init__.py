"""Tolerant parsers for the evaluators' text replies."""
