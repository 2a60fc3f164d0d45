"""DuckDB's ``ducklake``, ``sqlite`` and ``postgres`` extensions, loaded offline.

DuckDB downloads extensions from its own server at ``INSTALL`` time, which production
machines behind a firewall (and these build machines) cannot reach. The same binaries are
published on PyPI as ``duckdb-extension-<name>`` packages, pinned with DuckDB itself in
constraints.txt; this module lays them out the way DuckDB's ``extension_directory`` expects
(``<dir>/v<duckdb version>/<platform>/<name>.duckdb_extension``) and opens connections that
load them from there and never try the network.

The SQLite and PostgreSQL packages ship ``sqlite.duckdb_extension`` and
``postgres.duckdb_extension``, but DuckDB knows those extensions as ``sqlite_scanner`` and
``postgres_scanner`` and checks the entry point against the file name, so they are linked
under those names (loading the packaged file by path fails with "did not contain the
expected entrypoint"; STACK.md).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb

#: Package -> (file it ships, the name DuckDB loads it as).
PACKAGES = {
    "duckdb_extension_ducklake": ("ducklake", "ducklake"),
    "duckdb_extension_sqlite": ("sqlite", "sqlite_scanner"),
    "duckdb_extension_postgres": ("postgres", "postgres_scanner"),
}


class ExtensionMissing(RuntimeError):
    """An extension package is not installed for this DuckDB version."""


def _platform() -> str:
    return str(duckdb.execute("pragma platform").fetchone()[0])  # type: ignore[index]


def extension_directory() -> Path:
    """The folder DuckDB loads the packaged extensions from, laid out on first use.

    It lives beside the virtualenv's packages when writable (``.duckdb_extensions``) and in
    the temporary folder otherwise; the files are symbolic links, so laying it out is free.
    """
    version = f"v{duckdb.__version__}"
    sources: dict[str, Path] = {}
    for package, (shipped, _) in PACKAGES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ExtensionMissing(
                f"the Python package {package.replace('_', '-')} is not installed: "
                "run `make setup` (constraints.txt pins it with DuckDB)."
            )
        source = Path(next(iter(spec.submodule_search_locations))) / "extensions" / version
        file = source / f"{shipped}.duckdb_extension"
        if not file.is_file():
            raise ExtensionMissing(
                f"{package.replace('_', '-')} has no build for DuckDB {duckdb.__version__} "
                f"({file} is missing): install the version constraints.txt pins."
            )
        sources[package] = file
    first = next(iter(sources.values()))
    base = first.parents[3]  # site-packages
    root = base / ".duckdb_extensions"
    if not os.access(base, os.W_OK):
        root = Path(tempfile.gettempdir()) / f"agenthub-duckdb-extensions-{os.getuid()}"
    target = root / version / _platform()
    target.mkdir(parents=True, exist_ok=True)
    for package, file in sources.items():
        link = target / f"{PACKAGES[package][1]}.duckdb_extension"
        if link.resolve() != file.resolve():
            tmp = link.with_name(f".{link.name}.{os.getpid()}")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(file)
            os.replace(tmp, link)  # atomic: concurrent first uses never see a half link
    return root


def offline_config() -> dict[str, Any]:
    """DuckDB connection settings that load extensions from the packages, never the network."""
    return {
        "extension_directory": str(extension_directory()),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def connect(*, catalog: str = "sqlite", **config: Any) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with DuckLake and the catalog database's extension loaded
    (``catalog``: ``sqlite`` or ``postgres``; loading only the one needed saves ~0.1 s)."""
    con = duckdb.connect(config={**offline_config(), **config})
    try:
        # Long scans would draw a progress bar on the terminal of whoever runs a command.
        con.execute("SET enable_progress_bar = false")
        con.execute("LOAD ducklake")
        con.execute(f"LOAD {'postgres_scanner' if catalog == 'postgres' else 'sqlite_scanner'}")
    except BaseException:
        con.close()
        raise
    return con
