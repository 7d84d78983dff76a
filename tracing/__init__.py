"""Local run traces (for people without LangSmith): a LangChain tracer writing to SQLite, and readers."""
