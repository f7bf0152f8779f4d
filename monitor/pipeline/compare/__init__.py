"""Stage 4: turn stored runs into paired comparisons and verdicts."""
