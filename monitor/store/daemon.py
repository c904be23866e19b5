"""What the daemon records: notification deliveries and its scheduled jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.db import (NotificationRow, SchedulerJobRow)
from monitor.store.common import storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationInfo:
    run_id: str
    channel: str
    target: str          # redacted by the caller: never a token
    status: str          # sent | failed
    attempts: int
    error: str | None
    at: datetime


@storage("recording a notification")
def record_notification(session: Session, n: NotificationInfo) -> None:
    session.add(NotificationRow(run_id=n.run_id, channel=n.channel, target=n.target, status=n.status,
                                attempts=n.attempts, error=n.error, at=n.at))
    session.commit()


@storage("listing notifications")
def list_notifications(session: Session, run_id: str) -> list[NotificationInfo]:
    """The run's deliveries in the order they were recorded."""
    rows = session.scalars(sa.select(NotificationRow).where(NotificationRow.run_id == run_id)
                           .order_by(NotificationRow.id))
    return [NotificationInfo(run_id=r.run_id, channel=r.channel, target=r.target, status=r.status,
                             attempts=r.attempts, error=r.error, at=r.at) for r in rows]


@storage("reading the schedule")
def scheduled_jobs(session: Session) -> dict[str, datetime | None]:
    """The daemon's stored jobs by id and their next run time (None: paused)."""
    return {job_id: datetime.fromtimestamp(ts, UTC) if ts is not None else None
            for job_id, ts in session.execute(sa.select(SchedulerJobRow.id, SchedulerJobRow.next_run_time)
                                              .order_by(SchedulerJobRow.id))}
