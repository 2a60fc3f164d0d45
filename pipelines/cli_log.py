"""What ``agenthub pipeline run``, ``maintenance run`` and ``demo`` print while Dagster runs.

Dagster's console logger prints every event, and each failed step with its whole stack
trace: seven identical traces when a setting is wrong. The commands use this logger instead:
one line per message an asset logs (what it read, wrote, sent) and its warnings; failures are
summed up by :func:`failure_summary` once the run ends, each distinct cause once, in a few
lines. ``--verbose`` switches back to Dagster's own console logger with the traces; with
``DAGSTER_HOME`` set, the run's full log is in the Dagster UI either way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR
from dagster._utils.error import SerializableErrorInfo
from rich.console import Console
from rich.markup import escape

LOGGER_NAME = "agenthub_cli"


class _StepLines(logging.Handler):
    """Prints the messages assets log (not Dagster's own events), one line each."""

    def __init__(self, console: Console) -> None:
        super().__init__(level=logging.INFO)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, LOG_RECORD_METADATA_ATTR, None) or {}
        if meta.get("dagster_event") is not None:
            return  # engine events: the summary tables and failure_summary say what matters
        step = meta.get("step_key") or meta.get("resource_name") or ""
        message = str(meta.get("orig_message", record.getMessage())).splitlines()[0]
        style = "yellow" if record.levelno >= logging.WARNING else "dim"
        self.console.print(f"  [{style}]{escape(f'{step}: {message}')}[/{style}]", highlight=False)


@dg.logger(description="agenthub's command line: one line per asset message, no traces.")
def agenthub_cli_logger(_init_context: dg.InitLoggerContext) -> logging.Logger:
    """The commands' logger, printing to standard output (long lines kept whole)."""
    logger = logging.Logger(LOGGER_NAME, level=logging.INFO)
    logger.addHandler(_StepLines(Console(soft_wrap=True)))
    return logger


#: The loggers a run of the code location may choose in its run config: Dagster's console
#: (the default, and ``--verbose``) and the commands' own.
LOGGERS = {"console": dg.colored_console_logger, LOGGER_NAME: agenthub_cli_logger}


def run_config_loggers(*, verbose: bool) -> dict[str, object]:
    """The ``loggers`` part of a command's run config."""
    if verbose:
        return {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    return {"loggers": {LOGGER_NAME: {}}}


@dataclass(frozen=True)
class Failure:
    """One distinct cause of failure and where it struck."""

    where: list[str]
    cause: str
    #: A setting that cannot work (the message names it and the next step).
    setting: bool = False


def _root_cause(error: SerializableErrorInfo | None) -> tuple[str, bool]:
    """The innermost error's message without the module path of its type, and whether it is
    a setting's error."""
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return "unknown error", False
    message = error.message.strip()
    if error.cls_name == "SettingError":
        return message.partition(": ")[2], True
    # "sqlite3.OperationalError: X" -> "OperationalError: X": the kind of failure, briefly.
    return re.sub(r"^(?:\w+\.)+(\w+): ", r"\1: ", message), False


def failures(events: Iterable[dg.DagsterEvent]) -> list[Failure]:
    """The distinct causes of the failed steps, resources and runs among ``events``."""
    by_cause: dict[tuple[str, bool], list[str]] = {}
    for event in events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            where, error = event.step_key or "step", event.step_failure_data.error
        elif event.event_type in (
            dg.DagsterEventType.RESOURCE_INIT_FAILURE,
            dg.DagsterEventType.RUN_FAILURE,
        ):
            error = getattr(event.event_specific_data, "error", None)
            if error is None:
                continue
            where = "resources" if event.event_type.value.startswith("RESOURCE") else "run"
        else:
            continue
        places = by_cause.setdefault(_root_cause(error), [])
        if where not in places:
            places.append(where)
    return [Failure(where, cause, setting) for (cause, setting), where in by_cause.items()]


def failure_summary(found: list[Failure], *, verbose: bool, recorded: bool) -> list[str]:
    """The lines a failed command ends with: each cause once, then where the trace is."""
    lines = []
    for failure in found:
        steps = [w for w in failure.where if w not in ("resources", "run")]
        shown = ", ".join(steps[:4]) + (f" and {len(steps) - 4} more" if len(steps) > 4 else "")
        cause = escape("\n  ".join(failure.cause.splitlines()[:6]))
        place = f" in {shown}" if steps else ""
        lines.append(f"[red]error[/red]{place}:\n  {cause}")
    if not verbose:
        where = "the run's page in the Dagster UI, or " if recorded else ""
        lines.append(f"The full trace: {where}the same command with --verbose.")
    return lines
