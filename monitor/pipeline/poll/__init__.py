"""Stage 1: list each provider's models and record what changed."""
