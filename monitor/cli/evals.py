"""CLI commands for evals (registered on the root group)."""
