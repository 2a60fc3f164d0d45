"""Every page through Streamlit's AppTest: with data (headline numbers equal figures computed
here from the warehouse's rows, filters change what is shown and persist across pages), and
with a missing, empty or outdated warehouse (a message with the command, never a traceback)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.queries.agents import mask_email
from pipelines.warehouse.files import connect_working, publish
from tests.dashboards.conftest import Published, copy_lake
from tests.dashboards.reference import executions, figures, rows

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
PAGES = ("overview", "agents", "trust", "metrics", "maintenance", "data_quality")


def app(page: str | None = None, **query_params: str) -> AppTest:
    """A new session (a browser tab) on ``page`` with this URL's query parameters."""
    at = AppTest.from_file(APP, default_timeout=120)
    if page:
        at.switch_page(f"pages/{page}.py")
    for name, value in query_params.items():
        at.query_params[name] = value
    return at.run()


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py")
    return at.run()


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def expected_headline(path: Path, start: date, end: date, agent: int | None = None) -> dict:
    """The headline of [start, end] as the Overview formats it, from the executions' rows
    (tests/dashboards/reference.py) and the daily usage's revenue."""
    got = figures(executions(path), start, end, agent)
    revenue = sum(
        r[2]
        for r in rows(path, "select agent_id, day, revenue from marts.agent_usage_daily")
        if start <= r[1] <= end and (agent is None or r[0] == agent)
    )
    return {
        "Executions": f"{got['executions']:,}",
        "Success rate": f"{got['success_rate']:.1%}",
        "p95 latency": f"{got['p95_duration_ms']:,.0f} ms",
        "Active agents": f"{got['active_agents']:,}",
        "Active users": f"{got['active_users']:,}",
        "Revenue": f"${revenue:,.0f}",
    }


def last_day(path: Path) -> date:
    return rows(path, "select max(day) from marts.agent_usage_daily")[0][0]


def test_overview_headline_equals_the_warehouse(warehouse_env: Published):
    at = app()
    no_errors(at)
    end = last_day(warehouse_env.warehouse)
    start = end - timedelta(days=29)
    shown = {m.label: m.value for m in at.metric}
    assert shown == expected_headline(warehouse_env.warehouse, start, end)
    # The previous 30 days exist in a 30-day history only in part; the change is still shown.
    assert at.metric[0].delta is not None
    assert at.query_params["from"] == start.isoformat()


def test_every_page_renders_with_data(warehouse_env: Published):
    at = app()
    for page in PAGES:
        no_errors(visit(at, page))
        assert at.title, page
    agents = rows(warehouse_env.warehouse, "select count(*) from marts.agent_usage_summary")
    at = visit(app(), "agents")
    assert len(at.dataframe[0].value) == agents[0][0]


def test_filters_change_what_is_shown_and_persist_across_pages(warehouse_env: Published):
    path = warehouse_env.warehouse
    end = last_day(path)
    week = (end - timedelta(days=6), end)
    at = app()
    wide = at.metric[0].value
    at.sidebar.date_input[0].set_value(week).run()
    no_errors(at)
    narrow = {m.label: m.value for m in at.metric}
    assert narrow == expected_headline(path, *week)
    assert narrow["Executions"] != wide
    assert at.query_params["from"] == week[0].isoformat()

    agent_id, name = rows(
        path,
        "select agent_id, agent_name from marts.agent_usage_summary"
        " order by total_executions desc limit 1",
    )[0]
    at.sidebar.selectbox[0].set_value(f"{name} (#{agent_id})").run()
    no_errors(at)
    assert name in at.title[0].value
    assert {m.label: m.value for m in at.metric} == expected_headline(path, *week, agent_id)
    assert at.query_params["agent_id"] == str(agent_id)

    visit(at, "agents")  # the agent and the week follow to the agent's page
    no_errors(at)
    assert at.title[0].value == f"{name} (#{agent_id})"
    assert at.sidebar.date_input[0].value == week
    visit(at, "trust")
    no_errors(at)
    trail = at.dataframe[-1].value
    assert set(trail["agent_id"]) == {agent_id}
    assert trail["occurred_at"].dt.date.between(*week).all()

    # The URL holds the view: opened in a new tab on another page, it shows the same.
    url = {name: at.query_params[name] for name in ("from", "to", "agent_id")}
    agent_page = app("agents", **url)
    no_errors(agent_page)
    assert agent_page.title[0].value == f"{name} (#{agent_id})"
    trust = app("trust", **url)
    no_errors(trust)
    trail = trust.dataframe[-1].value
    assert set(trail["agent_id"]) == {agent_id}
    assert trail["occurred_at"].dt.date.between(*week).all()


def test_filters_open_from_the_url(warehouse_env: Published):
    path = warehouse_env.warehouse
    end = last_day(path)
    start = end - timedelta(days=9)
    agent_id, name = rows(
        path, "select agent_id, agent_name from marts.agent_usage_summary order by agent_id"
    )[0]
    at = app(**{"from": start.isoformat(), "to": end.isoformat(), "agent_id": str(agent_id)})
    no_errors(at)
    assert at.sidebar.date_input[0].value == (start, end)
    assert at.sidebar.selectbox[0].value == f"{name} (#{agent_id})"
    assert {m.label: m.value for m in at.metric} == expected_headline(path, start, end, agent_id)


def test_agent_page_from_the_url(warehouse_env: Published):
    agent_id, name = rows(
        warehouse_env.warehouse, "select agent_id, agent_name from marts.agent_usage_summary"
    )[-1]
    at = app("agents", agent_id=str(agent_id))
    no_errors(at)
    assert at.title[0].value == f"{name} (#{agent_id})"
    failures = at.dataframe  # failures, trust moves, top users (at least the last)
    assert failures


def test_user_emails_are_masked_unless_asked(warehouse_env: Published):
    agent_id = rows(
        warehouse_env.warehouse,
        "select agent_id from marts.agent_usage_summary order by total_executions desc limit 1",
    )[0][0]
    at = app("agents", agent_id=str(agent_id))
    users = at.dataframe[-1].value
    emails = dict(
        rows(warehouse_env.warehouse, "select user_id, email from intermediate.valid_users")
    )
    assert len(users) > 0
    for user_id, shown in zip(users["user_id"], users["email"], strict=True):
        assert shown == mask_email(emails[user_id]) != emails[user_id]
    at.sidebar.toggle[0].set_value(True).run()
    users = at.dataframe[-1].value
    assert [emails[u] for u in users["user_id"]] == users["email"].tolist()


def test_maintenance_and_data_quality_pages_show_the_marts(warehouse_env: Published):
    path = warehouse_env.warehouse
    at = visit(app(), "maintenance")
    no_errors(at)
    runs = rows(path, "select count(distinct run_id) from marts.maintenance_runs")[0][0]
    assert len(at.dataframe[0].value) == runs >= 1
    months = rows(path, "select count(*) from marts.archive_months")[0][0]
    assert months > 0 and any(len(d.value) == months for d in at.dataframe)

    at = visit(at, "data_quality")
    no_errors(at)
    quarantined = rows(
        path,
        "select count(*) from marts.data_quality"
        " where checked_at = (select max(checked_at) from marts.data_quality)",
    )[0][0]
    assert quarantined > 0
    latest = at.dataframe[0].value
    assert len(latest) == quarantined
    at.selectbox(key="dq_table").set_value("executions").run()
    samples = at.dataframe[-1].value
    assert len(samples) > 0 and set(samples["table_name"]) == {"executions"}


def test_maintenance_page_before_the_first_maintenance_run(
    published: Published, tmp_path, monkeypatch
):
    copy = copy_lake(published.warehouse, tmp_path / "warehouse.sqlite")
    with connect_working(copy) as con:  # the pipeline has run, maintenance never has
        for table in ("maintenance_runs", "archive_months", "counter_drift", "orphans"):
            con.execute(f"delete from ops.{table}")
        publish(con, copy)
    monkeypatch.setenv("WAREHOUSE_CATALOG", str(copy))
    at = visit(app(), "maintenance")
    no_errors(at)
    assert "agenthub maintenance run" in at.info[0].value


@pytest.mark.parametrize("kind", ["missing", "empty", "outdated", "not_duckdb"])
def test_no_usable_warehouse_says_what_to_run(
    kind: str, published: Published, tmp_path, monkeypatch
):
    path = tmp_path / "warehouse.sqlite"
    if kind == "empty":
        with connect_working(path):  # a lake no run has published
            pass
    elif kind == "outdated":
        copy_lake(published.warehouse, path)
        with connect_working(path) as con:
            con.execute("drop table marts.agent_alerts")
            publish(con, path)
    elif kind == "not_duckdb":
        path.write_text("not a database")
    monkeypatch.setenv("WAREHOUSE_CATALOG", str(path))
    for page in (None, *PAGES):  # a bookmarked page as well as the entry
        at = app(page)
        no_errors(at)
        assert len(at.info) == 1 and "agenthub pipeline run" in at.info[0].value, page
    if kind == "outdated":
        assert "older version" in at.info[0].value and "marts.agent_alerts" in at.info[0].value


def test_a_stale_warehouse_gets_a_banner_on_every_page(published: Published, tmp_path, monkeypatch):
    copy = copy_lake(published.warehouse, tmp_path / "warehouse.sqlite")
    monkeypatch.setenv("WAREHOUSE_CATALOG", str(copy))
    with connect_working(copy) as con:
        publish(con, copy)
    assert not [w for w in app().warning if "stale" in w.value]  # just published
    with connect_working(copy) as con:  # the last publish, 3 hours ago (limit: 120 minutes)
        con.execute(
            "update ops.published_snapshots set published_at = published_at - interval 3 hour"
        )
    for page in PAGES:
        at = app(page)
        no_errors(at)
        assert any("The data is stale" in w.value for w in at.warning), page
    monkeypatch.setenv("DASHBOARD_STALE_AFTER_MINUTES", "240")
    assert not [w for w in app().warning if "stale" in w.value]
