"""Settings come from defaults, then config.toml, then ZBSN_ env vars; bad input names the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from zbsn.core.settings import SettingsError, default_config_path, load_settings


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_config_file() -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert settings.keyring_service == "zbsn"
    assert settings.log_level == "INFO"
    assert settings.zoho.refresh_margin_seconds == 300
    assert settings.zoho.per_minute_limit == 100
    assert settings.zoho.daily_limit is None
    assert settings.servicenow.refresh_margin_seconds == 120
    assert settings.servicenow.batch_size == 200
    assert settings.servicenow.insert_multiple_mode == "sync"
    assert (settings.webhook.host, settings.webhook.port) == ("127.0.0.1", 8765)
    assert settings.webhook.secret is None
    assert settings.webhook.replay_window_seconds == 300


def test_default_config_file_is_read_from_the_config_dir(zbsn_home: Path) -> None:
    path = _write(default_config_path(), 'log_level = "debug"\n[zoho]\ndaily_limit = 1000\n')
    assert path.parent == zbsn_home / "config"
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.zoho.daily_limit == 1000


def test_environment_beats_the_file_and_nests_with_double_underscore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "c.toml", "[zoho]\nper_minute_limit = 50\ndaily_limit = 900\n")
    monkeypatch.setenv("ZBSN_ZOHO__PER_MINUTE_LIMIT", "25")
    monkeypatch.setenv("ZBSN_SERVICENOW__INSERT_MULTIPLE_MODE", "async")
    settings = load_settings(path)
    assert settings.zoho.per_minute_limit == 25
    assert settings.zoho.daily_limit == 900  # untouched key of the same section survives the merge
    assert settings.servicenow.insert_multiple_mode == "async"


def test_unknown_key_in_the_file_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", "[servicenow]\nbatch_sise = 10\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert "servicenow.batch_sise" in str(caught.value)


def test_invalid_value_in_the_file_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.toml", '[servicenow]\ninsert_multiple_mode = "turbo"\n')
    with pytest.raises(SettingsError, match=r"c\.toml: key 'servicenow\.insert_multiple_mode'"):
        load_settings(path)


def test_invalid_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZBSN_WEBHOOK__PORT", "not-a-port")
    with pytest.raises(SettingsError, match="ZBSN_WEBHOOK__PORT"):
        load_settings()


def test_broken_toml_and_missing_explicit_file_are_errors(tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.toml", "[zoho\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(broken)
    with pytest.raises(SettingsError, match="config file not found"):
        load_settings(tmp_path / "absent.toml")


def test_secrets_never_show_in_repr_or_public_view(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "c.toml",
        'database_url = "postgresql://zbsn:db-pass-123@db.example/zbsn"\n'
        '[webhook]\nsecret = "hook-secret-456"\n',
    )
    settings = load_settings(path)
    assert settings.webhook.secret is not None
    assert settings.webhook.secret.get_secret_value() == "hook-secret-456"
    shown = repr(settings) + str(settings.public_dict())
    assert "hook-secret-456" not in shown
    assert "db-pass-123" not in shown
    assert settings.public_dict()["database_url"] == "postgresql://zbsn:***@db.example/zbsn"
