"""The spec of a stored suite version: from its file while unchanged, else rebuilt from stored samples."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from monitor.core.config import Config
from monitor.core.errors import MonitorError
from monitor.store.db import Database
from monitor.store.tables import Sample, Suite

if TYPE_CHECKING:
    from monitor.evals.loader import SuiteSpec

log = logging.getLogger(__name__)


def resolve_suite_spec(db: Database, config: Config, suite: Suite) -> SuiteSpec:
    """The spec of a stored suite version: from the suites directory while the file still has this
    version, else rebuilt from the stored samples and definition (the file changed since)."""
    from monitor.core.errors import SuiteError
    from monitor.evals.loader import load_suites

    try:
        for spec in load_suites(config.suites_dir, [suite.name], default_judge=config.judge.model):
            if spec.version == suite.version:
                return spec
    except SuiteError as exc:
        log.info(
            "suite %s not loadable from %s (%s); using the stored version", suite.name, config.suites_dir, exc
        )
    return stored_suite_spec(db, suite)


def stored_suite_spec(db: Database, suite: Suite) -> SuiteSpec:
    """Rebuild a suite version from its stored samples and definition (sample vars are not stored)."""
    from monitor.evals.graders import build_graders
    from monitor.evals.loader import SuiteSpec
    from monitor.evals.spec import SampleSpec, stored_request

    definition = suite.definition or {}
    if not definition.get("graders"):
        raise MonitorError(
            f"suite '{suite.name}' version {suite.version} has no stored graders to grade with"
        )
    judge_model = definition.get("judge_model")
    source = f"stored suite {suite.name}@{suite.version}"
    with db.session() as session:
        rows = session.execute(
            select(Sample.key, Sample.messages, Sample.target, Sample.choices, Sample.group, Sample.request)
            .where(Sample.suite_id == suite.id)
            .order_by(Sample.position)
        ).all()
    return SuiteSpec(
        name=suite.name,
        description=suite.description or "",
        path=Path(str(definition.get("path") or suite.name)),
        version=suite.version,
        params=dict(definition.get("params") or {}),
        graders=build_graders(list(definition["graders"]), source=source, judge_model=judge_model),
        pass_threshold=float(definition.get("pass_threshold", 1.0)),
        samples=[
            SampleSpec(
                key, list(messages), target, choices, group, {}, f"{source}:{key}", **stored_request(request)
            )
            for key, messages, target, choices, group, request in rows
        ],
        judge_model=judge_model,
        definition=definition,
        variant=definition.get("variant"),
    )
