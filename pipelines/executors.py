"""Where a job's steps run (``PIPELINE_EXECUTOR``): the run's own process, a process per step,
or Celery workers on other machines.

- ``in_process`` (the default): every step in the run's process, one after another, sharing
  one warehouse connection (opening one costs ~0.3 s, and a run has ~50 steps).
- ``multiprocess``: each step in a process of its own on the run's machine.
- ``celery``: each step a Celery task, taken by any ``dagster-celery`` worker listening on
  ``CELERY_QUEUE`` (default ``dagster``) of the broker ``CELERY_BROKER_URL`` (default Redis on
  127.0.0.1:6379). Workers need the code, the environment the runs have, and Dagster's
  storage (``deploy/dagster.yaml``: PostgreSQL), the warehouse catalog in PostgreSQL and
  ``WAREHOUSE_DATA_PATH`` on storage every worker mounts at the same path.

Steps in other processes open their own warehouse connection; their writes take turns
through the warehouse's writer lock, a PostgreSQL advisory lock with a PostgreSQL catalog,
so steps on different machines never conflict (pipelines/warehouse/files.py). The commands
(``agenthub pipeline run`` and the others) always run in-process.
"""

from __future__ import annotations

import os

import dagster as dg

from platform_core.config import SettingError

VARIABLE = "PIPELINE_EXECUTOR"
CHOICES = ("in_process", "multiprocess", "celery")
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def celery_settings() -> dict[str, object]:
    """The Celery executor's configuration from the environment (also a worker's ``-y``
    file: tests/deploy/test_celery.py writes it from this)."""
    broker = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER
    return {
        "broker": broker,
        # Results through the broker's Redis; Celery's default rpc:// needs RabbitMQ.
        "backend": os.environ.get("CELERY_RESULT_BACKEND") or broker,
        "config_source": {"task_default_queue": os.environ.get("CELERY_QUEUE") or "dagster"},
    }


def job_executor() -> dg.ExecutorDefinition:
    """The executor ``PIPELINE_EXECUTOR`` names, for every job of the code location."""
    choice = os.environ.get(VARIABLE, "").strip() or "in_process"
    if choice == "in_process":
        return dg.in_process_executor
    if choice == "multiprocess":
        return dg.multiprocess_executor
    if choice == "celery":
        from dagster_celery import celery_executor

        return celery_executor.configured(celery_settings())
    raise SettingError(
        VARIABLE, f"{choice!r} is not an executor.", f"choose one of {', '.join(CHOICES)}."
    )
