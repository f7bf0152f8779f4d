"""CLI commands for discovery (registered on the root group)."""
