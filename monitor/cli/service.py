"""CLI commands for service (registered on the root group)."""
