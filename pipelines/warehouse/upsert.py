"""Insert-or-replace by key, for tables the DuckLake cannot give a primary key.

DuckLake enforces no PRIMARY KEY or UNIQUE constraint, so DuckDB's ``INSERT OR REPLACE``
and ``ON CONFLICT`` have nothing to act on; the bookkeeping tables keep one row per key with
a ``MERGE`` on the key columns instead (the daily checks verify the grain of every table).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        column
        for (column,) in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database()"
            " and schema_name = ? and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
    ]


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    keys: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Insert ``rows`` (every column, in the table's order) into ``table`` (``schema.name``),
    replacing the rows that have the same ``keys``; one statement, so atomic."""
    if not rows:
        return
    columns = _columns(con, table)
    width = len(columns)
    if any(len(row) != width for row in rows):
        raise ValueError(f"{table} has {width} columns; every row must give each of them")
    values = ", ".join("(" + ", ".join("?" * width) + ")" for _ in rows)
    names = ", ".join(f'"{c}"' for c in columns)
    on = " and ".join(f't."{k}" is not distinct from s."{k}"' for k in keys)
    con.execute(
        f"merge into {table} as t using (select * from (values {values}) as v({names})) as s"
        f" on {on} when matched then update set * when not matched then insert *",
        [value for row in rows for value in row],
    )
