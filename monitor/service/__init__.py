"""The long-running side: daemon and scheduler, workers, status, the report server."""
