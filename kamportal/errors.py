"""Domain errors raised by services; routes turn them into form errors or messages."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a user can act on."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class RuleViolation(DomainError):
    """An action would break a rule of PRODUCT.md; `rule` is its ID (e.g. "F3")."""

    def __init__(self, rule: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.rule = rule

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


class ValidationError(DomainError):
    """Input well-formed for the form but wrong for the business (a taken store code)."""


class ReusedMessageKey(ValidationError):
    """A message's idempotency key was used already for a message with other content (a
    form sent again after the Back button): refused, so nothing is silently dropped."""


class NotAllowed(DomainError):
    """The acting user may not do this."""
