"""The four seed-000 tables, as migrated, match the DDL in the seed document itself.

The document (a verbatim copy of ``shared/seeds/000_*.txt``) is parsed here, independently of
the models: column names, types, nullability, defaults, unique and foreign-key constraints,
and the indexes it lists and recommends. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

SEED = Path(__file__).with_name("data") / "seed_000_schema.md"
TABLES = ("users", "agents", "hirings", "executions")


@dataclass
class SeedColumn:
    name: str
    type: str  # normalised: INTEGER, TIMESTAMP, VARCHAR(50), TEXT, BOOLEAN, JSON, FLOAT
    nullable: bool
    default: str | None  # normalised literal, e.g. 'draft', TRUE, 0
    unique: bool
    primary_key: bool
    references: str | None  # "table.column"


def parse_seed_ddl(text: str) -> dict[str, dict[str, SeedColumn]]:
    """Every ``CREATE TABLE`` of the document's SQL blocks, column by column."""
    tables: dict[str, dict[str, SeedColumn]] = {}
    for name, body in re.findall(r"CREATE TABLE (\w+) \((.*?)\n\);", text, flags=re.S):
        columns = {}
        for raw in body.splitlines():
            line = raw.split("--")[0].strip().rstrip(",")
            if not line:
                continue
            m = re.match(r"(\w+)\s+(\w+(?:\(\d+\))?)\s*(.*)$", line)
            assert m, f"unparsed DDL line in {name}: {raw!r}"
            col, typ, rest = m.groups()
            default = re.search(r"DEFAULT\s+('[^']*'|\S+)", rest)
            ref = re.search(r"REFERENCES\s+(\w+)\((\w+)\)", rest)
            columns[col] = SeedColumn(
                name=col,
                type=typ.upper(),
                nullable="NOT NULL" not in rest and "PRIMARY KEY" not in rest,
                default=_norm_default(default.group(1), typ.upper()) if default else None,
                unique="UNIQUE" in rest,
                primary_key="PRIMARY KEY" in rest,
                references=f"{ref.group(1)}.{ref.group(2)}" if ref else None,
            )
        tables[name] = columns
    return tables


def recommended_indexes(text: str) -> list[tuple[str, str, list[str]]]:
    """``CREATE INDEX name ON table(cols)`` lines of the "Recommended Additional Indexes"."""
    return [
        (name, table, [c.strip() for c in cols.split(",")])
        for name, table, cols in re.findall(r"CREATE INDEX (\w+) ON (\w+)\(([^)]*)\);", text)
    ]


def _norm_default(value: str | None, type_: str = "") -> str | None:
    """A default as one comparable literal: SQLite reflects booleans as 1/0, PostgreSQL as
    true/false and strings with a cast ('draft'::character varying); 0.0 and 0 are one number."""
    if value is None:
        return None
    v = value.strip().strip("()")
    v = re.sub(r"::[\w ]+$", "", v).strip("'")
    if type_ == "BOOLEAN":
        return {"1": "TRUE", "true": "TRUE", "0": "FALSE", "false": "FALSE"}.get(v.lower(), v)
    if type_ in ("INTEGER", "FLOAT"):
        return str(float(v))
    return v


def _norm_type(type_: object) -> str:
    t = str(type_).upper()
    t = {
        "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
        "DATETIME": "TIMESTAMP",
        "DOUBLE PRECISION": "FLOAT",
        "CHARACTER VARYING": "VARCHAR",
    }.get(t, t)
    return t.replace("CHARACTER VARYING", "VARCHAR")


SEED_TABLES = parse_seed_ddl(SEED.read_text())


def test_the_seed_document_parses_into_the_four_tables() -> None:
    assert set(SEED_TABLES) == set(TABLES)
    assert len(SEED_TABLES["agents"]) == 27
    assert SEED_TABLES["executions"]["execution_id"].unique


@pytest.mark.parametrize("table", TABLES)
def test_columns_types_nullability_and_defaults_match_the_seed(engine: Engine, table: str) -> None:
    inspector = inspect(engine)
    actual = {c["name"]: c for c in inspector.get_columns(table)}
    seed = SEED_TABLES[table]
    missing = set(seed) - set(actual)
    assert not missing, f"{table} lacks seed columns {missing}"
    for name, col in seed.items():
        got = actual[name]
        assert _norm_type(got["type"]) == col.type, (table, name)
        assert got["nullable"] == col.nullable, (table, name)
        if not col.primary_key:
            default = got["default"]
            assert _norm_default(default, col.type) == col.default, (table, name, default)
    # Columns the platform added later must not break a seed-000 writer.
    for name in set(actual) - set(seed):
        assert actual[name]["nullable"] or actual[name]["default"] is not None, (table, name)


@pytest.mark.parametrize("table", TABLES)
def test_keys_unique_constraints_and_foreign_keys_match_the_seed(
    engine: Engine, table: str
) -> None:
    inspector = inspect(engine)
    seed = SEED_TABLES[table]
    assert inspector.get_pk_constraint(table)["constrained_columns"] == [
        c.name for c in seed.values() if c.primary_key
    ]
    unique_sets = {tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["unique"]}
    unique_sets |= {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
    expected_unique = {(c.name,) for c in seed.values() if c.unique}
    assert expected_unique <= unique_sets
    # No single-column unique constraint beyond the seed's (it would reject valid seed rows).
    assert {u for u in unique_sets if len(u) == 1} == expected_unique
    fks = {
        (fk["constrained_columns"][0], f"{fk['referred_table']}.{fk['referred_columns'][0]}")
        for fk in inspector.get_foreign_keys(table)
    }
    assert fks == {(c.name, c.references) for c in seed.values() if c.references}


def test_listed_and_recommended_indexes_exist(engine: Engine) -> None:
    inspector = inspect(engine)
    indexed = {t: {tuple(i["column_names"]) for i in inspector.get_indexes(t)} for t in TABLES}
    names = {t: {i["name"] for i in inspector.get_indexes(t)} for t in TABLES}
    # "Primary keys on all tables, foreign key indexes, username and email on users,
    # name on agents, execution_id on executions."
    for table in TABLES:
        assert inspector.get_pk_constraint(table)["constrained_columns"] == ["id"]
        for col in SEED_TABLES[table].values():
            if col.references:
                assert (col.name,) in indexed[table], f"{table}.{col.name} has no index"
    assert {("username",), ("email",)} <= indexed["users"]
    assert ("name",) in indexed["agents"]
    assert ("execution_id",) in indexed["executions"]
    for name, table, cols in recommended_indexes(SEED.read_text()):
        assert name in names[table]
        assert tuple(cols) in indexed[table]
