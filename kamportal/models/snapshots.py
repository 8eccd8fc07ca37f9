"""Figures summed over the whole platform, kept as a sweep last computed them: a page that
shows every team reads a few rows instead of summing over every client (issue 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from kamportal.models.base import Base
from kamportal.models.types import UTCDateTime


class FiguresSnapshot(Base):
    """One set of platform-wide figures (`name` says which, and for which day where the
    figures depend on it), as computed at `computed_at`."""

    __tablename__ = "figures_snapshots"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    figures: Mapped[Any] = mapped_column(JSON)
