"""Meetings (G2, F3) and minutes (G5, O3) of a client."""

from kamportal.blueprints.meetings import bp  # noqa: F401
