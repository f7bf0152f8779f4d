"""CLI commands for setup: init, check, db (registered on the root group)."""
