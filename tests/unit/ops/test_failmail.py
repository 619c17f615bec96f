"""``python -m wixprint.commands.failmail UNIT`` against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.smtp import FakeSmtpServer, make_certificate
from wixprint.commands import failmail

UNIT = "wix-printer-service.service"
NOW = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC, 17:06:40 in Berlin
PASSWORD = "pa55-word-XYZ"


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


def write_config(
    directory: Path,
    server: FakeSmtpServer | None,
    *,
    security: str = "none",
    username: str = "",
    language: str = "en",
    extra: str = "",
) -> Path:
    smtp = (
        f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "{security}"\n'
        f'username = "{username}"\nsender = "pi@example.com"\n'
        'recipients = ["owner@example.com", "chef@example.com"]\ntimeout = 5.0\n'
        if server is not None
        else ""
    )
    path = directory / "config.toml"
    path.write_text(
        '[service]\nrestaurant_name = "Pizzeria Roma"\ntimezone = "Europe/Berlin"\n'
        f'[alerts]\nlanguage = "{language}"\nrepeat_every = 3600.0\n{smtp}{extra}',
        encoding="utf-8",
    )
    return path


def fake_journalctl(bin_dir: Path, *, script: str) -> Path:
    """A ``journalctl`` on PATH that writes its arguments next to itself."""
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "journalctl"
    exe.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{bin_dir}/args"\n{script}\n')
    exe.chmod(0o755)
    return exe


def environ(tmp_path: Path, config: Path, **extra: str) -> dict[str, str]:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir(exist_ok=True)
    return {"PATH": str(empty_bin), "WIXPRINT_CONFIG": str(config), **extra}


def run(env: dict[str, str], *argv: str, now: float = NOW) -> tuple[int, str]:
    out = io.StringIO()
    code = failmail.main([*argv] or [UNIT], environ=env, now=now, out=out)
    return code, out.getvalue()


def test_mail_names_the_restaurant_and_carries_the_last_journal_lines(
    tmp_path: Path, smtp: FakeSmtpServer
) -> None:
    bin_dir = tmp_path / "bin"
    fake_journalctl(bin_dir, script='printf "started\\nRestartIntensityExceeded: root\\n"')
    env = environ(tmp_path, write_config(tmp_path, smtp), PATH=str(bin_dir))

    code, output = run(env)

    assert code == 0, output
    assert "sent" in output
    [mail] = smtp.messages
    assert mail.subject == "[Pizzeria Roma] wix-printer-service has failed"
    assert mail.rcpt_tos == ("owner@example.com", "chef@example.com")
    assert "has stopped restarting it" in mail.body
    assert "RestartIntensityExceeded: root" in mail.body
    assert "2025-06-15 17:06:40 CEST" in mail.body
    assert "sudo systemctl restart wix-printer-service" in mail.body
    assert (bin_dir / "args").read_text().split() == [
        "-u",
        UNIT,
        "-n",
        "30",
        "-o",
        "cat",
        "--no-pager",
    ]


def test_missing_journalctl_still_sends_the_mail(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    env = environ(tmp_path, write_config(tmp_path, smtp))

    code, output = run(env)

    assert code == 0, output
    [mail] = smtp.messages
    assert "The journal could not be read: journalctl not found" in mail.body


def test_failing_journalctl_still_sends_the_mail(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    bin_dir = tmp_path / "bin"
    fake_journalctl(bin_dir, script='echo "No journal files were found." >&2; exit 1')
    env = environ(tmp_path, write_config(tmp_path, smtp), PATH=str(bin_dir))

    code, output = run(env)

    assert code == 0, output
    [mail] = smtp.messages
    assert "journalctl exited with 1" in mail.body


def test_secrets_in_journal_lines_are_masked(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    bin_dir = tmp_path / "bin"
    fake_journalctl(bin_dir, script='echo "oops key=wix-key-123 in a traceback"')
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "wix_api_key").write_text("wix-key-123\n")
    env = environ(
        tmp_path,
        write_config(tmp_path, smtp),
        PATH=str(bin_dir),
        CREDENTIALS_DIRECTORY=str(creds),
    )

    code, output = run(env)

    assert code == 0, output
    [mail] = smtp.messages
    assert "oops key=**** in a traceback" in mail.body
    assert "wix-key-123" not in mail.message.as_string()


def test_german_config_gets_a_german_mail(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    env = environ(tmp_path, write_config(tmp_path, smtp, language="de"))

    code, output = run(env)

    assert code == 0, output
    [mail] = smtp.messages
    assert mail.subject == "[Pizzeria Roma] wix-printer-service ist ausgefallen"
    assert "werden NICHT gedruckt" in mail.body


def test_another_unit_is_named_in_the_subject(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    env = environ(tmp_path, write_config(tmp_path, smtp))

    code, output = run(env, "wix-printer-healthcheck.service")

    assert code == 0, output
    [mail] = smtp.messages
    assert mail.subject == "[Pizzeria Roma] wix-printer-healthcheck.service has failed"


def test_starttls_login_with_password_from_a_systemd_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = make_certificate(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert.ca_path))  # the system trust store, for us
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "smtp_password").write_text(PASSWORD + "\n")
    with FakeSmtpServer(security="starttls", certificate=cert, users={"pi": PASSWORD}) as server:
        config = write_config(tmp_path, server, security="starttls", username="pi")
        env = environ(tmp_path, config, CREDENTIALS_DIRECTORY=str(creds))

        code, output = run(env)

        assert code == 0, output
        assert len(server.messages) == 1


def test_wrong_password_is_not_sent_and_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = make_certificate(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert.ca_path))
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "smtp_password").write_text(PASSWORD)
    with FakeSmtpServer(security="starttls", certificate=cert, users={"pi": "other"}) as server:
        config = write_config(tmp_path, server, security="starttls", username="pi")
        env = environ(tmp_path, config, CREDENTIALS_DIRECTORY=str(creds))

        code, output = run(env)

        assert code == 1
        assert output.startswith("not sent: auth:")
        assert PASSWORD not in output
        assert server.messages == []


def test_unreachable_server_is_not_sent(tmp_path: Path) -> None:
    server = FakeSmtpServer()  # never started: the port refuses connections
    env = environ(tmp_path, write_config(tmp_path, server))

    code, output = run(env)

    assert code == 1
    assert "not sent: connect:" in output
    assert "refused" in output


def test_unconfigured_email_is_not_sent(tmp_path: Path) -> None:
    env = environ(tmp_path, write_config(tmp_path, None))

    code, output = run(env)

    assert code == 1
    assert "e-mail is not configured" in output


def test_unreadable_config_is_not_sent(tmp_path: Path) -> None:
    env = environ(tmp_path, tmp_path / "missing.toml")

    code, output = run(env)

    assert code == 1
    assert "not sent: cannot load" in output
    assert "file not found" in output


def test_one_mail_per_unit_within_repeat_every(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    state = tmp_path / "state"
    state.mkdir()
    env = environ(tmp_path, write_config(tmp_path, smtp), STATE_DIRECTORY=str(state))

    first = run(env, now=NOW)
    again = run(env, now=NOW + 600)
    other_unit = run(env, "wix-printer-healthcheck.service", now=NOW + 600)
    later = run(env, now=NOW + 3601)

    assert [first[0], again[0], other_unit[0], later[0]] == [0, 0, 0, 0]
    assert "not sent again" in again[1]
    assert "mailed 600 s ago" in again[1]
    subjects = [mail.subject for mail in smtp.messages]
    assert subjects == [
        "[Pizzeria Roma] wix-printer-service has failed",
        "[Pizzeria Roma] wix-printer-healthcheck.service has failed",
        "[Pizzeria Roma] wix-printer-service has failed",
    ]


def test_a_failed_send_is_not_remembered(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    server = FakeSmtpServer()
    env = environ(tmp_path, write_config(tmp_path, server), STATE_DIRECTORY=str(state))

    assert run(env)[0] == 1  # server down
    with server:
        code, output = run(env, now=NOW + 120)  # the unit's retry
        assert code == 0, output
        assert len(server.messages) == 1


def test_module_entry_point_as_the_alert_unit_runs_it(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    config = write_config(tmp_path, smtp)
    env = {
        "PATH": os.defpath,
        "WIXPRINT_CONFIG": str(config),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }

    done = subprocess.run(
        [sys.executable, "-m", "wixprint.commands.failmail", UNIT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert [mail.subject for mail in smtp.messages] == [
        "[Pizzeria Roma] wix-printer-service has failed"
    ]


def test_bad_configuration_exit_is_explained(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    """systemd passes how the unit ended to its OnFailure= handler (MONITOR_*)."""
    env = environ(
        tmp_path,
        write_config(tmp_path, smtp),
        MONITOR_SERVICE_RESULT="exit-code",
        MONITOR_EXIT_CODE="exited",
        MONITOR_EXIT_STATUS="78",
        MONITOR_UNIT=UNIT,
    )

    code, output = run(env)

    assert code == 0, output
    [mail] = smtp.messages
    assert "How it ended: exit-code, exited 78" in mail.body
    assert "wixprint config check /etc/wixprint/config.toml" in mail.body


@pytest.mark.parametrize(
    ("result", "exit_code", "status", "expected"),
    [
        ("watchdog", "killed", "ABRT", "stopped answering systemd's watchdog"),
        ("exit-code", "exited", "70", "gave up after repeated internal errors"),
        ("start-limit-hit", "", "", "failed too often in a short time"),
        ("exit-code", "exited", "1", None),
        ("", "", "", None),
    ],
)
def test_describe_result(result: str, exit_code: str, status: str, expected: str | None) -> None:
    env = {
        "MONITOR_SERVICE_RESULT": result,
        "MONITOR_EXIT_CODE": exit_code,
        "MONITOR_EXIT_STATUS": status,
    }

    lines = failmail.describe_result(env, "en")

    if not result:
        assert lines == []
    elif expected is None:
        assert lines == [f"How it ended: {result}, {exit_code} {status}"]
    else:
        assert expected in lines[-1]
        assert lines[0].startswith(f"How it ended: {result}")


@pytest.mark.parametrize(
    "broken",
    [
        '[[printers]]\nname = "kitchen"\ntransport = "carrier-pigeon"\n',
        '[[printers]]\nname = "kitchen\nhost = 192.168.1.50\n',  # not even TOML any more
    ],
    ids=["invalid-value", "invalid-toml"],
)
def test_a_config_broken_elsewhere_still_mails_the_owner(
    tmp_path: Path, smtp: FakeSmtpServer, broken: str
) -> None:
    """The service exits 78 on a bad config; the mail needs only [service]/[alerts]/[smtp]."""
    config = write_config(tmp_path, smtp, extra=broken)
    env = environ(tmp_path, config, MONITOR_EXIT_CODE="exited", MONITOR_EXIT_STATUS="78")

    code, output = run(env)

    assert code == 0, output
    assert "mailing with its [service], [alerts] and [smtp] only" in output
    [mail] = smtp.messages
    assert mail.subject == "[Pizzeria Roma] wix-printer-service has failed"
    assert "the configuration is invalid" in mail.body


def test_a_broken_smtp_table_is_not_sent(tmp_path: Path, smtp: FakeSmtpServer) -> None:
    config = write_config(tmp_path, smtp)
    config.write_text(config.read_text().replace("timeout = 5.0", "timeout = -1"))
    env = environ(tmp_path, config)

    code, output = run(env)

    assert code == 1
    assert "not sent: cannot load" in output
    assert "smtp.timeout" in output
    assert smtp.messages == []


def test_mail_sections_keeps_only_the_mail_tables() -> None:
    text = (
        '[service]\nrestaurant_name = "R"\n[[printers]]\nname = "a"\n'
        '[smtp] # mail\nhost = "h"\n[ wix ]\napi_key = "k"\n[alerts]\nlanguage = "de"\n'
    )

    assert failmail.mail_sections(text) == (
        '[service]\nrestaurant_name = "R"\n[smtp] # mail\nhost = "h"\n[alerts]\nlanguage = "de"\n'
    )
