"""Stage 5: static HTML reports from the database."""
