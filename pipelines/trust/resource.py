"""The trust model's parameters, as a Dagster resource set from the environment."""

from __future__ import annotations

import math
from typing import ClassVar

import dagster as dg
from pydantic import Field

from pipelines.env import FromEnvironment
from pipelines.trust.model import TrustParameters
from platform_core.config import SettingError


def _number(value: str, variable: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingError(variable, f"{value!r} is not a number.", "give a number.") from None
    if not math.isfinite(number):
        raise SettingError(variable, f"{value!r} is not finite.", "give a finite number.")
    return number


class TrustModel(FromEnvironment, dg.ConfigurableResource):
    """Parameters of the trust model (pipelines/trust/model.py); they make up its version.

    Each is set from its environment variable when present (``TRUST_HALF_LIFE_DAYS``,
    ``TRUST_TIMEOUT_WEIGHT``, ``TRUST_REVIEW_WEIGHT``). The fields hold the numbers' text
    because Dagster's ``EnvVar`` has no float form (only ``EnvVar.int``, dagster#13681): a
    float field refuses an ``EnvVar``, and the UI should show the variable, not its value.
    Changing any of them starts a new model version: every agent is recomputed and its
    platform score and audit records rewritten by the next run.
    """

    ENVIRONMENT: ClassVar[dict[str, str]] = {
        "half_life_days": "TRUST_HALF_LIFE_DAYS",
        "timeout_weight": "TRUST_TIMEOUT_WEIGHT",
        "review_weight": "TRUST_REVIEW_WEIGHT",
    }

    # The defaults are the model's own (TrustParameters), written once there.
    half_life_days: str = Field(
        default=f"{TrustParameters.half_life_days:g}",
        description="Evidence half-life in days, > 0 (TRUST_HALF_LIFE_DAYS).",
    )
    timeout_weight: str = Field(
        default=f"{TrustParameters.timeout_weight:g}",
        description="Weight of a timed-out execution, >= 0 (TRUST_TIMEOUT_WEIGHT).",
    )
    review_weight: str = Field(
        default=f"{TrustParameters.review_weight:g}",
        description="Weight of a review, >= 0 (TRUST_REVIEW_WEIGHT).",
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse a parameter that is not a number before any step runs."""
        _ = self.parameters

    @property
    def parameters(self) -> TrustParameters:
        """The model parameters; a clear error naming the variable for a bad value."""
        return TrustParameters(
            _number(self.half_life_days, "TRUST_HALF_LIFE_DAYS"),
            _number(self.timeout_weight, "TRUST_TIMEOUT_WEIGHT"),
            _number(self.review_weight, "TRUST_REVIEW_WEIGHT"),
        )
