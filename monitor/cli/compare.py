"""CLI commands for compare (registered on the root group)."""
