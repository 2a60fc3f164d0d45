"""Errors the service layer raises; each message says what was wrong and with which value."""

from __future__ import annotations


class PlatformError(Exception):
    """Base class: a request the platform refused. Nothing was written."""


class NotFoundError(PlatformError):
    """A referenced row (user, agent, hiring, execution) does not exist."""


class ValidationError(PlatformError, ValueError):
    """An argument is out of range or malformed."""


class ConflictError(PlatformError):
    """The request clashes with existing state: a duplicate key or a forbidden transition."""
