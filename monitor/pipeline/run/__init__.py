"""Stage 3: execute a run's samples against a provider, grade and store them."""
