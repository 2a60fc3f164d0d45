"""``agenthub sql``: the DuckDB shell on the published snapshot, read-only.

The shell is the ``duckdb`` CLI from PyPI (``duckdb-cli``, the same version as the library, so
it loads the same extension files, offline). It starts on an in-memory database with the
lake attached read-only at the published snapshot (or an earlier one: ``--snapshot``) and in
use, so ``select * from marts.agent_usage_summary`` works as typed; nothing it does can block
or be blocked by a pipeline run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.warehouse import extensions
from pipelines.warehouse.lake import (
    ALIAS,
    Lake,
    NotPublished,
    attach_statement,
    latest_published,
    sql_literal,
)

#: ``--format`` -> the DuckDB CLI's output mode (a header line, then the rows).
FORMATS = {"table": "-column", "csv": "-csv", "json": "-json"}


def duckdb_cli() -> Path:
    """The ``duckdb`` executable installed beside this Python."""
    path = Path(sys.executable).with_name("duckdb")
    if not path.exists():
        raise FileNotFoundError(f"no DuckDB shell at {path}: run `make setup` (duckdb-cli)")
    return path


def setup_commands(lake: Lake, snapshot: int) -> list[str]:
    """What the shell runs before the user's first statement."""
    return [
        f"SET extension_directory = {sql_literal(str(extensions.extension_directory()))}",
        "SET autoinstall_known_extensions = false",
        "LOAD ducklake",
        f"LOAD {'postgres_scanner' if lake.postgres else 'sqlite_scanner'}",
        attach_statement(lake, read_only=True, snapshot=snapshot),
        f"USE {ALIAS}",
    ]


def shell_command(
    lake: Lake,
    *,
    query: str | None = None,
    fmt: str | None = None,
    snapshot: int | None = None,
) -> list[str]:
    """The ``duckdb`` command line for the shell (``query``: run it and exit; ``fmt``: the
    output, ``table`` by default with a query, the shell's own boxes without).

    Raises :class:`NotPublished` before the first publish, ``ValueError`` for a bad format.
    """
    if fmt is None and query is not None:
        fmt = "table"
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    snapshot = latest_published(lake) if snapshot is None else snapshot
    if snapshot is None:
        raise NotPublished.at(lake)
    command = [str(duckdb_cli()), "-bail"]
    for statement in setup_commands(lake, snapshot):
        command += ["-cmd", statement]
    if fmt is not None:
        command.append(FORMATS[fmt])
    if query is not None:
        command += ["-c", query]
    return command
