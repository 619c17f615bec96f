"""Secrets from the file, the environment and systemd credentials; masking; webhook keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.unit.config.helpers import MINIMAL, problems_of
from wixprint.config import load_config, load_config_text, secret_values, summarize

FILE_SECRETS = (
    MINIMAL
    + """
[wix]
api_key = "file-api-key"
[smtp]
host = "127.0.0.1"
sender = "pi@example.com"
recipients = ["owner@example.com"]
username = "pi"
password = "file-smtp-password"
[http]
admin_token = "file-admin-token"
"""
)


def _credentials(tmp_path: Path, **values: str) -> Path:
    directory = tmp_path / "credentials"
    directory.mkdir()
    for name, value in values.items():
        (directory / name).write_text(value)
    return directory


def test_secrets_from_the_file() -> None:
    config = load_config_text(FILE_SECRETS)
    assert config.wix.api_key == "file-api-key"
    assert secret_values(config) == ("file-api-key", "file-smtp-password", "file-admin-token")


def test_environment_beats_the_file() -> None:
    env = {
        "WIXPRINT_WIX_API_KEY": "env-api-key",
        "WIXPRINT_SMTP_PASSWORD": "env-smtp-password",
        "WIXPRINT_ADMIN_TOKEN": "env-admin-token",
    }
    config = load_config_text(FILE_SECRETS, env)
    assert config.wix.api_key == "env-api-key"
    assert config.smtp.password == "env-smtp-password"
    assert config.http.admin_token == "env-admin-token"


def test_credentials_beat_the_environment(tmp_path: Path) -> None:
    creds = _credentials(
        tmp_path, wix_api_key="cred-api-key\n", smtp_password="cred-smtp-password\n\n"
    )
    env = {
        "CREDENTIALS_DIRECTORY": str(creds),
        "WIXPRINT_WIX_API_KEY": "env-api-key",
        "WIXPRINT_ADMIN_TOKEN": "env-admin-token",
    }
    config = load_config_text(FILE_SECRETS, env)
    assert config.wix.api_key == "cred-api-key"  # one trailing newline stripped
    assert config.smtp.password == "cred-smtp-password\n"  # only one
    assert config.http.admin_token == "env-admin-token"  # no credential file: env wins


def test_empty_environment_variable_does_not_erase_the_file_value() -> None:
    config = load_config_text(FILE_SECRETS, {"WIXPRINT_WIX_API_KEY": ""})
    assert config.wix.api_key == "file-api-key"


def test_load_config_reads_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL)
    creds = _credentials(tmp_path, admin_token="cred-admin-token\n")
    config = load_config(
        path, {"CREDENTIALS_DIRECTORY": str(creds), "WIXPRINT_WIX_API_KEY": "env-api-key"}
    )
    assert (config.wix.api_key, config.http.admin_token) == ("env-api-key", "cred-admin-token")


def test_unreadable_credential_is_a_problem_without_its_value(tmp_path: Path) -> None:
    creds = _credentials(tmp_path)
    (creds / "smtp_password").mkdir()
    found = problems_of(MINIMAL, {"CREDENTIALS_DIRECTORY": str(creds)})
    assert len(found) == 1
    assert found[0].startswith("credential smtp_password: cannot read")


def test_a_secret_of_the_wrong_type_is_reported_without_its_value() -> None:
    found = problems_of(MINIMAL + "[wix]\napi_key = 123456789\n")
    assert found == ["wix.api_key: expected str, got int"]


def test_summary_masks_every_secret() -> None:
    config = load_config_text(FILE_SECRETS)
    text = summarize(config)
    for secret in secret_values(config):
        assert secret not in text
    assert "****" in text
    assert "printer kitchen: network 127.0.0.1:9100 -> kitchen" in text
    assert "smtp: 127.0.0.1:587" in text
    assert "owner@example.com" in text
    assert "webhooks: off" in text


def test_summary_says_what_is_not_set() -> None:
    text = summarize(load_config_text(MINIMAL))
    assert "api key (not set)" in text
    assert "smtp: off" in text
    assert "****" not in text
    assert "public none" in text


def test_summary_names_the_public_listener() -> None:
    text = summarize(load_config_text(MINIMAL + '[http]\npublic_host = "127.0.0.1"\n'))
    assert "public webhooks on 127.0.0.1:8001" in text


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_webhook_key_as_pem_text(rsa_pem: str) -> None:
    config = load_config_text(MINIMAL + f'[wix]\nwebhook_public_key = """{rsa_pem}"""\n')
    assert config.wix.webhook_public_key.strip() == rsa_pem.strip()
    assert "webhooks: on" in summarize(config)


def test_webhook_key_path_is_read_relative_to_the_config_file(tmp_path: Path, rsa_pem: str) -> None:
    (tmp_path / "wix.pem").write_text(rsa_pem)
    path = tmp_path / "config.toml"
    path.write_text(MINIMAL + '[wix]\nwebhook_public_key = "wix.pem"\n')
    config = load_config(path, {})
    assert config.wix.webhook_public_key == rsa_pem


def test_webhook_key_path_that_does_not_exist(tmp_path: Path) -> None:
    found = problems_of(MINIMAL + '[wix]\nwebhook_public_key = "missing.pem"\n', base_dir=tmp_path)
    assert len(found) == 1
    assert found[0].startswith("wix.webhook_public_key: neither PEM text nor a readable file")


def test_webhook_key_that_is_not_pem(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("not a key")
    found = problems_of(MINIMAL + '[wix]\nwebhook_public_key = "key.pem"\n', base_dir=tmp_path)
    assert found == [
        "wix.webhook_public_key: webhook public key is not PEM text "
        "(expected -----BEGIN PUBLIC KEY-----)"
    ]


def test_webhook_key_that_is_not_rsa() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    found = problems_of(MINIMAL + f'[wix]\nwebhook_public_key = """{pem}"""\n')
    assert found == [
        "wix.webhook_public_key: webhook public key is not an RSA key (Wix signs with RS256)"
    ]


def test_a_key_the_service_would_refuse_is_refused_by_the_check() -> None:
    """``config check`` and the running service load the key the same way: a 1024-bit key
    passed the check, then crashed the web actor into a restart loop."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    found = problems_of(MINIMAL + f'[wix]\nwebhook_public_key = """{pem}"""\n')
    assert found == ["wix.webhook_public_key: webhook public key is shorter than 2048 bits"]
