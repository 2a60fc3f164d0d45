"""Seed 000's sample users and agents, loaded by ``agenthub db init`` into an empty database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from platform_core.db import session_factory
from platform_core.models import Agent, User

SAMPLE_TIME = datetime(2024, 1, 1)

SAMPLE_USERS = [
    {
        "username": "admin",
        "email": "admin@agenthub.com",
        "full_name": "System Administrator",
        "is_active": True,
        "is_verified": True,
    },
    {
        "username": "creator1",
        "email": "creator1@example.com",
        "full_name": "Agent Creator",
        "is_active": True,
        "is_verified": True,
    },
]

SAMPLE_AGENTS = [
    {
        "name": "Echo Agent",
        "description": "A simple agent that echoes back input messages with processing",
        "entry_point": "echo_agent.py:main",
        "tags": ["echo", "simple", "demo"],
        "category": "utility",
    },
    {
        "name": "Calculator Agent",
        "description": "Mathematical operations on input data",
        "entry_point": "calculator_agent.py:main",
        "tags": ["math", "calculator", "demo"],
        "category": "utility",
    },
    {
        "name": "Text Processor Agent",
        "description": "Text analysis and processing operations",
        "entry_point": "text_processor_agent.py:main",
        "tags": ["text", "nlp", "demo"],
        "category": "text",
    },
]


def load_sample_data(engine: Engine) -> bool:
    """Insert the sample users and approved public agents if there are no users yet.

    Returns True when it loaded them, False when the database already had users.
    """
    with session_factory(engine).begin() as s:
        if s.scalar(select(func.count()).select_from(User)):
            return False
        for row in SAMPLE_USERS:
            s.add(
                User(
                    **row,
                    created_at=SAMPLE_TIME,
                    updated_at=SAMPLE_TIME,
                    email_verified_at=SAMPLE_TIME,
                )
            )
        for row in SAMPLE_AGENTS:
            s.add(
                Agent(
                    **row,
                    version="1.0.0",
                    author="creator1",
                    email="creator1@example.com",
                    requirements=[],
                    pricing_model="free",
                    price_per_use=0.0,
                    status="approved",
                    is_public=True,
                    created_at=SAMPLE_TIME,
                    updated_at=SAMPLE_TIME,
                )
            )
    return True
