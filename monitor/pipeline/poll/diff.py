"""Compare one provider's stored models with a complete list: new, missing, removed, returned, changed."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.store.tables import Model

if TYPE_CHECKING:
    from monitor.providers.base import ModelInfo

REMOVAL_POLLS = 2
"""A model is marked removed after missing from this many consecutive complete polls (providers.md §6)."""

DEPRECATION_FIELDS = (
    "shutdown_date",
    "lifecycle",
    "deprecated_at",
    "retires_at",
    "deprecation",
    "deprecation_replacement_model",
    "expiration_date",
    "active",
)
"""Raw metadata fields whose change is a deprecation signal (providers.md §6), recorded as an event."""


@dataclass(slots=True)
class StoredModel:
    """The columns of a `models` row that a diff needs (read with one Core query, no ORM objects)."""

    id: int
    model_id: str
    display_name: str | None
    owned_by: str | None
    removed_at: datetime | None
    missing_polls: int
    last_seen: datetime
    raw: dict[str, Any]


STORED_COLUMNS = (
    Model.id,
    Model.model_id,
    Model.display_name,
    Model.owned_by,
    Model.removed_at,
    Model.missing_polls,
    Model.last_seen,
    Model.raw,
)


@dataclass
class ModelDiff:
    """How the stored models of one provider change after a complete list (pure data, nothing written)."""

    bootstrap: bool
    new: list[ModelInfo] = field(default_factory=list)
    # Stored like new models, but only a widened include/exclude brought them in: no new-model event.
    watched: list[ModelInfo] = field(default_factory=list)
    returned: list[StoredModel] = field(default_factory=list)
    removed: list[StoredModel] = field(default_factory=list)
    missing: list[StoredModel] = field(default_factory=list)
    reset: list[StoredModel] = field(default_factory=list)
    changed: list[tuple[StoredModel, ModelInfo, dict[str, list[Any]]]] = field(default_factory=list)
    seen_ids: list[int] = field(default_factory=list)


def _deprecation_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {f: [old.get(f), new.get(f)] for f in DEPRECATION_FIELDS if old.get(f) != new.get(f)}


def diff_models(
    rows: Sequence[StoredModel],
    kept: Sequence[ModelInfo],
    listed_ids: set[str],
    bootstrap: bool,
    *,
    watched: Collection[str] = (),
    removal_polls: int = REMOVAL_POLLS,
) -> ModelDiff:
    """Compare the stored rows of one provider with a complete, successful list.

    A row counts as present when the provider listed its id at all (even if include/exclude now
    filter it out): only what the provider stopped listing goes missing, and only after
    `removal_polls` consecutive complete polls is it removed. Unknown ids in `watched` are stored
    as now watched, not as new models.
    """
    diff = ModelDiff(bootstrap=bootstrap)
    existing = {row.model_id: row for row in rows}
    infos = {info.id: info for info in kept}
    unknown = [info for info in kept if info.id not in existing]
    diff.new = [info for info in unknown if info.id not in watched]
    diff.watched = [info for info in unknown if info.id in watched]
    for row in rows:
        if row.model_id not in listed_ids:
            if row.removed_at is None:
                (diff.removed if row.missing_polls + 1 >= removal_polls else diff.missing).append(row)
            continue
        diff.seen_ids.append(row.id)
        if row.removed_at is not None:
            diff.returned.append(row)
        elif row.missing_polls:
            diff.reset.append(row)
        info = infos.get(row.model_id)
        if info is not None and (
            info.raw != row.raw or info.display_name != row.display_name or info.owned_by != row.owned_by
        ):
            diff.changed.append((row, info, _deprecation_changes(row.raw or {}, info.raw)))
    return diff
