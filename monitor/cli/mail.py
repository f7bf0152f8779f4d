"""CLI commands for mail (registered on the root group)."""
