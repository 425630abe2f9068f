"""The plan policy, in versions: one in force (the newest), none ever edited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal.dbtypes import UTCDateTime
from portal.extensions import Model
from portal.timeutil import utcnow


class PlanPolicyVersion(Model):
    """One saved version of the plan policy. ``settings`` holds ``PlanPolicy.settings()``
    (validated by ``policy.validate_settings`` before it is stored). With no saved version,
    ``policy.DEFAULT_SETTINGS`` is version 0."""

    __tablename__ = "plan_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    settings: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
