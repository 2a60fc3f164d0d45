"""``sql/`` read as a graph: one model per file, its key, layer, header and the tables it reads.

``sql/<layer>/<name>.sql`` builds the warehouse relation ``<layer>.<name>``. The leading comment
block says what it is for people, and declares for the pipeline (one ``-- key: value`` line
each):

* ``materialized:`` how the file builds its relation: ``view``, ``table`` (rebuilt each run),
  ``incremental`` (the file merges into the table it keeps), ``day_partitioned`` (the file
  rebuilds the UTC days ``[$start_day, $end_day)``: a Dagster daily partition or a backfill
  range), ``python (module)`` (Python drives it: the file holds its table and SQL; trust,
  the write-back) or ``bookkeeping (...)`` (pipeline state written by several assets, not an
  asset: ``ops.watermarks``). The file's DDL must agree with it (checked here).
* ``grain:`` the columns each row is unique on: a blocking ``unique_grain`` asset check.
* ``written:`` (tables that grow with the history) the SQL condition selecting the rows the
  last build wrote: the run's ``unique_grain`` check covers those keys, and the daily_checks
  job the whole table. Day-partitioned models need none: the run's days are the written rows.
* ``partition_day:`` (day_partitioned) the SQL expression giving a row's UTC day.
* ``report:`` ``name = aggregate, ...`` computed over the relation (over the partition's days
  when partitioned) after each build: the materialization's metadata in the Dagster UI.
* ``config:`` ``name = default (description)``: a run-config value bound as ``$name`` (one
  line per value).
* ``step:`` (files under a folder, e.g. ``marts/trust/``) the file is one step of the
  Python-driven models named, not an asset; what it reads counts as theirs.

What a model reads is every schema-qualified name (``raw.``, ``staging.``, ``intermediate.``,
``marts.``, ``ops.``) outside comments and string literals, its own relation excepted, and
what the macros of ``sql/macros/`` it calls read: the asset's dependencies. The layers are a
contract the loader enforces (:data:`READS`): staging reads raw, intermediate reads staging
and intermediate, marts read intermediate and marts, the platform write-back reads marts, ops
(bookkeeping) may be read and written by any layer; a file writes only its own layer; a macro
reads what a mart may read and writes nothing. A name that no model and no raw table builds is
an error, so a typo in a ``from`` clause fails when the code location loads, not in the hourly
run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.partitions import FIRST_PARTITION_DAY
from pipelines.sql_files import MACROS_FOLDER, SQL_DIR, run_model

#: The layers, in the direction data flows; each is a folder of sql/ and a warehouse schema
#: (``platform`` is the platform database the write-back writes).
LAYERS = ("raw", "staging", "intermediate", "marts", "ops", "platform")
#: Materializations the factory builds as SQL assets, and the other kinds a file may declare.
SQL_MATERIALIZATIONS = ("view", "table", "incremental", "day_partitioned")
OTHER_MATERIALIZATIONS = ("python", "bookkeeping")
#: Parameters the pipeline binds itself; any other ``$name`` must be a ``config:`` value.
#: ``first_day`` is the first day of the daily partitions (pipelines/partitions.py);
#: ``sql_version`` a hash of the file's own statements (pipelines/sql_files.py).
RUNTIME_PARAMETERS = frozenset({"run_at", "start_day", "end_day", "first_day", "sql_version"})
#: sql/examples/: the analysts' example queries, read by people, not by the pipeline.
EXAMPLES_FOLDER = "examples"
HEADER_KEYS = ("materialized", "grain", "written", "partition_day", "report", "config", "step")

#: What each layer's files may read (``ops``, bookkeeping, any layer may read and write).
READS = {
    "staging": ("raw",),
    "intermediate": ("staging", "intermediate"),
    "marts": ("intermediate", "marts"),
    "platform": ("marts",),
    "ops": ("raw", "staging", "intermediate", "marts"),
    # Macros compute what marts compute, at read time (pipelines/sql_files.py).
    MACROS_FOLDER: ("intermediate", "marts"),
}
_HEADER_LINE = re.compile(rf"^--\s*({'|'.join(HEADER_KEYS)}):\s*(.*?)\s*$")
_REFERENCE = re.compile(rf"\b({'|'.join(LAYERS[:-1])})\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
#: A statement that creates or changes a relation: the relation is written, not read.
_WRITE = re.compile(
    r"\b(?:create\s+(?:or\s+replace\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?"
    r"|insert\s+(?:or\s+(?:replace|ignore)\s+)?into\s+|delete\s+from\s+|update\s+"
    r"|merge\s+into\s+|alter\s+table\s+|drop\s+(?:table|view)\s+(?:if\s+exists\s+)?)"
    rf"({'|'.join(LAYERS[:-1])})\.([a-z_][a-z0-9_]*)\b",
    re.IGNORECASE,
)
_CONFIG = re.compile(r"^([a-z_][a-z0-9_]*)\s*=\s*(-?\d+)\s*(?:\((.*)\))?$")
_REPORT_ITEM = re.compile(r"^([a-z_][a-z0-9_]*)\s*=\s*(.+)$", re.DOTALL)

Key = tuple[str, str]


class SqlModelError(ValueError):
    """A file under sql/ whose header or references do not hold together."""

    def __init__(self, relative: str, message: str) -> None:
        super().__init__(f"sql/{relative}: {message}")


@dataclass(frozen=True)
class ConfigValue:
    """A run-config value a model binds as ``$name`` (integer, with a default)."""

    name: str
    default: int
    description: str


@dataclass(frozen=True)
class SqlModel:
    """One file of ``sql/``: what it builds, how, and what it reads."""

    relative: str
    layer: str
    #: ``(schema, table)`` it builds; None for a step file.
    key: Key | None
    materialized: str
    #: Where the ``python``/``bookkeeping`` materialization points (the module), if said.
    driver: str
    description: str
    grain: tuple[str, ...]
    #: The condition selecting the rows the last build wrote (``written:``), if declared.
    written: str | None
    partition_day: str | None
    report: tuple[tuple[str, str], ...]
    config: tuple[ConfigValue, ...]
    #: Models a step file is a step of.
    step_of: tuple[Key, ...]
    #: Relations read, own key excluded (steps' reads included for Python-driven models).
    reads: frozenset[Key]
    parameters: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        """``schema.table`` (or the file for a step)."""
        return ".".join(self.key) if self.key else self.relative

    @property
    def path(self) -> Path:
        """The file."""
        return SQL_DIR / self.relative

    @property
    def is_sql_asset(self) -> bool:
        """Built by running the file alone (the factory makes its asset)."""
        return self.materialized in SQL_MATERIALIZATIONS


def _strip_comments_and_strings(sql: str) -> str:
    """The SQL without ``--``/``/* */`` comments and ``'...'`` literals (references in prose
    or in ``comment on ... is '...'`` texts are not reads)."""
    return re.sub(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", " ", sql, flags=re.DOTALL)


def _leading_comments(sql: str) -> list[str]:
    lines = []
    for line in sql.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            lines.append(stripped)
        elif stripped:
            break
    return lines


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def _key(text: str, relative: str) -> Key:
    schema, _, table = text.strip().partition(".")
    if schema not in LAYERS or not table:
        raise SqlModelError(relative, f"{text!r} is not a <layer>.<table> name")
    return schema, table


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    """One in-memory connection for parsing, kept for the process: opening one per file cost
    0.9 s of every start-up (45 files, ~20 ms per connect)."""
    return duckdb.connect()


def _parameters_of(sql: str) -> frozenset[str]:
    """``$name`` parameters of every statement, by DuckDB's own parser (no catalog needed)."""
    return frozenset().union(*(s.named_parameters for s in _parser().extract_statements(sql)))


@dataclass(frozen=True)
class SqlMacro:
    """One file of ``sql/macros/``: the table macro it defines and the relations it reads."""

    relative: str
    name: str
    description: str
    reads: frozenset[Key]


def parse_macro(relative: str, sql: str) -> SqlMacro:
    """Check a macro file: it defines ``create or replace temp macro <its stem>(...)`` (temporary,
    so it never persists in the warehouse file), writes nothing and reads what a mart may."""
    name = Path(relative).stem
    body = _strip_comments_and_strings(sql)
    if not re.search(rf"\bcreate\s+or\s+replace\s+temp\s+macro\s+{name}\s*\(", body, re.I):
        raise SqlModelError(
            relative, f"a macro file defines `create or replace temp macro {name}(...)`"
        )
    reads = {(s.lower(), t.lower()) for s, t in _REFERENCE.findall(body)}
    _check_layers(relative, MACROS_FOLDER, body, reads)
    prose = [line.removeprefix("--").strip() for line in _leading_comments(sql)]
    return SqlMacro(relative, name, " ".join(prose), frozenset(reads))


def _macros_called(body: str, macros: Mapping[str, SqlMacro]) -> list[SqlMacro]:
    return [m for n, m in macros.items() if re.search(rf"\b{n}\s*\(", body)]


def parse_model(relative: str, sql: str, macros: Mapping[str, SqlMacro] | None = None) -> SqlModel:
    """Read one file's header and references (``relative`` to sql/, e.g. ``marts/x.sql``);
    ``macros`` (by name) add what the macros the file calls read."""
    parts = Path(relative).parts
    layer = parts[0]
    if layer not in LAYERS:
        raise SqlModelError(
            relative,
            f"the folder must be a layer, one of {', '.join(LAYERS)} (or {MACROS_FOLDER}/, "
            f"{EXAMPLES_FOLDER}/)",
        )
    header: dict[str, str] = {}
    prose: list[str] = []
    for line in _leading_comments(sql):
        match = _HEADER_LINE.match(line)
        if match and match.group(1) == "config" and "config" in header:
            header["config"] += "\n" + match.group(2)  # one `-- config:` line per value
        elif match:
            header[match.group(1)] = match.group(2)
        else:
            prose.append(line.removeprefix("--").strip())
    step_of = tuple(_key(k, relative) for k in _split_top_level(header.get("step", "")))
    if len(parts) > 2 and not step_of:
        raise SqlModelError(relative, "files in sub-folders are steps: say `-- step: <model>`")
    key = None if step_of else (layer, Path(relative).stem)
    kind, _, driver = header.get("materialized", "step" if step_of else "").partition(" ")
    allowed = SQL_MATERIALIZATIONS + OTHER_MATERIALIZATIONS + (("step",) if step_of else ())
    if kind not in allowed:
        raise SqlModelError(relative, f"`-- materialized:` must be one of {', '.join(allowed)}")
    body = _strip_comments_and_strings(sql)
    if key and kind in SQL_MATERIALIZATIONS:
        _check_ddl(relative, body, key, kind)
    partition_day = header.get("partition_day")
    if (kind == "day_partitioned") != bool(partition_day):
        raise SqlModelError(relative, "day_partitioned and `-- partition_day:` go together")
    report = []
    for item in _split_top_level(header.get("report", "")):
        match = _REPORT_ITEM.match(item)
        if not match:
            raise SqlModelError(relative, f"report item {item!r} is not `name = expression`")
        report.append((match.group(1), match.group(2).strip()))
    config = []
    for item in filter(None, header.get("config", "").splitlines()):
        match = _CONFIG.match(item)
        if not match:
            raise SqlModelError(relative, f"config {item!r} is not `name = integer (description)`")
        config.append(ConfigValue(match.group(1), int(match.group(2)), match.group(3) or ""))
    parameters = _parameters_of(sql)
    unknown = parameters - RUNTIME_PARAMETERS - {c.name for c in config}
    if kind in SQL_MATERIALIZATIONS and unknown:
        raise SqlModelError(
            relative,
            f"parameters {sorted(unknown)} are neither run-time values nor `-- config:` values",
        )
    if header.get("written") and not header.get("grain"):
        raise SqlModelError(relative, "`-- written:` says which rows the grain check covers")
    if kind == "day_partitioned" and not {"start_day", "end_day"} <= parameters:
        raise SqlModelError(relative, "a day_partitioned model rebuilds [$start_day, $end_day)")
    reads = {(s.lower(), t.lower()) for s, t in _REFERENCE.findall(body)} - {key}
    for macro in _macros_called(body, macros or {}):
        reads |= macro.reads - {key}
    _check_layers(relative, layer, body, reads)
    return SqlModel(
        relative=relative,
        layer=layer,
        key=key,
        materialized=kind,
        driver=driver.strip("() "),
        description=" ".join(prose),
        grain=tuple(c for c in _split_top_level(header.get("grain", ""))),
        written=header.get("written"),
        partition_day=partition_day,
        report=tuple(report),
        config=tuple(config),
        step_of=step_of,
        reads=frozenset(reads),
        parameters=parameters,
    )


def _check_layers(relative: str, layer: str, body: str, references: set[Key]) -> None:
    """Data flows one way: a file writes only its own layer (and ops, the bookkeeping every
    layer keeps) and reads only the layers before it (:data:`READS`; ops from any layer)."""
    written = {(s.lower(), t.lower()) for s, t in _WRITE.findall(body)}
    for schema, table in sorted(written):
        if layer == MACROS_FOLDER or schema not in (layer, "ops"):
            raise SqlModelError(
                relative,
                f"writes {schema}.{table}: a file under {layer}/ writes only {layer}.* (and ops.*)"
                if layer != MACROS_FOLDER
                else f"writes {schema}.{table}: a macro writes nothing",
            )
    allowed = (*READS.get(layer, ()), "ops")
    for schema, table in sorted(references - written):
        if schema not in allowed:
            raise SqlModelError(
                relative,
                f"reads {schema}.{table}: a file under {layer}/ reads only "
                f"{', '.join(f'{a}.*' for a in allowed)}",
            )


def _check_ddl(relative: str, body: str, key: Key, kind: str) -> None:
    """The file must create its own relation the way its header says."""
    name = re.escape(".".join(key))
    # Bookkeeping relations are tables, or views Python points elsewhere (the archive's).
    what = {"view": "view", "bookkeeping": "(?:table|view)"}.get(kind, "table")
    pattern = rf"\bcreate\s+(or\s+replace\s+)?{what}\s+(if\s+not\s+exists\s+)?{name}\b"
    if not re.search(pattern, body, re.IGNORECASE):
        raise SqlModelError(
            relative, f"materialized: {kind} but no `create {what} {'.'.join(key)}`"
        )


@dataclass(frozen=True)
class SqlGraph:
    """Every model of sql/, keyed by the relation it builds, plus the raw tables ingest builds."""

    models: Mapping[Key, SqlModel]
    steps: tuple[SqlModel, ...]
    raw: frozenset[Key]
    macros: Mapping[str, SqlMacro] = field(default_factory=dict)

    def model(self, schema: str, table: str) -> SqlModel:
        """The model building ``schema.table``."""
        return self.models[(schema, table)]

    def deps(self, *keys: Key) -> list[Key]:
        """What the models ``keys`` read that is an asset (bookkeeping tables and the models
        themselves excluded), sorted."""
        reads = set().union(*(self.models[k].reads for k in keys)) - set(keys)
        return sorted(r for r in reads if r in self.raw or self._is_asset(r))

    def _is_asset(self, key: Key) -> bool:
        model = self.models.get(key)
        return model is not None and model.materialized != "bookkeeping"

    def bookkeeping_read_by(self, key: Key) -> list[SqlModel]:
        """The bookkeeping relations model ``key`` reads: their files (idempotent ``create
        ... if not exists``) run before it, so it runs on a warehouse where the job that
        writes them has not run yet (the archive views before any maintenance run)."""
        models = (self.models.get(r) for r in sorted(self.models[key].reads))
        return [m for m in models if m is not None and m.materialized == "bookkeeping"]

    def sql_assets(self) -> list[SqlModel]:
        """The models the factory turns into assets, in build order."""
        return [m for m in self.in_order() if m.is_sql_asset]

    def in_order(self) -> list[SqlModel]:
        """Every model after everything it reads (the order a run builds them)."""
        graph = {k: set(self.deps(k)) - self.raw for k in self.models}
        return [self.models[k] for k in TopologicalSorter(graph).static_order()]

    def step_files(self, of: Key) -> list[SqlModel]:
        """The step files of a Python-driven model, in file-name order."""
        return sorted((s for s in self.steps if of in s.step_of), key=lambda s: s.relative)


def _with_step_reads(models: dict[Key, SqlModel], steps: Iterable[SqlModel]) -> None:
    for step in steps:
        for owner in step.step_of:
            if owner not in models:
                raise SqlModelError(
                    step.relative, f"step of {'.'.join(owner)}, which no file builds"
                )
            model = models[owner]
            # Models driven together (trust_events and agent_trust) read each other's rows
            # inside one run: no dependency between them.
            reads = (model.reads | step.reads) - set(step.step_of)
            models[owner] = SqlModel(**{**model.__dict__, "reads": frozenset(reads)})


@cache
def load_graph(root: Path = SQL_DIR) -> SqlGraph:
    """Parse every ``.sql`` file under ``root`` (once per process) and check the references."""
    macros = {
        path.stem: parse_macro(path.relative_to(root).as_posix(), path.read_text())
        for path in sorted((root / MACROS_FOLDER).glob("*.sql"))
    }
    models: dict[Key, SqlModel] = {}
    steps: list[SqlModel] = []
    for path in sorted(root.rglob("*.sql")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((f"{EXAMPLES_FOLDER}/", f"{MACROS_FOLDER}/")):
            continue  # analysts' queries (tests/sql/test_examples.py runs them); macros above
        model = parse_model(relative, path.read_text(), macros)
        if model.key is None:
            steps.append(model)
        else:
            models[model.key] = model
    _with_step_reads(models, steps)
    raw = frozenset(("raw", t) for t in SOURCE_TABLES)
    for model in [*models.values(), *steps, *macros.values()]:
        unknown = model.reads - models.keys() - raw
        if unknown:
            names = ", ".join(sorted(".".join(k) for k in unknown))
            raise SqlModelError(model.relative, f"reads {names}, which no file or ingest builds")
    return SqlGraph(models, tuple(steps), raw, macros)


def read_queries(relative: str) -> dict[str, str]:
    """The named queries of a file (``-- name: x`` starts query ``x``), for Python drivers
    that run them one by one with their own parameters."""
    queries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (SQL_DIR / relative).read_text().splitlines():
        match = re.match(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", line.strip())
        if match:
            current = queries.setdefault(match.group(1), [])
        elif current is not None and not line.strip().startswith("--"):
            current.append(line)
    if not queries:
        raise SqlModelError(relative, "no `-- name:` queries")
    return {name: "\n".join(lines).strip().rstrip(";") for name, lines in queries.items()}


def build_in_order(
    con: duckdb.DuckDBPyConnection,
    params: Mapping[str, object],
    python: Mapping[Key, Callable[[], object]],
    *,
    graph: SqlGraph | None = None,
    step: Callable[[str, Callable[[], object]], object] = lambda _name, fn: fn(),
) -> None:
    """Build every model on ``con`` in graph order, without Dagster (tests, the bench).

    SQL models run their file with ``params`` (``run_at``, ``start_day``/``end_day`` for the
    day-partitioned ones; config values default to the header's). Python-driven models call
    ``python[key]`` (one callable shared by several keys runs once); those not given are left
    out (e.g. the platform write-back). ``step(name, fn)`` wraps each build (timing).
    """
    graph = graph or load_graph()
    done: set[int] = set()
    for model in graph.in_order():
        if model.is_sql_asset:
            values = (
                {c.name: c.default for c in model.config}
                | {"first_day": FIRST_PARTITION_DAY}
                | dict(params)
            )
            for needed in graph.bookkeeping_read_by(model.key):
                run_model(con, needed.relative)
            step(model.name, lambda m=model, v=values: run_model(con, m.relative, v))
        elif model.key in python and id(python[model.key]) not in done:
            done.add(id(python[model.key]))
            step(model.name, python[model.key])
