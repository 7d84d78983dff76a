"""Readers that turn human-labelled pairwise datasets into one record shape."""

from fellowship.readers.labelled import FORMATS, LabelledPair, read_labelled

__all__ = ["FORMATS", "LabelledPair", "read_labelled"]
