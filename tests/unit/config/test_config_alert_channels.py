"""The alert channel keys: [alerts.ntfy], [alerts.webhook], per-channel levels and the
[smtp.fallback] route; every mistake named by its key path, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.config.helpers import MINIMAL, problems_of
from wixprint.config import load_config_text, secret_values, summarize
from wixprint.config.rules_alerts import ntfy_topic_url
from wixprint.config.sanitise import sanitised_config

SMTP = """
[smtp]
host = "smtp.example.com"
sender = "pi@example.com"
recipients = ["owner@example.com"]
"""
CHANNELS = (
    MINIMAL
    + SMTP
    + """
levels = ["critical"]

[smtp.fallback]
host = "smtp.backup.example"
port = 465
security = "ssl"
username = "pi"
password = "fallback-password"

[alerts.ntfy]
url = "https://ntfy.sh/gasthaus-x7k2q9"
token = "tk_file"

[alerts.webhook]
url = "https://bridge.example.com/hooks/abc123"
token = "bridge-token"
levels = ["critical", "warning"]
"""
)


def test_the_channels_load_with_their_defaults() -> None:
    config = load_config_text(CHANNELS)
    assert config.smtp.levels == ["critical"]
    assert config.smtp.fallback.host == "smtp.backup.example"
    assert config.smtp.fallback.sender == ""  # smtp.sender is used
    assert config.alerts.ntfy.levels == ["critical", "warning"]
    assert config.alerts.ntfy.timeout == 10.0
    assert config.alerts.webhook.levels == ["critical", "warning"]
    defaults = load_config_text(MINIMAL)
    assert defaults.smtp.levels == ["critical", "warning", "info"]
    assert (defaults.alerts.ntfy.url, defaults.alerts.webhook.url) == ("", "")


def test_channel_secrets_come_from_the_environment_and_credentials(tmp_path: Path) -> None:
    env = {"WIXPRINT_NTFY_TOKEN": "tk_env", "WIXPRINT_SMTP_FALLBACK_PASSWORD": "env-fallback"}
    config = load_config_text(CHANNELS, env)
    assert (config.alerts.ntfy.token, config.smtp.fallback.password) == ("tk_env", "env-fallback")
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "alert_webhook_token").write_text("cred-token\n")
    env = {"CREDENTIALS_DIRECTORY": str(creds), "WIXPRINT_ALERT_WEBHOOK_TOKEN": "env-token"}
    assert load_config_text(CHANNELS, env).alerts.webhook.token == "cred-token"
    # A secret from the environment for a table the file does not have creates it quietly.
    config = load_config_text(MINIMAL, {"WIXPRINT_NTFY_TOKEN": "tk_env"})
    assert (config.alerts.ntfy.url, config.alerts.ntfy.token) == ("", "tk_env")


def test_tokens_and_push_urls_are_secrets() -> None:
    config = load_config_text(CHANNELS)
    secrets = secret_values(config)
    for value in (
        "fallback-password",
        "tk_file",
        "bridge-token",
        "https://ntfy.sh/gasthaus-x7k2q9",
        "https://bridge.example.com/hooks/abc123",
    ):
        assert value in secrets
    summary = summarize(config)
    assert "ntfy: https://ntfy.sh/…, token ****, levels critical, warning" in summary
    assert "smtp fallback: smtp.backup.example:465 (ssl), password ****" in summary
    for value in ("gasthaus-x7k2q9", "abc123", "tk_file", "bridge-token", "fallback-password"):
        assert value not in summary
    stripped = sanitised_config(CHANNELS)
    assert stripped is not None
    for value in ("gasthaus-x7k2q9", "abc123", "tk_file", "bridge-token", "fallback-password"):
        assert value not in stripped
    env = {"WIXPRINT_SMTP_FALLBACK_PASSWORD": "x"}
    assert load_config_text(stripped, env).alerts.ntfy.url == ""  # a backup loads, push off


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (
            '[alerts.ntfy]\nurl = "https://ntfy.sh/"',
            "alerts.ntfy.url: expected a topic URL like https://ntfy.sh/<topic>",
        ),
        ('[alerts.ntfy]\nurl = "https://ntfy.sh/a b"', "alerts.ntfy.url: expected a topic URL"),
        ('[alerts.ntfy]\nurl = "https://ntfy.sh/t?x=1"', "alerts.ntfy.url: expected a topic URL"),
        ('[alerts.ntfy]\nurl = "ntfy.sh/topic"', "alerts.ntfy.url: expected a topic URL"),
        (
            '[alerts.ntfy]\nurl = "https://ntfy.sh/t"\nlevels = []',
            "alerts.ntfy.levels: name at least one level",
        ),
        (
            '[alerts.ntfy]\nlevels = ["urgent"]',
            "alerts.ntfy.levels[0]: expected one of 'critical', 'warning', 'info', got 'urgent'",
        ),
        (
            '[alerts.webhook]\nurl = "ftp://bridge.example.com/x"',
            "alerts.webhook.url: must be an http:// or https:// URL",
        ),
        ("[alerts.webhook]\ntimeout = 0.0", "alerts.webhook.timeout: must be 0 to 300 seconds"),
        ('[alerts.webhook]\ntoken = "a\\nb"', "alerts.webhook.token: no line breaks"),
        ('[smtp.fallback]\nhost = "smtp.backup.example"', "smtp.fallback.host: a fallback needs"),
        ("[smtp]\nlevels = []", "smtp.levels: name at least one level"),
        ('[alerts.nfty]\nurl = "x"', "unknown key 'alerts.nfty'"),
    ],
)
def test_mistakes_are_named_by_key_path(block: str, problem: str) -> None:
    problems = problems_of(MINIMAL + block + "\n")
    assert any(line.startswith(problem) for line in problems), problems


def test_fallback_login_needs_its_password() -> None:
    text = MINIMAL + SMTP + '\n[smtp.fallback]\nhost = "b.example"\nusername = "pi"\n'
    assert problems_of(text) == [
        "smtp.fallback.password: required when smtp.fallback.username is set "
        "(or WIXPRINT_SMTP_FALLBACK_PASSWORD)"
    ]
    assert load_config_text(text, {"WIXPRINT_SMTP_FALLBACK_PASSWORD": "x"}).smtp.fallback.password


def test_ntfy_topic_urls_split_into_the_json_root_and_the_topic() -> None:
    assert ntfy_topic_url("https://ntfy.sh/alerts-x7") == ("https://ntfy.sh/", "alerts-x7")
    assert ntfy_topic_url("http://pi.local:8080/ntfy/alerts_1/") == (
        "http://pi.local:8080/ntfy/",
        "alerts_1",
    )
    assert ntfy_topic_url("https://ntfy.sh/" + "x" * 65) is None


def test_announce_printers_all_a_list_or_none() -> None:
    assert load_config_text(MINIMAL).alerts.announce_printers == "all"
    assert load_config_text(MINIMAL).alerts.announce_resolved is True
    chosen = load_config_text(MINIMAL + '[alerts]\nannounce_printers = ["kitchen"]\n')
    assert chosen.alerts.announce_printers == ["kitchen"]
    off_text = "[alerts]\nannounce_printers = []\nannounce_resolved = false\n"
    off = load_config_text(MINIMAL + off_text)
    assert (off.alerts.announce_printers, off.alerts.announce_resolved) == ([], False)
    assert problems_of(MINIMAL + '[alerts]\nannounce_printers = ["kitchen", "bar"]\n') == [
        "alerts.announce_printers[1]: no printer named 'bar' (printers: kitchen)"
    ]
    wrong = problems_of(MINIMAL + '[alerts]\nannounce_printers = "some"\n')
    assert len(wrong) == 1
    assert wrong[0].startswith("alerts.announce_printers: ")
