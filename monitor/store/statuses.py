"""The run and result statuses every stage shares (no SQLAlchemy here: the CLI's option choices import it)."""

RUN_STATUSES = (
    "queued",
    "running",
    "waiting",
    "interrupted",
    "done",
    "done_with_errors",
    "failed",
    "skipped",
)
"""Every status a run can have; `waiting`: its samples are with a provider's batch API (docs/batch.md);
`done_with_errors` went through every sample but some ended in an error."""
UNFINISHED = ("queued", "running", "waiting", "interrupted")
"""Runs still to finish: status lists them, metrics count their samples from their results."""
COMPLETED = ("done", "done_with_errors")
"""Runs that went through every sample: compared, reported and counted as a model's result."""
ANSWER_ERROR_KINDS = ("refusal", "content_filter", "truncated", "token_budget")
"""Error kinds that are the model's own answer (refused, filtered, cut off): not holes in a run.

They are counted apart like every error, but a run with only these is `done`, and `resume` does not
send them again (the model would most likely answer the same way)."""


def result_errored(error_kind: str | None, score: float | None) -> bool:
    """Whether a result failed (an error kind or no score): errors are counted apart, never as 0."""
    return error_kind is not None or score is None
