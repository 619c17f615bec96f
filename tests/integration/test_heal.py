"""Self-healing after a start-limit failure (``wixprint.commands.heal``, the health-check
unit's ``ExecCondition=``), against the stub systemctl of the install tests, a real spool and
a real SMTP server on loopback.

What the owner sees: systemd gave up on the service; ten minutes later it is restarted and a
mail says so (through the spool's outbox, so an SMTP outage does not lose it; directly when
the spool cannot take it); if it fails again, the next restart waits twice as long; a
service stopped on purpose is never started behind the operator's back.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
import trio

from tests.fakes.smtp import FakeSmtpServer
from wixprint.commands.heal import main
from wixprint.spool import open_spool
from wixprint.spool.lock import hold_state_lock

T0 = 1_780_000_000.0
UNIT = "wix-printer-service.service"
SECRET = "smtp-secret-in-the-journal"


class Heal:
    """One heal run at a time against the stub systemctl; what systemd would answer is set
    in files (ActiveState, Result, ExecMainStatus)."""

    def __init__(self, tmp: Path, stub: Path, smtp: FakeSmtpServer) -> None:
        self.tmp = tmp
        self.show = tmp / "show"
        self.show.mkdir()
        self.health = tmp / "health"
        self.health.mkdir()
        self.state = tmp / "state"
        self.state.mkdir()
        self.log = tmp / "systemctl.log"
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        journal = bin_dir / "journalctl"
        journal.write_text(f"#!/bin/sh\necho 'spool: cannot write (disk full)'\necho '{SECRET}'\n")
        journal.chmod(0o755)
        self.config = tmp / "config.toml"
        self.config.write_text(
            f'[service]\nstate_dir = "{self.state}"\nrestaurant_name = "Gasthaus Heil"\n'
            '[alerts]\nlanguage = "en"\n'
            f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n'
            f'password = "{SECRET}"\n'
            'sender = "pi@example.com"\nrecipients = ["owner@example.com"]\ntimeout = 5.0\n'
        )
        self.environ = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "SYSTEMCTL": str(stub),
            "STUB_LOG": str(self.log),
            "STUB_SHOW_DIR": str(self.show),
            "STATE_DIRECTORY": str(self.health),
        }
        self.unit("failed", result="start-limit-hit", status="70")

    def unit(self, active: str, *, result: str = "success", status: str = "0") -> None:
        (self.show / "ActiveState").write_text(active + "\n")
        (self.show / "Result").write_text(result + "\n")
        (self.show / "ExecMainStatus").write_text(status + "\n")

    def run(self, at: float) -> tuple[int, str]:
        out = io.StringIO()
        code = main(["--config", str(self.config)], environ=self.environ, now=at, out=out)
        return code, out.getvalue()

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def starts(self) -> int:
        return self.calls().count(f"start --no-block {UNIT}")

    def outbox(self) -> list[tuple[str, str, object]]:
        with sqlite3.connect(self.state / "spool.sqlite3") as conn:
            rows = conn.execute("SELECT key, subject, sent_at FROM alert_outbox").fetchall()
        conn.close()
        return [(str(k), str(s), t) for k, s, t in rows]


def make_spool(state: Path) -> None:
    async def create() -> None:
        async with open_spool(state / "spool.sqlite3"):
            pass

    trio.run(create)


@pytest.fixture
def heal(tmp_path: Path, stub: Path, smtp: FakeSmtpServer) -> Heal:
    rig = Heal(tmp_path, stub, smtp)
    make_spool(rig.state)
    return rig


def test_a_failed_service_is_restarted_after_a_cool_down_and_again_later_with_backoff(
    heal: Heal, smtp: FakeSmtpServer
) -> None:
    assert heal.run(T0)[0] == 1  # failed: the check is skipped
    assert heal.run(T0 + 300)[0] == 1
    assert heal.starts() == 0  # the cool-down: systemd's own start limit interval

    code, said = heal.run(T0 + 600)
    assert code == 1
    assert heal.calls()[-2:] == [f"reset-failed {UNIT}", f"start --no-block {UNIT}"]
    [mail] = smtp.messages
    assert mail.subject == ("[Gasthaus Heil] wix-printer-service had failed: restarted (attempt 1)")
    assert "next attempt follows in 20 min" in mail.body
    assert "How it ended: start-limit-hit, exited 70" in mail.body
    assert "disk full" in mail.body  # the journal's last lines
    assert SECRET not in mail.body
    # Through the outbox, marked sent: the service's alerter will not send it again.
    [(key, subject, sent_at)] = heal.outbox()
    assert (key, subject, sent_at) == ("service_restarted", mail.subject, T0 + 600)
    assert "restarting it, attempt 1" in said

    # It fails again at once: the next restart waits twice as long.
    heal.unit("failed", result="exit-code", status="78")
    assert heal.run(T0 + 900)[0] == 1
    assert heal.run(T0 + 900 + 1199)[0] == 1
    assert heal.starts() == 1
    heal.run(T0 + 900 + 1200)
    assert heal.starts() == 2
    assert smtp.messages[-1].subject.endswith("(attempt 2)")
    assert "configuration is invalid" in smtp.messages[-1].body  # exit 78's hint

    # Back and running: the check runs again; an hour up clears the backoff.
    heal.unit("active")
    assert heal.run(T0 + 2400)[0] == 0
    assert json.loads((heal.health / "heal.json").read_text())["attempts"] == 2
    assert heal.run(T0 + 2100 + 3600)[0] == 0
    assert json.loads((heal.health / "heal.json").read_text())["attempts"] == 0


def test_a_service_stopped_on_purpose_or_starting_is_left_alone(
    heal: Heal, smtp: FakeSmtpServer
) -> None:
    for state in ("inactive", "activating", "deactivating"):
        heal.unit(state)
        for minutes in range(0, 120, 5):
            assert heal.run(T0 + 60 * minutes)[0] == 1
    assert heal.calls() == []
    assert smtp.messages == []


def test_with_smtp_down_the_mail_waits_in_the_outbox_and_the_service_still_restarts(
    heal: Heal, smtp: FakeSmtpServer
) -> None:
    smtp.stop()
    heal.run(T0)
    code, said = heal.run(T0 + 600)
    assert code == 1
    assert heal.starts() == 1
    [(key, _, sent_at)] = heal.outbox()
    assert (key, sent_at) == ("service_restarted", None)  # the service's alerter sends it
    assert "kept in the outbox for the service" in said
    assert SECRET not in said


@pytest.mark.parametrize("why", ["no-spool", "spool-held"])
def test_without_a_usable_spool_it_mails_directly(
    heal: Heal, smtp: FakeSmtpServer, why: str
) -> None:
    if why == "no-spool":
        for name in ("spool.sqlite3", "spool.sqlite3-wal", "spool.sqlite3-shm"):
            (heal.state / name).unlink(missing_ok=True)
    heal.run(T0)
    if why == "spool-held":
        with hold_state_lock(heal.state, holder="another process"):
            heal.run(T0 + 600)
    else:
        heal.run(T0 + 600)
    assert heal.starts() == 1
    [mail] = smtp.messages
    assert mail.subject.endswith("(attempt 1)")
    if why == "spool-held":
        assert heal.outbox() == []
    else:
        assert not (heal.state / "spool.sqlite3").exists()  # never created by the heal


def test_an_error_of_its_own_exits_255_so_the_health_check_fails_and_mails(
    heal: Heal, smtp: FakeSmtpServer
) -> None:
    heal.run(T0)
    heal.environ["STUB_FAIL_ONCE"] = "start"
    code, said = heal.run(T0 + 600)
    assert code == 255
    assert "systemctl start failed" in said
    heal.environ["STATE_DIRECTORY"] = str(heal.tmp / "missing" / "dir")
    code, said = heal.run(T0 + 700)
    assert code == 255
    assert "Traceback" in said
