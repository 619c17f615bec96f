"""Mailer pieces without a server: message building, settings, retry backoff."""

from __future__ import annotations

import email.utils

import pytest

from tests.unit.alerts.helpers import TZ, local
from wixprint.alerts.mailer import SmtpSettings, build_message, retry_delay
from wixprint.config import SmtpConfig


def settings() -> SmtpSettings:
    return SmtpSettings(
        host="smtp.example.com",
        sender="pi@example.com",
        recipients=("a@example.com", "b@example.com"),
        username="pi",
        password="s3cret-pw",
    )


def test_message_is_dated_with_the_original_alert_time() -> None:
    when = local(2025, 3, 14, 18, 2)
    msg = build_message(settings(), "[R] KRITISCH: Drücker", "Text ü\n", date=when)
    parsed_date = email.utils.parsedate_to_datetime(str(msg["Date"]))
    assert parsed_date.timestamp() == when
    assert msg["From"] == "pi@example.com"
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg["Subject"] == "[R] KRITISCH: Drücker"
    assert str(msg["Message-ID"]).endswith("@example.com>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content() == "Text ü\n"


def test_message_local_date_and_stable_id() -> None:
    when = local(2025, 3, 14, 18, 2)
    msg = build_message(settings(), "s", "b", date=when, tz=TZ, message_id="<alert-7@pi>")
    assert str(msg["Date"]).endswith("+0100")
    assert msg["Message-ID"] == "<alert-7@pi>"


def test_subject_line_breaks_are_flattened() -> None:
    msg = build_message(settings(), "a\r\nBcc: evil@example.com", "b", date=0)
    assert msg["Subject"] == "a Bcc: evil@example.com"
    assert msg["Bcc"] is None


def test_settings_never_show_the_password() -> None:
    assert "s3cret-pw" not in repr(settings())


def test_settings_from_config() -> None:
    config = SmtpConfig(
        host="mail.example.com",
        port=465,
        security="ssl",
        username="u",
        password="p",
        sender="pi@example.com",
        recipients=["x@example.com"],
        timeout=7.0,
    )
    result = SmtpSettings.from_config(config)
    assert (result.host, result.port, result.security, result.timeout) == (
        "mail.example.com",
        465,
        "ssl",
        7.0,
    )
    assert result.recipients == ("x@example.com",)
    assert result.enabled
    assert not SmtpSettings.from_config(SmtpConfig()).enabled


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [(0, 0.0), (1, 30.0), (2, 60.0), (3, 120.0), (6, 960.0), (7, 1800.0), (10_000, 1800.0)],
)
def test_retry_delay_doubles_up_to_the_cap(attempts: int, delay: float) -> None:
    assert retry_delay(attempts) == delay


def test_retry_delay_custom_base_and_cap() -> None:
    assert retry_delay(3, base=1.0, cap=3.0) == 3.0
