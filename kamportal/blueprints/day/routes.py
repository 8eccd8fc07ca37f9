"""The ACM's day: what is owed today, and since when."""

from kamportal.blueprints.day import bp  # noqa: F401
