"""Typed graph states (TypedDicts with reducers) and the records that cross node boundaries."""
