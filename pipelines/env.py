"""Settings from the environment, the one way every resource reads them.

Each resource declares which variable sets which field (``ENVIRONMENT``); its field defaults
are the only defaults there are, so the embedded setup works with nothing set. A variable
that is set becomes Dagster's ``EnvVar`` (read when a run starts; the UI shows the variable's
name, never its value, so a password in ``PLATFORM_DATABASE_URL`` stays out of the UI, logs and
run metadata).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

import dagster as dg


def env_or_default(name: str, default: str) -> str:
    """``EnvVar(name)`` when the variable is set, else ``default``.

    Dagster's ``EnvVar`` has no default of its own (dagster-io/dagster#16232), and an unset
    one fails the run; this keeps the embedded setup working with nothing set.
    """
    return dg.EnvVar(name) if os.environ.get(name) else default


class FromEnvironment:
    """Mixin for a ``ConfigurableResource`` set from environment variables."""

    #: field name -> environment variable.
    ENVIRONMENT: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """The resource with each field from its variable when set, else its default."""
        fields = cls.model_fields  # type: ignore[attr-defined]
        values = {
            name: env_or_default(variable, fields[name].get_default(call_default_factory=True))
            for name, variable in cls.ENVIRONMENT.items()
        }
        return cls(**{**values, **overrides})
