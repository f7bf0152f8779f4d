"""CLI commands for reports (registered on the root group)."""
