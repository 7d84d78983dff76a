"""Terminal renderings of results (the CLI prints these; `--json` prints the records instead)."""
