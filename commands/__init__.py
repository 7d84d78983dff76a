"""The CLI commands, one module per area; `cli.py` assembles them into the `fellowship` app."""
