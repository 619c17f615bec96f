"""Operator commands run as root read the secrets the service gets: the credential store the
unit names them from (``LoadCredential=wix_api_key:wixprint.wix_api_key``). Plus the small
traps of credential files (empty, CRLF) and warnings for valid but unsafe settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.config.helpers import MINIMAL
from wixprint.cli import main
from wixprint.config import (
    CREDSTORE_ENV,
    config_warnings,
    file_warnings,
    load_config,
    load_config_text,
)

NEEDS_PASSWORD = (
    MINIMAL
    + """
[smtp]
host = "mail.example.com"
sender = "pi@example.com"
recipients = ["owner@example.com"]
username = "pi"
"""
)


def credstore(tmp_path: Path, **values: str) -> Path:
    store = tmp_path / "credstore"
    store.mkdir(mode=0o700)
    for name, value in values.items():
        (store / f"wixprint.{name}").write_text(value, newline="")
    return store


def config_file(tmp_path: Path, text: str, mode: int = 0o640) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_root_config_check_reads_the_credential_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = credstore(tmp_path, smtp_password="from-the-store\n")
    path = config_file(tmp_path, NEEDS_PASSWORD)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("WIXPRINT_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv(CREDSTORE_ENV, str(store))

    assert main(["config", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "password ****" in out
    assert "from-the-store" not in out + err
    assert load_config(path).smtp.password == "from-the-store"


def test_without_the_store_the_same_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(tmp_path, NEEDS_PASSWORD)
    monkeypatch.delenv("WIXPRINT_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv(CREDSTORE_ENV, str(tmp_path / "no-such-store"))
    assert main(["config", "check", str(path)]) == 78
    assert "smtp.password: required" in capsys.readouterr().err


def test_service_credentials_beat_the_store(tmp_path: Path) -> None:
    store = credstore(tmp_path, wix_api_key="store-key")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "wix_api_key").write_text("service-key")
    path = config_file(tmp_path, MINIMAL)
    env = {CREDSTORE_ENV: str(store), "CREDENTIALS_DIRECTORY": str(creds)}
    assert load_config(path, env).wix.api_key == "service-key"


def test_the_store_beats_the_environment_as_credentials_do(tmp_path: Path) -> None:
    store = credstore(tmp_path, wix_api_key="store-key")
    path = config_file(tmp_path, MINIMAL)
    env = {CREDSTORE_ENV: str(store), "WIXPRINT_WIX_API_KEY": "env-key"}
    assert load_config(path, env).wix.api_key == "store-key"


def test_an_empty_credential_file_does_not_blank_the_environment(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "wix_api_key").write_text("")
    env = {"CREDENTIALS_DIRECTORY": str(creds), "WIXPRINT_WIX_API_KEY": "env-key"}
    assert load_config_text(MINIMAL, env).wix.api_key == "env-key"
    store = credstore(tmp_path, wix_api_key="\n")
    path = config_file(tmp_path, MINIMAL)
    assert (
        load_config(path, {CREDSTORE_ENV: str(store), "WIXPRINT_WIX_API_KEY": "e"}).wix.api_key
        == "e"
    )


def test_a_crlf_line_ending_is_not_part_of_the_secret(tmp_path: Path) -> None:
    store = credstore(tmp_path, smtp_password="s3cret\r\n")
    path = config_file(tmp_path, NEEDS_PASSWORD)
    assert load_config(path, {CREDSTORE_ENV: str(store)}).smtp.password == "s3cret"


def test_text_configs_never_read_the_machine_store() -> None:
    """Tests and the demo validate text: no operator secret can leak into them."""
    assert load_config_text(MINIMAL).wix.api_key == ""


def test_clear_text_secrets_are_warned_about() -> None:
    config = load_config_text(
        NEEDS_PASSWORD.replace(
            'username = "pi"', 'username = "pi"\npassword = "p"\nsecurity = "none"'
        )
        + '[wix]\nbase_url = "http://wix.example.com"\n'
    )
    warnings = config_warnings(config)
    assert any(w.startswith("wix.base_url: plain http://") for w in warnings)
    assert any(w.startswith('smtp.security: "none" sends the SMTP password') for w in warnings)
    loopback = load_config_text(MINIMAL + '[wix]\nbase_url = "http://127.0.0.1:9"\n')
    assert config_warnings(loopback) == []


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (0o640, None),
        (0o600, None),
        (0o644, "every user can read it"),
        (0o666, "others can change it"),
    ],
)
def test_config_file_permissions_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: int, expected: str | None
) -> None:
    path = config_file(tmp_path, MINIMAL, mode)
    assert main(["config", "check", str(path)]) == 0
    err = capsys.readouterr().err
    if expected is None:
        assert file_warnings(path) == []
        assert "warning" not in err
    else:
        assert f"{path}: warning: file mode {mode:04o}: {expected}" in err
