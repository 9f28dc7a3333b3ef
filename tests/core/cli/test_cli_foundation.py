"""The `zbsn` CLI: version, doctor, db upgrade, config show, vault rotate; exit codes and clean stdout."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.conftest import FAIL_BACKEND, MemoryKeyring
from zbsn.core import __version__
from zbsn.core.cli.main import app
from zbsn.core.connections import ConnectionRepository
from zbsn.core.db import migrate
from zbsn.core.db.engine import make_engine
from zbsn.core.domain import ConnectionKind
from zbsn.core.vault import encode_key, generate_key, key_file_path, open_vault

# The console script installed beside the interpreter running the tests (a venv in CI).
ZBSN_SCRIPT = Path(sys.executable).parent / "zbsn"
runner = CliRunner()


def _db_url(home: Path) -> str:
    return f"sqlite:///{home / 'data' / 'zbsn.db'}"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"zbsn {__version__}"


def test_usage_error_exits_2() -> None:
    result = runner.invoke(app, ["doctor", "--no-such-option"])
    assert result.exit_code == 2


def test_db_upgrade_brings_an_empty_database_to_head(tmp_path: Path) -> None:
    db_file = tmp_path / "fresh.db"
    result = runner.invoke(app, ["--db", f"sqlite:///{db_file}", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"upgraded empty -> {migrate.head_revision()}" in result.stdout
    engine = make_engine(f"sqlite:///{db_file}")
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()
    assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
    again = runner.invoke(app, ["--db", f"sqlite:///{db_file}", "db", "upgrade"])
    assert "already at revision" in again.stdout


def test_doctor_before_and_after_upgrade_reports_the_fallback_key_file(zbsn_home: Path) -> None:
    before = runner.invoke(app, ["doctor", "--json"])
    assert before.exit_code == 1
    report = json.loads(before.stdout)
    assert any("zbsn db upgrade" in problem for problem in report["problems"])
    assert not (zbsn_home / "data" / "zbsn.db").exists()  # doctor changes nothing

    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    after = runner.invoke(app, ["doctor", "--json"])
    assert after.exit_code == 0, after.stdout
    report = json.loads(after.stdout)
    assert report["keyring"] == {"backend": FAIL_BACKEND, "usable": False}
    assert report["key"]["source"] == "file"
    assert report["key"]["file"] == str(key_file_path())
    assert report["database"]["current"] is True
    assert report["database"]["url"] == _db_url(zbsn_home)
    assert report["paths"]["config_dir"] == str(zbsn_home / "config")
    assert any("no OS keyring backend" in warning for warning in report["warnings"])


def test_doctor_reports_env_and_keyring_sources(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    keyring_report = json.loads(runner.invoke(app, ["doctor", "--json"]).stdout)
    assert keyring_report["keyring"]["usable"] is True
    assert keyring_report["key"]["source"] == "keyring"
    monkeypatch.setenv("ZBSN_MASTER_KEY", encode_key(generate_key()))
    env_report = json.loads(runner.invoke(app, ["doctor", "--json"]).stdout)
    assert env_report["key"]["source"] == "env"
    assert env_report["key"]["present"] is True


def test_doctor_flags_a_key_that_does_not_fit_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine()
    vault = open_vault(engine)
    ConnectionRepository(engine, vault).set_secret(
        ConnectionRepository(engine).create(ConnectionKind.ZOHO, "Acme"), "client_secret", "cs-123456"
    )
    engine.dispose()
    monkeypatch.setenv("ZBSN_MASTER_KEY", encode_key(generate_key()))
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert f"encrypted under key {vault.key_id}" in result.stdout


def test_doctor_via_the_installed_console_script(zbsn_home: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZBSN_")}
    env.update(ZBSN_HOME=str(zbsn_home), PYTHON_KEYRING_BACKEND=FAIL_BACKEND)
    upgrade = subprocess.run(
        [str(ZBSN_SCRIPT), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert upgrade.returncode == 0, upgrade.stderr
    doctor = subprocess.run(
        [str(ZBSN_SCRIPT), "doctor", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    report = json.loads(doctor.stdout)  # stdout is pure JSON
    assert report["keyring"]["backend"] == FAIL_BACKEND
    assert report["key"]["source"] == "file"
    assert report["database"]["revision"] == migrate.head_revision()


def test_config_show_masks_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "zbsn.toml"
    config.write_text(
        'database_url = "postgresql://zbsn:db-pass-123@db.example/zbsn"\n'
        '[webhook]\nsecret = "hook-secret-456"\n[zoho]\nper_minute_limit = 60\n'
    )
    text = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert text.exit_code == 0, text.output
    assert "per_minute_limit = 60" in text.stdout
    assert 'secret = "**********"' in text.stdout
    monkeypatch.setenv("ZBSN_WEBHOOK__SECRET", "env-hook-secret-789")
    as_json = runner.invoke(app, ["--config", str(config), "config", "show", "--json"])
    assert as_json.exit_code == 0
    settings = json.loads(as_json.stdout)["settings"]
    assert settings["webhook"]["secret"] == "**********"
    assert settings["database_url"] == "postgresql://zbsn:***@db.example/zbsn"
    for secret in ("db-pass-123", "hook-secret-456", "env-hook-secret-789"):
        assert secret not in text.stdout + as_json.stdout


def test_invalid_config_exits_1_naming_file_and_key(tmp_path: Path) -> None:
    folder = tmp_path / ("a-long-folder-name-" * 5)  # the message must not wrap a long path onto two lines
    folder.mkdir()
    config = folder / "zbsn.toml"
    config.write_text("[webhook]\nport = 99999\n")
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code == 1
    assert str(config) in result.stderr
    assert "webhook.port" in result.stderr
    assert result.stdout == ""


def test_vault_rotate_command(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine()
    repo = ConnectionRepository(engine, open_vault(engine))
    repo.set_secret(repo.create(ConnectionKind.SERVICENOW, "Now"), "client_secret", "sn-secret-000")
    old_key_file = key_file_path().read_text()
    result = runner.invoke(app, ["vault", "rotate"])
    assert result.exit_code == 0, result.output
    assert "rotated 1 secrets" in result.stdout
    assert key_file_path().read_text() != old_key_file
    assert stat.S_IMODE(key_file_path().stat().st_mode) == 0o600
    fresh = ConnectionRepository(engine, open_vault(engine))
    assert fresh.get_secret(fresh.get_by_name("Now"), "client_secret") == "sn-secret-000"
    with engine.connect() as conn:
        assert (
            "sn-secret-000"
            not in conn.execute(sa.text("SELECT client_secret_enc FROM connection")).scalar_one()
        )
    engine.dispose()


def test_vault_rotate_with_env_key_needs_print_new_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZBSN_MASTER_KEY", encode_key(generate_key()))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    refused = runner.invoke(app, ["vault", "rotate"])
    assert refused.exit_code == 1
    assert "--print-new-key" in refused.stderr
    printed = runner.invoke(app, ["vault", "rotate", "--print-new-key"])
    assert printed.exit_code == 0, printed.output
    new_key = printed.stdout.strip().splitlines()[-1].removeprefix("ZBSN_MASTER_KEY=")
    monkeypatch.setenv("ZBSN_MASTER_KEY", new_key)
    assert runner.invoke(app, ["doctor"]).exit_code == 0


def test_cli_log_file_is_owner_only(zbsn_home: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    log_file = zbsn_home / "logs" / "zbsn.log"
    assert log_file.exists()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
