"""sql/ read as the graph: headers, references, layer direction, the code location on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.definitions import defs
from pipelines.sql_files import SQL_DIR
from pipelines.sql_models import (
    LAYERS,
    SqlModelError,
    load_graph,
    parse_macro,
    parse_model,
    read_queries,
)
from pipelines.warehouse.assets import PUBLISHED

GRAPH = load_graph()


def _layer(key: tuple[str, str]) -> int:
    return LAYERS.index(key[0])


def test_staging_reads_only_raw_and_no_model_reads_a_later_layer() -> None:
    staging = [m for m in GRAPH.models.values() if m.layer == "staging"]
    assert len(staging) == 6
    for model in staging:
        assert model.reads and {k[0] for k in model.reads} == {"raw"}, model.relative
    for model in [*GRAPH.models.values(), *GRAPH.steps]:
        own = LAYERS.index(model.layer)
        # A trust step reads the state of the marts it builds (the incremental update); any
        # model may read the bookkeeping of ops (cursors, the archive views: source data
        # purged from the platform, rows deleted on it, days owed a rebuild).
        allowed = set(model.step_of) | {
            key for key, m in GRAPH.models.items() if m.materialized == "bookkeeping"
        }
        later = [k for k in model.reads - allowed if _layer(k) > own]
        assert not later, (model.relative, later)


def test_the_marts_read_clean_rows_only() -> None:
    # Marts never read raw or staging: what they count went through the quarantine.
    for model in [*GRAPH.models.values(), *GRAPH.steps]:
        if model.layer == "marts":
            assert not any(k[0] in ("raw", "staging") for k in model.reads), model.relative


def test_trust_deps_come_from_its_step_files() -> None:
    assert GRAPH.deps(("marts", "trust_events"), ("marts", "agent_trust")) == [
        ("intermediate", "executions_all"),
        ("intermediate", "valid_agent_reviews"),
        ("intermediate", "valid_agents"),
    ]
    steps = [s.relative for s in GRAPH.step_files(("marts", "agent_trust"))]
    assert steps[0] == "marts/trust/01_event_source.sql"
    assert "marts/trust/09_finish.sql" in steps


def test_every_asset_key_is_a_file_and_every_group_its_layer() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        layer = key.path[0]
        assert node.group_name == layer, key
        if layer in ("staging", "intermediate", "marts"):
            assert (SQL_DIR / layer / f"{key.path[1]}.sql").is_file(), key
        parents = {p.to_user_string() for p in node.parent_keys}
        model = GRAPH.models.get(tuple(key.path))
        if model is not None and key.path[0] != "ops":
            expected = {"/".join(k) for k in GRAPH.deps(model.key)}
            if model.materialized == "python" and model.layer == "marts":
                expected = {
                    "/".join(k)
                    for k in GRAPH.deps(("marts", "trust_events"), ("marts", "agent_trust"))
                }
            assert parents == expected, key


def test_publish_follows_every_unpartitioned_asset() -> None:
    graph = defs.resolve_asset_graph()
    publish = graph.get(PUBLISHED)
    unpartitioned = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).partitions_def is None and k.to_user_string() != "ops/published_warehouse"
    }
    assert {p.to_user_string() for p in publish.parent_keys} == unpartitioned
    partitioned = {
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).partitions_def
    }
    assert partitioned == {
        "ops/days_rebuilt",
        "marts/agent_usage_daily",
        "marts/execution_durations",
        "marts/duration_histogram_daily",
        "marts/user_activity_daily",
        "marts/metrics_rollup_hourly",
        "marts/metrics_rollup_daily",
    }


def test_grain_headers_become_blocking_unique_grain_checks() -> None:
    checks = {
        (key.asset_key.to_user_string(), key.name)
        for key in defs.resolve_asset_graph().asset_check_keys
    }
    grained = [m for m in GRAPH.models.values() if m.grain and m.materialized != "bookkeeping"]
    assert len(grained) >= 10
    for model in grained:
        assert ("/".join(model.key), "unique_grain") in checks, model.relative


def _write(root: Path, relative: str, sql: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql)


def test_a_typo_in_a_from_clause_fails_when_the_graph_loads(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "staging/stg_users.sql",
        "-- materialized: view\n"
        "create or replace view staging.stg_users as select * from raw.users;\n",
    )
    _write(
        tmp_path,
        "marts/people.sql",
        "-- materialized: table\n"
        "create or replace table marts.people as select * from staging.stg_usres;\n",
    )
    with pytest.raises(SqlModelError, match=r"sql/marts/people.sql: reads staging.stg_usres"):
        load_graph(tmp_path)


def test_references_in_comments_and_literals_are_not_reads() -> None:
    model = parse_model(
        "marts/people.sql",
        "-- marts.people: reads raw.users (says the prose)\n"
        "-- materialized: table\n"
        "-- grain: user_id\n"
        "create or replace table marts.people as\n"
        "select user_id from intermediate.valid_users /* not marts.other */;\n"
        "comment on table marts.people is 'copied from staging.stg_users';\n",
    )
    assert model.reads == {("intermediate", "valid_users")}
    assert model.grain == ("user_id",)
    assert model.description == "marts.people: reads raw.users (says the prose)"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "-- materialized: view\ncreate or replace table marts.x as select 1;\n",
            "materialized: view but no `create view marts.x`",
        ),
        ("-- materialized: tabel\ncreate table marts.x as select 1;\n", "must be one of"),
        ("create table marts.x as select 1;\n", "must be one of"),
        (
            "-- materialized: table\ncreate or replace table marts.x as select $when;\n",
            r"parameters \['when'\]",
        ),
        (
            "-- materialized: day_partitioned\ncreate table if not exists marts.x (d date);\n",
            "partition_day",
        ),
        (
            "-- materialized: table\n-- report: rows\n"
            "create or replace table marts.x as select 1;\n",
            "not `name = expression`",
        ),
    ],
)
def test_a_header_that_does_not_hold_together_is_an_error(sql: str, message: str) -> None:
    with pytest.raises(SqlModelError, match=message):
        parse_model("marts/x.sql", sql)


def test_a_file_outside_a_layer_or_an_unowned_sub_folder_is_an_error() -> None:
    with pytest.raises(SqlModelError, match="must be a layer"):
        parse_model("reports/x.sql", "-- materialized: table\ncreate table reports.x(a int);")
    with pytest.raises(SqlModelError, match="are steps"):
        parse_model("marts/trust/x.sql", "create temp table _x as select 1;")


def test_config_values_and_named_queries() -> None:
    liveness = GRAPH.model("marts", "agent_liveness")
    assert [(c.name, c.default) for c in liveness.config] == [("stale_after_minutes", 30)]
    assert liveness.parameters == {"run_at", "stale_after_minutes"}
    queries = read_queries("platform/trust_records.sql")
    assert set(queries) == {
        "events_in_range",
        "pending_events",
        "top_seq",
        "events_by_version",
        "scores",
    }
    assert queries["scores"] == "select agent_id, trust_score from marts.agent_trust"


def test_a_models_sql_version_follows_its_statements_not_its_comments() -> None:
    from pipelines.sql_files import read_sql, sql_version

    sql = read_sql("intermediate/quarantine.sql")
    reworded = sql.replace("-- intermediate.quarantine:", "-- intermediate.quarantine (reworded):")
    respaced = sql.replace("\n", "\n\n")
    assert reworded != sql and sql_version(reworded) == sql_version(sql)
    assert sql_version(respaced) == sql_version(sql)
    # A rule's threshold, a literal in a statement: a new version.
    stricter = sql.replace("duration_ms > 86400000", "duration_ms > 3600000")
    assert stricter != sql and sql_version(stricter) != sql_version(sql)
    # A '--' inside a string literal is not a comment.
    assert sql_version("select '--a' as x") != sql_version("select '--b' as x")


@pytest.mark.parametrize(
    ("relative", "sql", "message"),
    [
        (
            "marts/sneaky.sql",
            "-- materialized: table\ncreate or replace table marts.sneaky as"
            " select * from raw.executions",
            "sql/marts/sneaky.sql: reads raw.executions: a file under marts/ reads only"
            " intermediate.*, marts.*, ops.*",
        ),
        (
            "staging/stg_x.sql",
            "-- materialized: view\ncreate or replace view staging.stg_x as"
            " select * from intermediate.executions_all",
            "sql/staging/stg_x.sql: reads intermediate.executions_all",
        ),
        (
            "intermediate/x.sql",
            "-- materialized: table\ncreate or replace table intermediate.x as select 1 as a;"
            "\ninsert into marts.agent_trust select 1",
            "sql/intermediate/x.sql: writes marts.agent_trust: a file under intermediate/"
            " writes only intermediate.* (and ops.*)",
        ),
    ],
)
def test_a_file_that_breaks_the_layers_fails_at_load(relative: str, sql: str, message: str):
    with pytest.raises(SqlModelError) as refused:
        parse_model(relative, sql)
    assert message in str(refused.value)


def test_any_layer_may_read_and_write_the_ops_bookkeeping() -> None:
    model = parse_model(
        "marts/fine.sql",
        "-- materialized: table\ncreate or replace table marts.fine as"
        " select * from intermediate.executions_all, ops.watermarks;"
        "\ninsert or replace into ops.watermarks select 'fine', null, 0, now()",
    )
    assert ("ops", "watermarks") in model.reads


@pytest.mark.parametrize(
    ("relative", "sql", "message"),
    [
        (
            "macros/period.sql",
            "create or replace temp macro periods(a) as table select a",
            "sql/macros/period.sql: a macro file defines"
            " `create or replace temp macro period(...)`",
        ),
        (
            "macros/period.sql",
            "create or replace macro period(a) as table select a",
            "temp macro period(...)",
        ),
        (
            "macros/period.sql",
            "create or replace temp macro period(a) as table select * from staging.stg_users",
            "sql/macros/period.sql: reads staging.stg_users: a file under macros/ reads only"
            " intermediate.*, marts.*, ops.*",
        ),
        (
            "macros/period.sql",
            "create or replace temp macro period(a) as table select a;"
            "\ninsert into marts.agent_trust select 1",
            "sql/macros/period.sql: writes marts.agent_trust: a macro writes nothing",
        ),
    ],
)
def test_a_macro_that_is_not_a_temporary_read_only_macro_fails_at_load(
    relative: str, sql: str, message: str
) -> None:
    with pytest.raises(SqlModelError) as refused:
        parse_macro(relative, sql)
    assert message in str(refused.value)


def test_a_model_that_calls_a_macro_depends_on_what_the_macro_reads(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "macros/busy.sql",
        "-- busy(n): agents with more than n executions\n"
        "create or replace temp macro busy(n) as table\n"
        "select agent_id from marts.usage where executions > n;\n",
    )
    _write(
        tmp_path,
        "marts/usage.sql",
        "-- materialized: table\n"
        "create or replace table marts.usage as select 1 as agent_id, 2 as executions;\n",
    )
    _write(
        tmp_path,
        "marts/busy_agents.sql",
        "-- materialized: table\n"
        "create or replace table marts.busy_agents as select * from busy(1);\n",
    )
    graph = load_graph(tmp_path)
    assert set(graph.macros) == {"busy"}
    assert ("marts", "usage") in graph.model("marts", "busy_agents").reads
    assert GRAPH.model("marts", "metrics_rollup_hourly").reads >= {
        ("intermediate", "valid_agent_metrics")
    }
