"""Concurrency leases: how many of an account's slots each process holds, until its lease expires."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from monitor.store.db import Database
from monitor.store.shared_limits import insert_ignore
from monitor.store.tables import ConcurrencyLease

LOCK_HOLDER = ""
"""The holder of each account's lock row: locked while the slots are counted, never holding any."""


@dataclass(frozen=True)
class Held:
    """What one round trip settled: the slots this holder now holds, and its fair share of them."""

    slots: int
    share: int


def fair_share(limit: int, mine: int, others: list[int]) -> int:
    """This holder's max-min fair share of `limit` slots when it wants `mine` and the others `others`:
    an even split, where a holder wanting less than its split leaves the rest to the others."""
    if mine <= 0:
        return 0
    wants = sorted([*others, mine])
    left, level = float(limit), math.inf
    for i, want in enumerate(wants):
        split = left / (len(wants) - i)
        if want > split:
            level = split
            break
        left -= want
    return mine if level == math.inf else max(1, min(mine, math.floor(level)))


def hold_slots(
    db: Database,
    account: str,
    holder: str,
    *,
    target: int,
    wanted: int,
    limit: int,
    now: float,
    lease_s: float,
) -> Held:
    """Make `holder` hold `target` of the account's `limit` slots (fewer if the other live leases hold
    the rest) until `now + lease_s`, recording that it would use `wanted`; 0 of both ends its lease.

    Leases expired by `now` are deleted first, so a crashed process's slots come back. The account's
    lock row is locked (PostgreSQL's FOR UPDATE; SQLite's write lock, taken by the insert) while the
    slots are counted, so processes taking at once never hold more than `limit` together.
    """
    lease = (ConcurrencyLease.account == account, ConcurrencyLease.holder == holder)
    live = (ConcurrencyLease.account == account, ConcurrencyLease.holder != LOCK_HOLDER)
    with db.session() as session:
        insert_ignore(
            session, ConcurrencyLease, account=account, holder=LOCK_HOLDER, slots=0, wanted=0, expires_at=0.0
        )
        session.scalar(
            select(ConcurrencyLease.slots)
            .where(ConcurrencyLease.account == account, ConcurrencyLease.holder == LOCK_HOLDER)
            .with_for_update()
        )
        session.execute(delete(ConcurrencyLease).where(*live, ConcurrencyLease.expires_at < now))
        rows = session.execute(
            select(ConcurrencyLease.slots, ConcurrencyLease.wanted).where(
                *live, ConcurrencyLease.holder != holder
            )
        ).all()
        held = max(0, min(target, limit - sum(slots for slots, _ in rows)))
        values = {"slots": held, "wanted": wanted, "expires_at": now + lease_s}
        if target <= 0 and wanted <= 0:
            session.execute(delete(ConcurrencyLease).where(*lease))
        elif not session.execute(update(ConcurrencyLease).where(*lease).values(**values)).rowcount:  # type: ignore[attr-defined]
            session.add(ConcurrencyLease(account=account, holder=holder, **values))
            session.flush()
    return Held(held, fair_share(limit, wanted, [want for _, want in rows]))
