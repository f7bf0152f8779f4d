"""CLI commands for simulate (registered on the root group)."""
