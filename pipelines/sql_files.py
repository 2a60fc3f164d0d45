"""The SQL the assets run lives in ``sql/`` at the repository root, one model per file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def read_sql(relative: str) -> str:
    """The text of ``sql/<relative>``; a clear error if the file is missing."""
    path = SQL_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {relative!r} not found under {SQL_DIR}")
    return path.read_text()
