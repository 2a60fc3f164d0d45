"""The factory: one Dagster asset per SQL model of ``sql/`` and a ``unique_grain`` check per grain.

Key from the path (``sql/marts/user_activity.sql`` → ``marts/user_activity``), group = the layer
folder, dependencies = the relations the SQL reads, partitions from ``day_partitioned``,
run config from ``config:``, the materialization's metadata from ``report:``
(see :mod:`pipelines.sql_models` for the header). Assets Python has to drive (ingest, trust,
the write-back, publish) live in their domain packages and take their dependencies from the
same graph.
"""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
from datetime import date
from typing import Any

import dagster as dg

from pipelines.partitions import FIRST_PARTITION_DAY, daily_partitions, day_range
from pipelines.sql_files import one_transaction, run_model
from pipelines.sql_models import Key, SqlGraph, SqlModel
from pipelines.warehouse.checks import unique_key_check, whole_table_key_check
from pipelines.warehouse.resource import Warehouse
from platform_core.models import utcnow


def asset_key(key: Key) -> dg.AssetKey:
    """The asset key of a warehouse relation: ``["marts", "agent_trust"]``."""
    return dg.AssetKey(list(key))


def asset_deps(graph: SqlGraph, *keys: Key) -> list[dg.AssetKey]:
    """The asset keys of what the models ``keys`` read, as their SQL says."""
    return [asset_key(k) for k in graph.deps(*keys)]


def definition_metadata(model: SqlModel) -> dict[str, Any]:
    """What the asset's page shows about its model: the file (linked), how it builds, grain."""
    metadata: dict[str, Any] = {
        "sql": dg.MetadataValue.path(f"sql/{model.relative}"),
        "materialized": model.materialized,
        "dagster/code_references": dg.CodeReferencesMetadataValue(
            code_references=[dg.LocalFileCodeReference(file_path=str(model.path), line_number=1)]
        ),
    }
    if model.grain:
        metadata["grain"] = ", ".join(model.grain)
    return metadata


def _metadata_value(value: object) -> dg.MetadataValue:
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, list | dict):
        return dg.MetadataValue.json(value)
    return dg.MetadataValue.text("-" if value is None else str(value))


def report(con: Any, model: SqlModel, days: tuple[date, date] | None) -> dict[str, Any]:
    """The model's ``report:`` aggregates over its relation (over ``days`` when partitioned)."""
    if not model.report:
        return {}
    columns = ", ".join(f"{expr} as {name}" for name, expr in model.report)
    sql = f"select {columns} from {model.name}"
    params: list[object] = []
    if days is not None and model.partition_day:
        sql += f" where {model.partition_day} >= ? and {model.partition_day} < ?"
        params = list(days)
    row = con.execute(sql, params).fetchall()[0]
    return {
        name: _metadata_value(value) for (name, _), value in zip(model.report, row, strict=True)
    }


def build_sql_asset(model: SqlModel, graph: SqlGraph) -> dg.AssetsDefinition:
    """The asset that runs ``model``'s file against the working warehouse."""
    assert model.key is not None
    partitioned = model.materialized == "day_partitioned"
    config_schema = {
        c.name: dg.Field(int, default_value=c.default, description=c.description)
        for c in model.config
    }

    @dg.asset(
        key=asset_key(model.key),
        group_name=model.layer,
        deps=asset_deps(graph, model.key),
        kinds={"duckdb"},
        description=model.description,
        metadata=definition_metadata(model),
        partitions_def=daily_partitions if partitioned else None,
        # A backfill of any range is one run, and the file rebuilds the range in one query.
        backfill_policy=dg.BackfillPolicy.single_run() if partitioned else None,
        config_schema=config_schema or None,
    )
    def _model(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        params: dict[str, object] = {
            "run_at": utcnow(),
            "first_day": FIRST_PARTITION_DAY,
            **(context.op_execution_context.op_config or {}),
        }
        days = day_range(context) if partitioned else None
        if days is not None:
            params["start_day"], params["end_day"] = days
        with warehouse.connect(marts=True) as con:
            # The bookkeeping it reads and the model commit together (one DuckLake snapshot).
            with one_transaction(con):
                for needed in graph.bookkeeping_read_by(model.key):
                    run_model(con, needed.relative)
                run_model(con, model.relative, params)  # binds what each statement uses
            metadata = report(con, model, days)
        return dg.MaterializeResult(metadata=metadata)

    return _model


def build_view_assets(layer: str, views: list[SqlModel], graph: SqlGraph) -> dg.AssetsDefinition:
    """The views of one layer as one step: each view is its own asset (key, dependencies,
    description), but (re)creating a view moves no data, and a step per view cost a
    DuckDB open and close plus Dagster's bookkeeping each (~0.1-0.2 s, bench/pipeline.py)."""
    specs = [
        dg.AssetSpec(
            asset_key(m.key),
            group_name=layer,
            deps=asset_deps(graph, m.key),
            kinds={"duckdb"},
            description=m.description,
            metadata=definition_metadata(m),
        )
        for m in views
        if m.key is not None
    ]
    by_key = {asset_key(m.key): m for m in views if m.key is not None}

    @dg.multi_asset(name=f"{layer}_views", specs=specs, can_subset=True)
    def _views(context: dg.AssetExecutionContext, warehouse: Warehouse):
        selected = context.selected_asset_keys
        # The layer's views in one transaction: one commit when any changed, and the checks
        # of those that did not (ops.model_versions) share one DuckLake snapshot load.
        with warehouse.connect(marts=True) as con, one_transaction(con):
            for key, model in by_key.items():  # build order: a view may read another
                if key in selected:
                    for needed in graph.bookkeeping_read_by(model.key):
                        run_model(con, needed.relative)
                    run_model(con, model.relative, {})
        for key in by_key:
            if key in selected:
                yield dg.MaterializeResult(asset_key=key)

    return _views


def sql_assets(graph: SqlGraph) -> list[dg.AssetsDefinition]:
    """One asset per SQL-built model, in build order; a layer's views share one step."""
    models = graph.sql_assets()
    assets = [build_sql_asset(m, graph) for m in models if m.materialized != "view"]
    for layer in dict.fromkeys(m.layer for m in models):
        views = [m for m in models if m.layer == layer and m.materialized == "view"]
        if views:
            assets.append(build_view_assets(layer, views, graph))
    return assets


def grain_checks(graph: SqlGraph) -> list[dg.AssetChecksDefinition]:
    """A blocking ``unique_grain`` check for every model (SQL- or Python-built) with a grain,
    over the rows the run wrote where the model says which (``written:``, or its days)."""
    return [
        unique_key_check(m.name, m.grain, written=m.written, partition_day=m.partition_day)
        for m in graph.in_order()
        if m.grain and m.materialized != "bookkeeping"
    ]


def whole_table_grain_checks(graph: SqlGraph) -> list[dg.AssetChecksDefinition]:
    """The daily ``unique_grain_whole_table`` check of every model whose run check covers only
    the rows the run wrote."""
    return [
        whole_table_key_check(m.name, m.grain)
        for m in graph.in_order()
        if m.grain and m.materialized != "bookkeeping" and (m.written or m.partition_day)
    ]
