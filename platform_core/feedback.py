"""Metric points and reviews: what agents report and what users say about them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from platform_core.errors import ConflictError, ValidationError
from platform_core.models import Agent, AgentMetric, AgentReview, User
from platform_core.service_base import ServiceBase

_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,99}$")


class FeedbackWrites(ServiceBase):
    """Append metric points; review agents (their average rating kept in step)."""

    def record_metric(
        self,
        agent_id: int,
        metric_name: str,
        value: float,
        *,
        recorded_at: datetime | None = None,
        tags: dict[str, Any] | None = None,
    ) -> AgentMetric:
        """Append one point to an agent's metric series."""
        if not _METRIC_NAME.match(metric_name or ""):
            raise ValidationError(
                f"metric_name must be lower_snake_case (letters, digits, '_', '.'), got"
                f" {metric_name!r}"
            )
        if (
            not isinstance(value, int | float)
            or value != value
            or value
            in (
                float("inf"),
                float("-inf"),
            )
        ):
            raise ValidationError(f"metric value must be a finite number, got {value!r}")
        with self._transaction() as s:
            self._get(s, Agent, agent_id)
            point = AgentMetric(
                agent_id=agent_id,
                metric_name=metric_name,
                metric_value=float(value),
                recorded_at=recorded_at or self._clock(),
                tags=tags,
            )
            s.add(point)
            s.flush()
            return point

    def review_agent(
        self,
        agent_id: int,
        reviewer_id: int,
        rating: int,
        *,
        comment: str | None = None,
        is_public: bool = True,
    ) -> AgentReview:
        """Review an agent (one review per agent per reviewer) and refresh its average rating."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise ValidationError(f"rating must be an integer from 1 to 5, got {rating!r}")
        now = self._clock()
        with self._transaction() as s:
            self._get(s, Agent, agent_id)
            self._get(s, User, reviewer_id)
            existing = s.scalar(
                select(AgentReview.id).where(
                    AgentReview.agent_id == agent_id, AgentReview.reviewer_id == reviewer_id
                )
            )
            if existing is not None:
                raise ConflictError(
                    f"user {reviewer_id} has already reviewed agent {agent_id} (review {existing})"
                )
            review = AgentReview(
                agent_id=agent_id,
                reviewer_id=reviewer_id,
                rating=rating,
                comment=comment,
                is_public=is_public,
                created_at=now,
                updated_at=now,
            )
            s.add(review)
            s.flush()
            average = s.scalar(
                select(func.avg(AgentReview.rating)).where(AgentReview.agent_id == agent_id)
            )
            s.execute(
                update(Agent)
                .where(Agent.id == agent_id)
                .values(average_rating=float(average), updated_at=now)
            )
            return review
