"""The weekly cadence (F1) and the no-reply ladder (F2) of a client."""

from kamportal.blueprints.followups import bp  # noqa: F401
