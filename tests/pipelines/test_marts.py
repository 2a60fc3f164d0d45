"""The marts, against numbers computed here in plain Python from the platform's own rows.

One simulated history (with bad rows) per backend is built once per module and run through
the real jobs (platform_pipeline, then daily_marts over the touched days). Every expected
value is recomputed from the platform database with SQLAlchemy and Python, never with the
SQL under test.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import text

from pipelines.sql_files import SQL_DIR
from platform_core.models import utcnow
from platform_core.service import PlatformService
from platform_core.simulate import SimulationConfig
from tests.pipelines.marts_reference import (
    TERMINAL,
    TRUST_DAYS,
    TRUST_EVENTS_OF_DAYS,
    Built,
    clean_executions,
    percentile,
    reference_trust,
    trust_days_from_events,
)
from tests.worlds import simulated_engine

END = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)
CONFIG = SimulationConfig(
    users=30,
    agents=8,
    hirings=80,
    executions=6_000,
    days=4,
    metric_interval_minutes=30,
    end=END,
    bad_rows=24,
    degrading_share=0.3,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp(request.param)
    engine = simulated_engine(request.param, request, tmp, CONFIG)
    b = Built(engine, tmp / "warehouse.sqlite")
    b.run()
    yield b
    engine.dispose()


# -- tests -----------------------------------------------------------------------------------


def test_quarantine_holds_exactly_the_bad_rows(built: Built) -> None:
    bad = {e["id"] for e in built.source("executions") if e["execution_id"].startswith("bad_")}
    flagged = {
        r[0]
        for r in built.query(
            "select distinct row_key from marts.quarantine where table_name = 'executions'"
        )
    }
    assert flagged == bad
    assert flagged == {e["id"] for e in built.source("executions")} - {
        e["id"] for e in clean_executions(built)
    }
    points = built.source("agent_metrics")
    copies = Counter(
        (p["agent_id"], p["metric_name"], p["recorded_at"], p["metric_value"]) for p in points
    )
    assert built.query("select count(*) from marts.quarantine where rule = 'duplicate_point'")[0][
        0
    ] == sum(n - 1 for n in copies.values())
    # The data-quality snapshot counts the same rows.
    assert (
        built.query(
            "select sum(quarantined_rows) from marts.data_quality where checked_at ="
            " (select max(checked_at) from marts.data_quality)"
        )[0][0]
        == built.query("select count(*) from marts.quarantine")[0][0]
    )


def test_agent_usage_daily_matches_python(built: Built) -> None:
    groups: dict[tuple[int, date], list[dict]] = defaultdict(list)
    for e in clean_executions(built):
        groups[(e["agent_id"], e["created_at"].date())].append(e)
    agents = {a["id"]: a for a in built.source("agents")}
    hires = Counter((h["agent_id"], h["hired_at"].date()) for h in built.source("hirings"))
    mart = {
        (r[0], r[1]): r
        for r in built.query(
            "select agent_id, day, executions, completed, failed, timed_out, cancelled,"
            " success_rate, avg_duration_ms, p50_duration_ms, p95_duration_ms, p99_duration_ms,"
            " unique_users, avg_cpu_usage, new_hirings, revenue from marts.agent_usage_daily"
        )
    }
    days_built = {d for _, d in mart}
    for key, rows in groups.items():
        if key[1] not in days_built:
            continue
        got = mart[key]
        status = Counter(r["status"] for r in rows)
        done = [r["duration_ms"] for r in rows if r["status"] == "completed"]
        finished = status["completed"] + status["failed"] + status["timeout"]
        assert got[2:7] == (
            len(rows),
            status["completed"],
            status["failed"],
            status["timeout"],
            status["cancelled"],
        )
        assert got[7] == (pytest.approx(status["completed"] / finished) if finished else None)
        if done:
            assert got[8] == pytest.approx(sum(done) / len(done))
            for i, q in ((9, 0.5), (10, 0.95), (11, 0.99)):
                assert got[i] == pytest.approx(percentile(done, q))
        assert got[12] == len({r["user_id"] for r in rows if r["user_id"] is not None})
        cpus = [r["cpu_usage"] for r in rows if r["cpu_usage"] is not None]
        assert got[13] == (pytest.approx(sum(cpus) / len(cpus)) if cpus else None)
        assert got[14] == hires.get(key, 0)
        agent = agents[key[0]]
        price = agent["price_per_use"] or 0.0
        expected = status["completed"] * price if agent["pricing_model"] == "per_use" else 0.0
        assert got[15] == pytest.approx(expected)
    # Every day with executions was built, and no row is invented.
    assert {k for k in groups} <= set(mart)
    assert sum(r[2] for r in mart.values()) == len(clean_executions(built))


def test_dashboard_marts_match_python(built: Built) -> None:
    """The narrow marts the dashboards read for any range of days: completed durations,
    users per day, trust per agent and day (the latter from marts.trust_events' rows)."""
    clean = clean_executions(built)
    durations = Counter(
        (e["created_at"].date(), e["agent_id"], e["duration_ms"])
        for e in clean
        if e["status"] == "completed" and e["duration_ms"] is not None
    )
    stored = built.query("select day, agent_id, duration_ms from marts.execution_durations")
    assert Counter(stored) == durations
    histogram = Counter()
    for (day, _agent, duration), n in durations.items():
        histogram[(day, duration)] += n
    assert {
        (r[0], r[1]): r[2]
        for r in built.query(
            "select day, duration_ms, executions from marts.duration_histogram_daily"
        )
    } == dict(histogram)
    # Each day's rows are stored together and in order (a day is rebuilt in one insert), so
    # a range of days reads runs of ordered integers.
    days = [day for day, _group in itertools.groupby(r[0] for r in stored)]
    assert len(days) == len(set(days))
    for _day, rows in itertools.groupby(stored, key=lambda r: r[0]):
        rows = list(rows)
        assert rows == sorted(rows)

    users: dict[tuple[int, date], list[dict]] = defaultdict(list)
    for e in clean:
        if e["user_id"] is not None:
            users[(e["user_id"], e["created_at"].date())].append(e)
    assert {
        (r[0], r[1]): (r[2], r[3])
        for r in built.query(
            "select user_id, day, executions, agents from marts.user_activity_daily"
        )
    } == {key: (len(rows), len({r["agent_id"] for r in rows})) for key, rows in users.items()}

    # First and last in the trust model's order: occurred_at, then the event's key.
    expected = trust_days_from_events(built.query(TRUST_EVENTS_OF_DAYS))
    assert {(r[0], r[1]): r[2:] for r in built.query(TRUST_DAYS)} == expected


def test_naive_seed_query_multiplies_rows_and_the_marts_do_not(built: Built) -> None:
    naive = dict(
        (name, (hirings, executions))
        for name, hirings, executions, _avg in built.engine.connect().execute(
            text(
                "SELECT a.name, COUNT(h.id), COUNT(e.id), AVG(e.duration_ms) FROM agents a"
                " LEFT JOIN hirings h ON a.id = h.agent_id LEFT JOIN executions e"
                " ON a.id = e.agent_id GROUP BY a.id, a.name"
            )
        )
    )
    hirings = Counter(h["agent_id"] for h in built.source("hirings"))
    executions = Counter(e["agent_id"] for e in clean_executions(built))
    summary = {
        r[1]: r
        for r in built.query(
            "select agent_id, agent_name, total_hirings, total_executions"
            " from marts.agent_usage_summary"
        )
    }
    multiplied = 0
    for name, (n_h, n_e) in naive.items():
        row = summary[name]
        assert row[2] == hirings.get(row[0], 0)
        assert row[3] == executions.get(row[0], 0)
        assert n_h >= row[2]  # the join repeats each hiring once per execution
        multiplied += n_e > executions.get(row[0], 0) + 24  # beyond the bad rows
    assert multiplied > 0, "the seed query should over-count agents with several hirings"


def test_agent_usage_summary_and_user_activity_match_python(built: Built) -> None:
    clean = clean_executions(built)
    reviews = defaultdict(list)
    for r in built.source("agent_reviews"):
        reviews[r["agent_id"]].append(r["rating"])
    by_agent = defaultdict(list)
    for e in clean:
        by_agent[e["agent_id"]].append(e)
    for row in built.query(
        "select agent_id, total_executions, success_rate, p95_duration_ms, unique_users,"
        " average_rating, rating_count, first_execution_at, last_execution_at"
        " from marts.agent_usage_summary"
    ):
        rows = by_agent.get(row[0], [])
        assert row[1] == len(rows)
        finished = [r for r in rows if r["status"] in TERMINAL]
        if finished:
            assert row[2] == pytest.approx(
                sum(r["status"] == "completed" for r in finished) / len(finished)
            )
            done = [r["duration_ms"] for r in rows if r["status"] == "completed"]
            assert row[3] == pytest.approx(percentile(done, 0.95))
        assert row[4] == len({r["user_id"] for r in rows if r["user_id"] is not None})
        ratings = reviews.get(row[0], [])
        assert row[6] == len(ratings)
        assert row[5] == (pytest.approx(sum(ratings) / len(ratings)) if ratings else None)
        if rows:
            assert row[7] == min(r["created_at"] for r in rows)
            assert row[8] == max(r["created_at"] for r in rows)
    by_user = defaultdict(list)
    for e in clean:
        if e["user_id"] is not None:
            by_user[e["user_id"]].append(e)
    hired = defaultdict(set)
    for h in built.source("hirings"):
        if h["user_id"] is not None:
            hired[h["user_id"]].add(h["agent_id"])
    for user_id, agents_hired, total, failed in built.query(
        "select user_id, agents_hired, total_executions, failed_executions from marts.user_activity"
    ):
        rows = by_user.get(user_id, [])
        assert (agents_hired, total, failed) == (
            len(hired.get(user_id, ())),
            len(rows),
            sum(r["status"] in ("failed", "timeout") for r in rows),
        )


def test_trust_matches_the_reference_model_and_is_written_back(built: Built) -> None:
    expected = reference_trust(built)
    got = {
        r[0]: r[1:]
        for r in built.query(
            "select agent_id, trust_score, positive_evidence, negative_evidence, event_count"
            " from marts.agent_trust"
        )
    }
    assert set(expected) <= set(got)
    for agent, (trust, r, s, n) in expected.items():
        assert got[agent][0] == pytest.approx(trust, rel=1e-9)
        assert got[agent][1] == pytest.approx(r, rel=1e-9)
        assert got[agent][2] == pytest.approx(s, rel=1e-9)
        assert got[agent][3] == n
    for agent, row in got.items():
        if agent not in expected:
            assert row[0] == 0.5 and row[3] == 0
        assert 0.0 <= row[0] <= 1.0
    # The audit chain: each event applied in order starts where the previous one ended (unless
    # a late event was applied between them, which moved the score in between), and deltas
    # add up; the last one's score is the agent's, unless an event arrived late after it.
    chains = defaultdict(list)
    late: dict[int, list[tuple]] = defaultdict(list)
    for agent, before, after, delta, r, s, w, v, reason, seq in built.query(
        "select agent_id, trust_score_before, trust_score_after, trust_delta,"
        " positive_evidence, negative_evidence, evidence_weight, evidence_value, reason, seq"
        " from marts.trust_events order by agent_id, occurred_at,"
        " coalesce('execution:' || source_execution_id, 'review:' || source_review_id)"
    ):
        if reason.endswith("(arrived late)"):
            late[agent].append((before, after, delta, r, s, w, v, seq))
        else:
            chains[agent].append((before, after, delta, seq))
    for agent, chain in chains.items():
        late_seqs = [row[-1] for row in late[agent]]
        assert chain[0][0] == 0.5
        for (_b0, a0, _d0, q0), (b1, a1, d1, q1) in itertools.pairwise(chain):
            if not any(q0 < q < q1 for q in late_seqs):
                assert b1 == pytest.approx(a0, abs=1e-12)
            assert d1 == pytest.approx(a1 - b1, abs=1e-15)
        if not any(q > chain[-1][-1] for q in late_seqs):
            assert chain[-1][1] == pytest.approx(got[agent][0], abs=1e-12)
    # A late event's record shows it at its own instant: its evidence after it, the score
    # from that evidence before and after its own share, and the move between.
    for rows in late.values():
        for before, after, delta, r, s, w, v, _seq in rows:
            x_r, x_s = w * (1 + v) / 2, w * (1 - v) / 2
            assert after == pytest.approx((1 + r) / (2 + r + s), abs=1e-12)
            assert before == pytest.approx((1 + r - x_r) / (2 + r - x_r + s - x_s), abs=1e-12)
            assert delta == pytest.approx(after - before, abs=1e-15)
    # Trust moved: degrading agents end lower than the best ones.
    assert min(t for t, *_ in expected.values()) < 0.8 < max(t for t, *_ in expected.values())
    # The platform has the same scores and one audit record per event.
    platform = {a["id"]: a["trust_score"] for a in built.source("agents")}
    for agent, (trust, *_rest) in expected.items():
        assert platform[agent] == pytest.approx(trust, rel=1e-9)
    records = built.source("trust_records")
    assert len(records) == built.query("select count(*) from marts.trust_events")[0][0]
    assert len({r["record_id"] for r in records}) == len(records)


def test_rollups_match_python_from_the_points(built: Built) -> None:
    points = defaultdict(list)
    seen = set()
    for p in sorted(built.source("agent_metrics"), key=lambda p: p["id"]):
        key = (p["agent_id"], p["metric_name"], p["recorded_at"], p["metric_value"])
        if key in seen:
            continue  # duplicate points are quarantined
        seen.add(key)
        points[p["agent_id"], p["metric_name"], p["recorded_at"]].append(p["metric_value"])
    for table, truncate in (
        ("metrics_rollup_hourly", lambda t: t.replace(minute=0, second=0, microsecond=0)),
        ("metrics_rollup_daily", lambda t: datetime(t.year, t.month, t.day)),
    ):
        buckets = defaultdict(list)
        for (agent, metric, t), values in points.items():
            buckets[agent, metric, truncate(t)].extend(values)
        mart = {
            (r[0], r[1], r[2]): r[3:]
            for r in built.query(
                f"select agent_id, metric_name, bucket_start, samples, sum, min, max, avg, p50,"
                f" p95, p99 from marts.{table}"
            )
        }
        assert set(mart) == set(buckets)
        for key, values in buckets.items():
            got = mart[key]
            assert got[0] == len(values)
            assert got[1] == pytest.approx(sum(values))
            assert (got[2], got[3]) == (min(values), max(values))
            assert got[4] == pytest.approx(sum(values) / len(values))
            for i, q in ((5, 0.5), (6, 0.95), (7, 0.99)):
                assert got[i] == pytest.approx(percentile(values, q))


def test_liveness_lists_the_agents_that_went_silent(built: Built) -> None:
    threshold = utcnow() - timedelta(minutes=30)
    beats: dict[int, datetime] = {}
    for p in built.source("agent_metrics"):
        if p["metric_name"] == "heartbeat":
            beats[p["agent_id"]] = max(beats.get(p["agent_id"], p["recorded_at"]), p["recorded_at"])
    expected = set()
    for a in built.source("agents"):
        if a["status"] in ("approved", "active"):
            last = max(filter(None, (a["last_heartbeat_at"], beats.get(a["id"]))), default=None)
            if last is None or last < threshold:
                expected.add(a["id"])
    assert {r[0] for r in built.query("select agent_id from marts.agent_liveness")} == expected


def test_incremental_runs_late_data_and_reruns(built: Built) -> None:
    """New executions, a late review, a late metric point; then a run with nothing new."""
    svc = PlatformService(built.engine)
    hiring = next(
        h
        for h in built.source("hirings")
        if h["status"] == "active"
        and h["user_id"] is not None
        and (h["expires_at"] or END) > utcnow()
    )
    with built.engine.begin() as conn:
        conn.execute(
            text("UPDATE agents SET status = 'active' WHERE id = :a"), {"a": hiring["agent_id"]}
        )
    for i, outcome in enumerate(("completed", "failed", "timeout")):
        ex = svc.create_execution(hiring["id"], execution_id=f"late-{i}")
        svc.start_execution(ex.execution_id)
        svc.finish_execution(
            ex.execution_id,
            outcome,
            error_message=None if outcome == "completed" else "boom",
            cpu_usage=10.0,
            memory_usage=100.0,
        )
    old_hour = (END - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    svc.record_metric(
        hiring["agent_id"], "cpu_usage", 99.5, recorded_at=old_hour + timedelta(minutes=7)
    )
    # A review dated in the past: its agent must be recomputed, not appended out of order.
    reviewer = next(
        u
        for u in built.source("users")
        if u["is_active"]
        and not any(
            r["reviewer_id"] == u["id"] and r["agent_id"] == hiring["agent_id"]
            for r in built.source("agent_reviews")
        )
    )
    review = svc.review_agent(hiring["agent_id"], reviewer["id"], 1)
    with built.engine.begin() as conn:
        conn.execute(
            text("UPDATE agent_reviews SET created_at = :t WHERE id = :i"),
            {"t": END - timedelta(days=3), "i": review.id},
        )
    before_hour = built.query(
        "select samples from marts.metrics_rollup_hourly where agent_id = ? and"
        " metric_name = 'cpu_usage' and bucket_start = ?",
        [hiring["agent_id"], old_hour],
    )
    outcome = built.run()
    assert old_hour.date().isoformat() in outcome.touched_days
    after_hour = built.query(
        "select samples from marts.metrics_rollup_hourly where agent_id = ? and"
        " metric_name = 'cpu_usage' and bucket_start = ?",
        [hiring["agent_id"], old_hour],
    )
    assert after_hour[0][0] == (before_hour[0][0] if before_hour else 0) + 1
    test_trust_matches_the_reference_model_and_is_written_back(built)
    test_rollups_match_python_from_the_points(built)
    test_agent_usage_daily_matches_python(built)
    test_dashboard_marts_match_python(built)
    # Nothing new: no trust score moves, no event is applied twice.
    state = built.query("select * exclude (updated_at) from marts.agent_trust order by agent_id")
    events = built.query("select count(*) from marts.trust_events")[0][0]
    outcome = built.run()
    assert outcome.materializations["marts/trust_events"]["events_applied"] == 0
    assert (
        built.query("select * exclude (updated_at) from marts.agent_trust order by agent_id")
        == state
    )
    assert built.query("select count(*) from marts.trust_events")[0][0] == events
    assert len(built.source("trust_records")) == events
    # The daily checks after all that: the incremental trust state equals a full recompute,
    # and the platform has every record.
    daily = built.defs.resolve_job_def("daily_checks").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert daily.success
    evaluations = daily.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} >= {
        "incremental_equals_full_recompute",
        "platform_has_every_trust_record",
        "every_id_once",
        "unique_grain_whole_table",
        "every_raw_execution_once",
    }
    assert [e.check_name for e in evaluations if not e.passed] == []


def test_no_macro_persists_in_the_warehouse(built: Built) -> None:
    """The macros of sql/macros/ are temporary: the file holds tables and views only, so a
    reader on any storage creates the macros it calls (the marts that use one were built)."""
    assert (
        built.query(
            "select function_name from duckdb_functions() where not internal"
            " and function_type in ('macro', 'table_macro') and database_name <> 'temp'"
        )
        == []
    )
    assert built.query("select count(*) from marts.metrics_rollup_daily")[0][0] > 0


def test_every_mart_table_view_and_column_is_described(built: Built) -> None:
    missing = built.query(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
        " and table_name in (select table_name from duckdb_tables() where schema_name = 'marts')"
        " and (comment is null or comment = '')"
    )
    assert missing == []
    relations = built.query(
        "select table_name from duckdb_tables() where schema_name = 'marts'"
        " and (comment is null or comment = '')"
        " union all select view_name from duckdb_views() where schema_name = 'marts'"
        " and (comment is null or comment = '')"
    )
    assert relations == []
    # DuckLake keeps no comments on a view's columns: each view's SQL file describes them.
    undescribed = []
    for view, column in built.query(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
        " and table_name in (select view_name from duckdb_views() where schema_name = 'marts')"
    ):
        text = (SQL_DIR / "marts" / f"{view}.sql").read_text()
        if f"\n-- {column}: " not in text:
            undescribed.append((view, column))
    assert undescribed == []


def test_every_warehouse_asset_key_names_a_table_or_view_that_exists(built: Built) -> None:
    relations = {
        (schema, name)
        for schema, name in built.query(
            "select schema_name, table_name from duckdb_tables()"
            " union all select schema_name, view_name from duckdb_views() where not internal"
        )
    }
    keys = {
        tuple(key.path)
        for key in built.defs.resolve_asset_graph().get_all_asset_keys()
        if key.path[0] != "platform"  # platform/trust_records: the platform database's table
    }
    # ops/published_warehouse is the published file itself, which this query runs on.
    keys.discard(("ops", "published_warehouse"))
    assert keys - relations == set()
    assert len(keys) >= 30  # 7 raw, 6 staging, 7 intermediate, 11 marts, 1 ops
