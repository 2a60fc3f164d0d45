"""The trust write-back: after any sequence of runs the platform agrees with the warehouse.

Agreement is decided here, independently of the pipeline's code: the platform's
``trust_records`` and ``agents.trust_score`` read with SQLAlchemy, the warehouse's
``marts.trust_events`` and ``marts.agent_trust`` read with plain DuckDB. Every scenario runs
on SQLite and PostgreSQL: appended activity with late events (what broke it before), a late
event on the agent whose events were numbered last, a change of the model's parameters, and
runs killed at random points during trust and the write-back.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, text

from pipelines.definitions import build_resources
from pipelines.run import PipelineRun, run_pipeline
from pipelines.trust.model import TrustParameters, recompute_matches, update_trust
from pipelines.trust.resource import TrustModel
from pipelines.trust.writeback import write_back
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import Lake, open_lake
from platform_core.models import utcnow
from platform_core.service import PlatformService
from platform_core.simulate import SimulationConfig, simulate
from tests.pipelines.location import defs_on

REPO = Path(__file__).resolve().parents[2]
END = utcnow().replace(second=0, microsecond=0) - timedelta(hours=2)
HISTORY = SimulationConfig(
    users=30,
    agents=10,
    hirings=80,
    executions=6_000,
    days=10,
    metric_interval_minutes=240,
    end=END,
)


@dataclass
class Disagreement:
    """What the platform lacks or holds differently from the warehouse."""

    events: int
    records_missing: set[str]
    scores_differing: dict[int, tuple[float, float]]

    @property
    def none(self) -> bool:
        return not self.records_missing and not self.scores_differing


def disagreement(engine: Engine, warehouse: Path) -> Disagreement:
    """Every warehouse trust event without its platform record; every score that differs."""
    with engine.connect() as conn:
        records = {r for (r,) in conn.execute(text("SELECT record_id FROM trust_records"))}
        scores = dict(conn.execute(text("SELECT id, trust_score FROM agents")).all())
    con = open_lake(Lake.of(warehouse), read_only=True)
    try:
        events = {r for (r,) in con.execute("select record_id from marts.trust_events").fetchall()}
        trust = dict(con.execute("select agent_id, trust_score from marts.agent_trust").fetchall())
    finally:
        con.close()
    assert trust, "the warehouse has no trust state"
    return Disagreement(
        len(events),
        events - records,
        {a: (scores.get(a), s) for a, s in trust.items() if scores.get(a) != s},
    )


class Platform:
    """A platform database, its warehouse, and the real pipeline over them."""

    def __init__(self, engine: Engine, warehouse: Path) -> None:
        self.engine = engine
        self.warehouse = warehouse

    def run(self, trust_model: TrustModel | None = None) -> PipelineRun:
        defs = defs_on(self.engine, self.warehouse, trust_model)
        outcome = run_pipeline(dg.DagsterInstance.ephemeral(), defs=defs)
        assert outcome.success, outcome.failed_steps
        assert outcome.failed_checks == []
        return outcome

    def warehouse_query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = open_lake(Lake.of(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()


@pytest.fixture
def platform(engine: Engine, tmp_path: Path) -> Platform:
    simulate(engine, HISTORY)
    p = Platform(engine, tmp_path / "warehouse.sqlite")
    p.run()
    assert disagreement(engine, p.warehouse).none
    return p


def test_appended_activity_with_late_events_is_written_back(platform: Platform) -> None:
    """The issue's sequence: a history, two runs, an overlapping batch of activity, a run."""
    platform.run()
    # A second batch over the same period: most of its events are older than their agent's
    # last applied one, so they arrive late and are added in closed form, nothing replayed.
    simulate(platform.engine, replace(HISTORY, seed=7, executions=3_000, users=5, hirings=30))
    outcome = platform.run()
    assert outcome.materializations["marts/trust_events"]["late_events_applied"] > 1_000
    assert outcome.materializations["marts/agent_trust"]["agents_recomputed"] == 0
    gap = disagreement(platform.engine, platform.warehouse)
    assert gap.records_missing == set()
    assert gap.scores_differing == {}
    # The cost follows the change: only the new events were sent.
    writeback = outcome.materializations["platform/trust_records"]
    assert writeback["records_inserted"] > 0
    assert writeback["records_sent"] == writeback["records_inserted"]


def late_reviews(platform: Platform, agent: int, ages: list[timedelta]) -> list[int]:
    """One 1-star review of ``agent`` per age, each by a user who has not reviewed it yet and
    dated that long before the agent's last applied event; their ids."""
    last_at = platform.warehouse_query(
        "select last_event_at from marts.agent_trust where agent_id = ?", [agent]
    )[0][0]
    with platform.engine.connect() as conn:
        reviewers = (
            conn.execute(
                text(
                    "SELECT id FROM users WHERE is_active AND id NOT IN"
                    " (SELECT reviewer_id FROM agent_reviews WHERE agent_id = :a)"
                    " ORDER BY id LIMIT :n"
                ),
                {"a": agent, "n": len(ages)},
            )
            .scalars()
            .all()
        )
    svc = PlatformService(platform.engine)
    ids = []
    for reviewer, age in zip(reviewers, ages, strict=True):
        review = svc.review_agent(agent, reviewer, 1)
        with platform.engine.begin() as conn:
            conn.execute(
                text("UPDATE agent_reviews SET created_at = :t WHERE id = :i"),
                {"t": last_at - age, "i": review.id},
            )
        ids.append(review.id)
    return ids


def test_a_late_event_on_the_agent_numbered_last_is_written_back(platform: Platform) -> None:
    (agent,) = platform.warehouse_query(
        "select agent_id from marts.trust_events order by seq desc limit 1"
    )[0]
    (review_id,) = late_reviews(platform, agent, [timedelta(days=2)])
    before = platform.warehouse_query(
        "select trust_score from marts.agent_trust where agent_id = ?", [agent]
    )
    outcome = platform.run()
    assert outcome.materializations["marts/trust_events"]["late_events_applied"] == 1
    gap = disagreement(platform.engine, platform.warehouse)
    assert gap.none, gap
    with platform.engine.connect() as conn:
        written = conn.execute(
            text("SELECT count(*) FROM trust_records WHERE review_id = :r"), {"r": review_id}
        ).scalar_one()
        score = conn.execute(
            text("SELECT trust_score FROM agents WHERE id = :a"), {"a": agent}
        ).scalar_one()
    assert written == 1
    after = platform.warehouse_query(
        "select trust_score from marts.agent_trust where agent_id = ?", [agent]
    )
    assert after != before  # a 1-star review moved it, and the platform has the new score
    assert score == after[0][0]


def test_late_reviews_decades_apart_recompute_their_agent_instead(platform: Platform) -> None:
    """Late events spread over more than 900 half-lives would overflow the closed form's
    scaled sums: their agent is recomputed from the earliest, and the state stays exact."""
    (agent,) = platform.warehouse_query(
        "select agent_id from marts.agent_trust order by event_count desc limit 1"
    )[0]
    late_reviews(platform, agent, [timedelta(days=365 * 20), timedelta(days=365)])
    outcome = platform.run()
    assert outcome.materializations["marts/agent_trust"]["agents_recomputed"] == 1
    assert outcome.materializations["marts/trust_events"]["late_events_applied"] == 0
    assert disagreement(platform.engine, platform.warehouse).none
    with connect_working(platform.warehouse) as con:
        matches, _agents, worst = recompute_matches(con, TrustParameters())
    assert matches, worst


def test_a_parameter_change_rewrites_every_score_and_writes_the_new_version(
    platform: Platform,
) -> None:
    old_scores = dict(
        platform.warehouse_query("select agent_id, trust_score from marts.agent_trust")
    )
    # Decay acts between events: an agent with two or more events at different times must move.
    decaying = {
        a
        for (a,) in platform.warehouse_query(
            "select agent_id from marts.trust_events group by 1"
            " having count(distinct occurred_at) >= 2"
        )
    }
    events = platform.warehouse_query("select count(*) from marts.trust_events")[0][0]
    outcome = platform.run(TrustModel(half_life_days="14"))
    new_version = TrustParameters(half_life_days=14.0).version
    assert platform.warehouse_query("select distinct model_version from marts.trust_events") == [
        (new_version,)
    ]
    assert outcome.materializations["marts/agent_trust"]["agents_recomputed"] == len(old_scores)
    gap = disagreement(platform.engine, platform.warehouse)
    assert gap.none, gap
    with platform.engine.connect() as conn:
        by_version = dict(
            conn.execute(
                text("SELECT model_version, count(*) FROM trust_records GROUP BY model_version")
            ).all()
        )
        platform_scores = dict(conn.execute(text("SELECT id, trust_score FROM agents")).all())
    # The old version's audit trail stays; the new one is complete beside it.
    assert by_version == {TrustParameters().version: events, new_version: events}
    new_scores = dict(
        platform.warehouse_query("select agent_id, trust_score from marts.agent_trust")
    )
    moved = {a for a in new_scores if new_scores[a] != old_scores[a]}
    assert decaying and moved == decaying
    assert all(platform_scores[a] == new_scores[a] for a in new_scores)


def test_trust_parameters_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUST_HALF_LIFE_DAYS", "3.5")
    monkeypatch.setenv("TRUST_TIMEOUT_WEIGHT", "2")
    monkeypatch.delenv("TRUST_REVIEW_WEIGHT", raising=False)
    model = build_resources()["trust_model"]
    assert isinstance(model, TrustModel)
    # An EnvVar, so the Dagster UI shows the variable's name rather than its value.
    assert isinstance(model.half_life_days, dg.EnvVar)
    assert model.half_life_days.env_var_name == "TRUST_HALF_LIFE_DAYS"
    assert TrustModel(half_life_days="3.5", timeout_weight="2").parameters.version == (
        "beta-h3.5-t2-r0.5"
    )
    with pytest.raises(ValueError, match="TRUST_HALF_LIFE_DAYS: 'week' is not a number"):
        _ = TrustModel(half_life_days="week").parameters
    with pytest.raises(ValueError, match="finite"):
        _ = TrustModel(review_weight="nan").parameters
    with pytest.raises(ValueError, match="half_life_days must be positive"):
        _ = TrustModel(half_life_days="0").parameters


KILL_SCRIPT = """
import sys
from pathlib import Path
from pipelines.trust.model import TrustParameters, update_trust
from pipelines.trust.writeback import write_back
from pipelines.warehouse.files import connect_working
from platform_core.db import make_engine
from platform_core.models import utcnow

url, warehouse, half_life, marker = sys.argv[1:]
engine = make_engine(url)
with connect_working(Path(warehouse), memory_limit="2GB") as con:
    Path(marker).touch()
    update_trust(con, TrustParameters(half_life_days=float(half_life)), utcnow())
    write_back(con, engine, batch=500)
"""


def trust_and_write_back(engine: Engine, warehouse: Path, half_life: float) -> float:
    """What the trust asset and the write-back asset do, in this process; returns seconds."""
    started = time.perf_counter()
    with connect_working(warehouse, memory_limit="2GB") as con:
        update_trust(con, TrustParameters(half_life_days=half_life), utcnow())
        write_back(con, engine, batch=500)
    return time.perf_counter() - started


def run_killed(url: str, warehouse: Path, half_life: float, marker: Path, after: float) -> bool:
    """Start the trust and write-back process, kill it ``after`` seconds into its work (the
    marker says the work began); whether it was still running when killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, url, str(warehouse), str(half_life), str(marker)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "the trust process never started"
            time.sleep(0.005)
        time.sleep(after)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        marker.unlink(missing_ok=True)
    assert proc.returncode in (0, -signal.SIGKILL)
    return proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_runs_killed_during_trust_and_write_back_leave_both_sides_in_agreement(
    platform: Platform, tmp_path: Path
) -> None:
    """Each trial starts a new model version (every event recomputed and re-sent), kills the
    process at a seeded random moment of its work, reruns cleanly, and compares both sides.

    A kill that comes after the process finished (a busy machine runs faster or slower than
    the measured span) is tried again sooner, so every trial is a real kill."""
    engine, warehouse = platform.engine, platform.warehouse
    url = engine.url.render_as_string(hide_password=False)
    # How long the uninterrupted work takes, so the kills spread over all of it.
    span = trust_and_write_back(engine, warehouse, 8.0)
    rng = random.Random(20261123)
    for trial in range(8):
        half_life = 9.0 + trial
        after = rng.uniform(0.0, span)
        while not run_killed(url, warehouse, half_life, tmp_path / "started", after):
            # It finished first: try again sooner, with a new version (the finished one
            # left nothing of its own version to write).
            half_life += 0.01
            after /= 2
        trust_and_write_back(engine, warehouse, half_life)  # the next run, uninterrupted
        gap = disagreement(engine, warehouse)
        assert gap.none, (trial, len(gap.records_missing), gap.scores_differing)
        with connect_working(warehouse, memory_limit="2GB") as con:
            matches, _agents, worst = recompute_matches(
                con, TrustParameters(half_life_days=half_life)
            )
        assert matches, (trial, worst)


def test_records_lost_on_the_platform_are_found_and_sent_again(platform: Platform) -> None:
    defs = defs_on(platform.engine, platform.warehouse)

    def run(job: str, run_config: dict | None = None) -> tuple[dict, dict]:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), run_config=run_config or {}
        )
        assert result.success
        checks = {
            e.check_name: {"passed": e.passed, **{k: v.value for k, v in e.metadata.items()}}
            for e in result.get_asset_check_evaluations()
        }
        meta = {
            e.asset_key.to_user_string(): {
                k: v.value for k, v in e.materialization.metadata.items()
            }
            for e in result.get_asset_materialization_events()
        }
        return checks, meta

    def lose(n: int) -> list[str]:
        """Delete the n newest platform records (a restore from an older backup, say)."""
        with platform.engine.begin() as conn:
            ids = list(
                conn.execute(
                    text("SELECT record_id FROM trust_records ORDER BY id DESC LIMIT :n"), {"n": n}
                ).scalars()
            )
            for record in ids:
                conn.execute(text("DELETE FROM trust_records WHERE record_id = :r"), {"r": record})
        return ids

    checks, _ = run("daily_checks")
    # The costly checks; every one passes on a consistent platform, and none runs hourly.
    assert {"platform_has_every_trust_record", "incremental_equals_full_recompute"} <= set(checks)
    assert all(c["passed"] for c in checks.values())
    hourly, _ = run("platform_pipeline")
    assert not set(checks) & set(hourly)
    version = TrustParameters().version

    # Three records lost: the daily check names them. The write-back counts records once a
    # day, so the next hourly run does not see the shortfall; the first run a day after the
    # last count does, and sends everything again.
    lost = lose(3)
    daily = run("daily_checks")[0]["platform_has_every_trust_record"]
    assert not daily["passed"]
    assert daily["missing_on_platform"] == 3
    assert sorted(daily["missing_sample"]) == sorted(lost)
    checks, meta = run("platform_pipeline")
    assert meta["platform/trust_records"]["record_counts_compared"] is False
    assert meta["platform/trust_records"]["resent_for_missing_records"] == {}
    assert checks["platform_agrees_with_warehouse"]["passed"]  # scores and cursor agree
    con = open_lake(Lake.of(platform.warehouse))
    try:
        con.execute(
            "update ops.watermarks set advanced_at = advanced_at - interval 25 hour"
            " where table_name = 'trust_record_counts'"
        )
        (counted_at,) = con.execute(
            "select advanced_at from ops.watermarks where table_name = 'trust_record_counts'"
        ).fetchone()
    finally:
        con.close()
    assert utcnow() - counted_at > timedelta(hours=24)
    checks, meta = run("platform_pipeline")
    assert meta["platform/trust_records"]["record_counts_compared"] is True
    assert meta["platform/trust_records"]["resent_for_missing_records"] == {version: 3}
    assert meta["platform/trust_records"]["records_inserted"] == 3
    assert checks["platform_agrees_with_warehouse"]["passed"]
    assert run("daily_checks")[0]["platform_has_every_trust_record"]["passed"]
    assert disagreement(platform.engine, platform.warehouse).none

    # A loss the count cannot see (a stray record of the same version makes up for it): only
    # the daily check finds it, and the resend_all run config repairs it.
    (lost_one,) = lose(1)
    with platform.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO trust_records (record_id, agent_id, event_type, trust_delta,"
                " trust_score_before, trust_score_after, model_version, created_at)"
                " SELECT 'stray', min(id), 'review', 0, 0.5, 0.5, :v, :t FROM agents"
            ),
            {"v": version, "t": END},
        )
    every_run = {"ops": {"platform__trust_records": {"config": {"compare_counts_every_hours": 0}}}}
    checks, meta = run("platform_pipeline", every_run)
    assert meta["platform/trust_records"]["record_counts_compared"] is True
    assert meta["platform/trust_records"]["resent_for_missing_records"] == {}  # count sees nothing
    assert checks["platform_agrees_with_warehouse"]["passed"]
    daily = run("daily_checks")[0]["platform_has_every_trust_record"]
    assert (daily["passed"], daily["missing_sample"]) == (False, [lost_one])
    assert daily["platform_only_records"] == 1
    _, meta = run(
        "platform_pipeline", {"ops": {"platform__trust_records": {"config": {"resend_all": True}}}}
    )
    assert meta["platform/trust_records"]["records_inserted"] == 1
    assert run("daily_checks")[0]["platform_has_every_trust_record"]["passed"]
    assert disagreement(platform.engine, platform.warehouse).none
