"""Running graphs over one input or many: concurrency, progress, summaries."""
