"""LangGraph workflows: each module has `build_*()` (uncompiled) and a compiled `graph` without checkpointer."""
