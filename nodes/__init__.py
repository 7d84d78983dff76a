"""Graph nodes: plain functions `(state, runtime) -> update`, routers and fan-outs."""
