"""Comparisons of runs that could stop early: the random order their sequential test read them in."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.stats.sequential import sample_order
from monitor.store.tables import Run

# The sample keys in the order the test reads them, and (samples in the suite, stopped, samples read).
Monitoring = tuple[list[str], tuple[int, bool, int]]


def monitoring(
    candidate: Run, baseline: Run, candidate_keys: Iterable[str], baseline_keys: Iterable[str]
) -> Monitoring | str | None:
    """How a pair of runs is tested when either was monitored (None: neither; str: why not at all).

    A stopped run is read in its random order up to where it stopped, and judged by the sequential
    test alone; a monitored run that went to the end is read in its order over every sample.
    """
    monitored = [run for run in (candidate, baseline) if run.sequential]
    if not monitored:
        return None
    stopped = [run for run in monitored if run.stopped_after is not None]
    if len(stopped) == 2:
        return (
            f"not compared: runs {candidate.id} and {baseline.id} both stopped early, on different "
            "samples (rerun one without early stopping)"
        )
    lead = stopped[0] if stopped else monitored[0]
    plan = lead.sequential or {}
    everything = list(candidate_keys if lead is candidate else baseline_keys)
    order = sample_order(everything, int(plan["seed"]))
    if lead.stopped_after is not None:
        order = order[: lead.stopped_after]
    return order, (len(everything), bool(stopped), len(order))
