"""The SQL the assets run lives in ``sql/`` at the repository root, one model per file.

``sql/macros/<name>.sql`` holds one DuckDB table macro each (``create or replace temp macro
<name>(...)``): a figure computed at read time for a filter (a period, an agent), or logic two
models share. Temporary macros live with the connection, never in the warehouse file: whoever
runs SQL that calls one creates it first (:func:`create_macros`; the models, the dashboards,
an analyst with ``.read sql/macros/<name>.sql``). DuckDB binds a macro's tables when it is
created, so it is created just before the SQL that calls it, once the tables exist.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MACROS_FOLDER = "macros"


@cache
def read_sql(relative: str) -> str:
    """The text of ``sql/<relative>``; a clear error if the file is missing."""
    path = SQL_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"SQL model {relative!r} not found under {SQL_DIR}")
    return path.read_text()


def execute_script(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> None:
    """Run every statement of ``sql``, binding to each the ``$name`` parameters it uses.

    DuckDB binds parameters only to the last statement of a string, so the script is split
    with DuckDB's own parser (which knows about quotes and comments).
    """
    params = params or {}
    for statement in con.extract_statements(sql):
        names = statement.named_parameters
        missing = names - params.keys()
        if missing:
            raise KeyError(
                f"SQL parameter(s) {sorted(missing)} not given for: {statement.query.strip()[:80]}"
            )
        if names:
            con.execute(statement.query, {n: params[n] for n in names})
        else:
            con.execute(statement.query)


@cache
def macro_names(root: Path = SQL_DIR) -> tuple[str, ...]:
    """The macros of ``sql/macros/``, by name (the file's stem)."""
    return tuple(sorted(p.stem for p in (root / MACROS_FOLDER).glob("*.sql")))


@cache
def macros_called(sql: str) -> tuple[str, ...]:
    """The macros of ``sql/macros/`` that ``sql`` calls (``name(`` outside comments)."""
    code = _without_comments(sql)
    return tuple(m for m in macro_names() if re.search(rf"\b{m}\s*\(", code))


def create_macros(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Create on ``con`` the temporary macros ``sql`` calls (see the module doc)."""
    for name in macros_called(sql):
        execute_script(con, read_sql(f"{MACROS_FOLDER}/{name}.sql"))


def run_model(
    con: duckdb.DuckDBPyConnection, relative: str, params: Mapping[str, Any] | None = None
) -> None:
    """Run the SQL model file ``sql/<relative>`` with its parameters, and ``$sql_version``:
    :func:`sql_version` of the file and the macros it calls, for a model that must notice its
    own logic changing. The macros it calls are created first. A DDL-only file
    (:func:`ddl_relation`) the warehouse already holds at this version is not run again."""
    sql = read_sql(relative)
    create_macros(con, sql)
    version = sql_version(
        sql + "".join(read_sql(f"{MACROS_FOLDER}/{m}.sql") for m in macros_called(sql))
    )
    relation = ddl_relation(relative)
    with one_transaction(con):
        if relation is not None and _applied(con, relative, relation, version):
            return
        execute_script(con, sql, {"sql_version": version, **(params or {})})
        if relation is not None:
            _record_applied(con, relative, relation, version)


#: The record of which DDL-only files the warehouse holds, at which version.
MODEL_VERSIONS = "ops/model_versions.sql"
#: Materializations whose files hold DDL only (a convention: the loader, pipelines/
#: sql_models.py, checks only that they create their relation): running
#: one again at the same version changes nothing but costs a commit.
DDL_MATERIALIZATIONS = ("view", "bookkeeping", "python")
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*([a-z_]+)", re.MULTILINE)


@cache
def ddl_relation(relative: str) -> tuple[str, str] | None:
    """``(schema, name)`` that the DDL-only model file ``sql/<relative>`` creates (a view, a
    bookkeeping table, a Python-driven model's table), or None for a file that builds data.

    Such a file is applied once per version (``ops.model_versions``): on the DuckLake
    restating a view or a comment is a commit of its own (~60 ms), and a run restated about
    55 of them with nothing new to say.
    """
    parts = Path(relative).parts
    match = _MATERIALIZED.search(read_sql(relative))
    if len(parts) != 2 or not match or match.group(1) not in DDL_MATERIALIZATIONS:
        return None
    return parts[0], Path(parts[1]).stem


def _applied(
    con: duckdb.DuckDBPyConnection, relative: str, relation: tuple[str, str], version: int
) -> bool:
    """Whether the warehouse holds ``relative`` at ``version`` and its relation exists (a
    relation dropped by hand is created again).

    Read once per transaction (:class:`_Transaction`): each read of a DuckLake table costs
    ~10 ms however small it is, and a step checks several files in one transaction.
    duckdb_columns() lists views too, at a tenth of duckdb_tables()' cost (which sizes
    every table of the DuckLake).
    """
    state = _IN_TRANSACTION[id(con)]
    if state.ddl_versions is None:
        state.relations = set(
            con.execute(
                "select distinct schema_name, table_name from duckdb_columns()"
                " where database_name = current_database()"
            ).fetchall()
        )
        if ("ops", "model_versions") in state.relations:
            state.ddl_versions = dict(
                con.execute("select model, sql_version from ops.model_versions").fetchall()
            )
        else:  # a new warehouse: created in this transaction, with the first file it records
            execute_script(con, read_sql(MODEL_VERSIONS))
            state.ddl_versions = {}
    return state.ddl_versions.get(relative) == version and relation in state.relations


def _record_applied(
    con: duckdb.DuckDBPyConnection, relative: str, relation: tuple[str, str], version: int
) -> None:
    """Record that ``relative`` was applied at ``version`` (in the caller's transaction)."""
    con.execute("delete from ops.model_versions where model = ?", [relative])
    con.execute(
        "insert into ops.model_versions values (?, ?, ?)",
        [relative, version, datetime.now(UTC).replace(tzinfo=None)],
    )
    state = _IN_TRANSACTION[id(con)]
    if state.ddl_versions is not None:
        state.ddl_versions[relative] = version
        state.relations.add(relation)


@dataclass
class _Transaction:
    """What a transaction :func:`one_transaction` began has read of ``ops.model_versions``
    and of the relations that exist (None: not yet); its snapshot cannot change under it."""

    ddl_versions: dict[str, int] | None = None
    relations: set[tuple[str, str]] = field(default_factory=set)


#: Connections (by id) inside a transaction :func:`one_transaction` began.
_IN_TRANSACTION: dict[int, _Transaction] = {}


def in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` is inside a transaction :func:`one_transaction` began. The code that
    writes the warehouse begins its transactions only through it: DuckDB cannot say, and a
    BEGIN refused because a transaction is open aborts that transaction."""
    return id(con) in _IN_TRANSACTION


@contextmanager
def one_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run a block as one transaction, or inside the caller's when one is open.

    On the DuckLake every commit is a snapshot with its own Parquet files: a model committed
    statement by statement cost one commit each (tens for the larger models) and left
    readers of the latest snapshot a half-built model; one transaction commits it whole.
    """
    if in_transaction(con):  # the caller's transaction: it commits
        yield
        return
    con.execute("BEGIN TRANSACTION")
    _IN_TRANSACTION[id(con)] = _Transaction()
    try:
        yield
    except BaseException:
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")
    finally:
        _IN_TRANSACTION.pop(id(con), None)


def _without_comments(sql: str) -> str:
    """The SQL without ``--`` and ``/* */`` comments (string literals kept as they are)."""
    out, i, quote = [], 0, None
    while i < len(sql):
        char = sql[i]
        if quote:
            out.append(char)
            if char == quote:
                quote = None
            i += 1
        elif char in "'\"":
            quote = char
            out.append(char)
            i += 1
        elif sql.startswith("--", i):
            i = sql.find("\n", i) if sql.find("\n", i) != -1 else len(sql)
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end == -1 else end + 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


@cache
def sql_version(sql: str) -> int:
    """A number that changes when the SQL's statements change and not when only its comments
    or whitespace do (a positive 62-bit prefix of their SHA-256). The quarantine keeps it with
    its cursor: new rules re-judge every row once, a reworded comment re-judges nothing."""
    normalized = " ".join(_without_comments(sql).split())
    return int(hashlib.sha256(normalized.encode()).hexdigest()[:15], 16)


def missing_relations(con: duckdb.DuckDBPyConnection, relations: tuple[str, ...]) -> list[str]:
    """Those of ``relations`` (``schema.name``, tables or views) the warehouse lacks."""
    present = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables()"
            " union all select schema_name, view_name from duckdb_views()"
        ).fetchall()
    }
    return [r for r in relations if r not in present]
