"""`zbsn doctor`: where everything lives and whether it works, without changing anything.

`collect_report` is plain Python (no Typer), so the console can show the same report. When the database is
current and its key opens it, the command adds a `servicenow` section: the pre-flight of every ServiceNow
connection (doctor_servicenow.py), whose problems count as the report's problems.
"""

from __future__ import annotations

import platform
import stat
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from zbsn.core import __version__
from zbsn.core.cli.app import EXIT_OK, EXIT_PROBLEM, app, emit_json, state
from zbsn.core.cli.cmd_shared import open_workspace
from zbsn.core.cli.doctor_servicenow import servicenow_sections
from zbsn.core.connections import ConnectionRepository
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine, resolve_database_url
from zbsn.core.domain import ConnectionKind
from zbsn.core.logs import default_log_path
from zbsn.core.paths import config_dir, data_dir, log_dir
from zbsn.core.settings import Settings, SettingsError, default_config_path, load_settings, mask_url
from zbsn.core.vault import (
    KeySource,
    VaultError,
    check_vault,
    key_file_path,
    keyring_backend_name,
    keyring_usable,
    locate_key,
    planned_key_source,
)

DB_CONNECT_TIMEOUT_SECONDS = 5


def _file_mode(path: Path) -> str | None:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}" if path.exists() else None


def _config_section(config_path: Path | None, problems: list[str]) -> tuple[dict[str, Any], Settings]:
    path = config_path or default_config_path()
    section: dict[str, Any] = {"path": str(path), "exists": path.is_file(), "valid": True, "error": None}
    try:
        return section, load_settings(config_path)
    except SettingsError as exc:
        section.update(valid=False, error=str(exc))
        problems.append(str(exc))
        return section, Settings()


def _sqlite_missing(url: str) -> Path | None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def _database_section(
    url: str, settings: Settings, problems: list[str]
) -> tuple[dict[str, Any], sa.Engine | None]:
    section: dict[str, Any] = {
        "url": mask_url(url),
        "reachable": False,
        "revision": None,
        "head": migrate.head_revision(),
        "current": False,
        "file_mode": None,
        "error": None,
    }
    missing = _sqlite_missing(url)
    if missing is not None:
        section["error"] = f"no database file at {missing}"
        problems.append(f"no database yet at {missing}: run `zbsn db upgrade`")
        return section, None
    connect_args = {} if url.startswith("sqlite") else {"connect_timeout": DB_CONNECT_TIMEOUT_SECONDS}
    try:
        # doctor reports an unreachable server at once instead of waiting for it to come back
        engine = (
            make_engine(url, connect_wait_s=0, connect_args=connect_args)
            if connect_args
            else make_engine(url, connect_wait_s=0)
        )
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        section["reachable"] = True
        section["revision"] = migrate.current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        section["error"] = f"{exc.__class__.__name__}: {exc.args[0] if exc.args else exc}"
        problems.append(f"database {mask_url(url)} is not reachable: {section['error']}")
        return section, None
    section["current"] = section["revision"] == section["head"]
    if not section["current"]:
        problems.append(
            f"database is at revision {section['revision'] or 'empty'}, zbsn needs {section['head']}: "
            "run `zbsn db upgrade`"
        )
    sqlite_path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if sqlite_path and sqlite_path != ":memory:":
        section["file_mode"] = _file_mode(Path(sqlite_path))
    return section, engine


def _key_section(
    settings: Settings, engine: sa.Engine | None, problems: list[str], warnings: list[str]
) -> dict[str, Any]:
    service = settings.keyring_service
    key_file = key_file_path()
    section: dict[str, Any] = {
        "source": None,
        "present": False,
        "location": None,
        "file": str(key_file),
        "file_mode": _file_mode(key_file),
        "check": None,
    }
    try:
        located = locate_key(service)
        section["source"] = planned_key_source(service).value
    except VaultError as exc:
        problems.append(str(exc))
        return section
    if located is not None:
        section.update(present=True, location=located.location)
    if section["source"] == KeySource.FILE.value:
        warnings.append(
            f"no OS keyring backend: the data key lives in {key_file} (owner-only); "
            "back it up with the database"
        )
    mode = section["file_mode"]
    if mode is not None and int(mode, 8) & 0o077:
        problems.append(f"{key_file} has mode {mode}; run `chmod 600 {key_file}`")
    if engine is not None:
        health = check_vault(engine, service)
        section["check"] = {"ok": health.ok, "detail": health.detail}
        if not health.ok:
            problems.append(health.detail)
    return section


def collect_report(db: str | None = None, config_path: Path | None = None) -> dict[str, Any]:
    """Everything `zbsn doctor` reports, as a JSON-ready dict with `problems` and `warnings` lists."""
    problems: list[str] = []
    warnings: list[str] = []
    config_section, settings = _config_section(config_path, problems)
    url = resolve_database_url(db or settings.database_url)
    database_section, engine = _database_section(url, settings, problems)
    try:
        key_section = _key_section(settings, engine, problems, warnings)
    finally:
        if engine is not None:
            engine.dispose()
    log_file = default_log_path()
    return {
        "version": __version__,
        "python": platform.python_version(),
        "paths": {
            "config_dir": str(config_dir()),
            "data_dir": str(data_dir()),
            "log_dir": str(log_dir()),
            "log_file": str(log_file),
            "log_file_mode": _file_mode(log_file),
        },
        "config": config_section,
        "database": database_section,
        "keyring": {"backend": keyring_backend_name(), "usable": keyring_usable()},
        "key": key_section,
        "problems": problems,
        "warnings": warnings,
    }


def _render(report: dict[str, Any]) -> None:
    database, key, keyring_info = report["database"], report["key"], report["keyring"]
    lines = [
        f"zbsn {report['version']} (Python {report['python']})",
        f"config      {report['config']['path']}" + ("" if report["config"]["exists"] else " (not present)"),
        f"data dir    {report['paths']['data_dir']}",
        f"log file    {report['paths']['log_file']}",
        f"database    {database['url']}",
        f"  reachable {'yes' if database['reachable'] else 'no'}",
        f"  revision  {database['revision'] or 'empty'} (head {database['head']})",
        f"keyring     {keyring_info['backend']} ({'usable' if keyring_info['usable'] else 'none'})",
        f"key source  {key['source']}" + ("" if key["present"] else " (no key yet; created on first use)"),
    ]
    if key["check"] is not None:
        lines.append(f"  check     {key['check']['detail']}")
    for section in report.get("servicenow") or []:
        verdict = "ready" if section["ok"] else "not ready"
        if section["error"]:
            verdict = "pre-flight could not run"
        lines.append(f"servicenow  {section['connection']} ({section['instance_url']}): {verdict}")
        if section["roles"] is not None:
            lines.append(f"  roles     {', '.join(section['roles']) or 'none'}")
    lines += [f"warning: {item}" for item in report["warnings"]]
    lines += [f"problem: {item}" for item in report["problems"]]
    lines.append("all good" if not report["problems"] else f"{len(report['problems'])} problem(s) found")
    typer.echo("\n".join(lines))


@app.command("doctor")
def doctor(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Show where the database, config, logs and key live, and check that they work (exit 1 on problems)."""
    cli = state(ctx)
    report = collect_report(cli.db, cli.config_path)
    report["servicenow"] = None  # not checked: the database or its key has a problem
    if report["database"]["current"] and (report["key"]["check"] or {}).get("ok"):
        connections = ConnectionRepository(cli.engine()).list()
        report["servicenow"] = []
        if any(c.kind == ConnectionKind.SERVICENOW for c in connections):  # a key exists: nothing is created
            workspace = open_workspace(ctx)
            report["servicenow"] = servicenow_sections(workspace, report["problems"], report["warnings"])
    if json_output:
        emit_json(report)
    else:
        _render(report)
    raise typer.Exit(EXIT_PROBLEM if report["problems"] else EXIT_OK)
