"""``python -m wixprint.commands.heal``: bring a failed wix-printer-service back, with backoff.

Run as root by the health-check unit's ``ExecCondition=`` every five minutes, before the
unprivileged ``wixprint check``. systemd gives up on the service after five failed starts in
ten minutes (a crash loop, a port taken, a full SD card at start) and mails the owner once
through ``OnFailure=``; then nothing happens until someone logs in. This step heals it:

* service active: exit 0, the check runs; a restart that lasted an hour clears the backoff;
* stopped on purpose, starting or stopping: exit 1 (the check is skipped, nothing done);
* failed: wait a cool-down (10 minutes, doubling with each restart that failed again, at most
  6 hours), then mail the owner and ``reset-failed`` + ``start`` it; exit 1.

The mail goes into the spool's outbox when the spool can be written (so the service's own
alerter delivers it once back, retrying through SMTP outages) and is also tried at once;
without a usable spool it is sent directly. Exit 255 on an error of its own: systemd then
fails the health check and ``OnFailure=`` mails that.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import traceback
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal, TextIO

from wixprint.alerts.channel_set import build_channels
from wixprint.alerts.channels import routes_for
from wixprint.alerts.mail_channel import mail_routes, send_along_routes, without_passwords
from wixprint.alerts.mailer import MailRejected, build_message
from wixprint.alerts.messages import format_duration
from wixprint.commands.backup import SPOOL_FILE
from wixprint.commands.failmail import SERVICE_UNIT, describe_result, load_mail_config, read_journal
from wixprint.config import Config, resolve_config_path, secret_values
from wixprint.errors import SmtpUnavailable, SpoolError
from wixprint.spool import db, db_alerts
from wixprint.spool.lock import LOCK_FILE, hold_state_lock
from wixprint.spool.types import NewAlert

COOL_DOWN = 600.0
"""Seconds a failed service is left alone first: the start limit's own interval."""
MAX_DELAY = 6 * 3600.0
STABLE_AFTER = 3600.0
"""A restarted service that stays up this long clears the backoff."""
STATE_FILE = "heal.json"
ALERT_KEY = "service_restarted"
EXIT_CHECK, EXIT_SKIP, EXIT_ERROR = 0, 1, 255

Decision = Literal["check", "skip", "wait", "restart"]


@dataclass(frozen=True, slots=True)
class HealState:
    failed_since: float | None = None
    """When a heal run first saw the current failure."""
    attempts: int = 0
    """Restarts since the service last stayed up for ``STABLE_AFTER``."""
    last_restart: float | None = None


def delay(attempts: int) -> float:
    """Cool-down before restart number ``attempts + 1``: 10 min, 20, 40, ... at most 6 h."""
    return min(COOL_DOWN * 2.0 ** min(attempts, 16), MAX_DELAY)


def decide(state: HealState, active_state: str, now: float) -> tuple[Decision, HealState]:
    """What to do about the service in ``active_state`` (systemd's ActiveState). Pure."""
    if active_state == "active":
        stable = state.last_restart is None or now - state.last_restart >= STABLE_AFTER
        return "check", HealState() if stable else replace(state, failed_since=None)
    if active_state != "failed":
        return "skip", state  # stopped on purpose, or on its way up or down
    since = state.failed_since if state.failed_since is not None else now
    if now < since + delay(state.attempts):
        return "wait", replace(state, failed_since=since)
    return "restart", HealState(None, state.attempts + 1, now)


# -- the mail -------------------------------------------------------------------------------

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "[{restaurant}] wix-printer-service had failed: restarted (attempt {n})",
        "lead": (
            "wix-printer-service on {host} was in the failed state (systemd had stopped\n"
            "restarting it). The health check restarts it now, attempt {n}.\n"
            "If it fails again, the next attempt follows in {next}. Orders placed meanwhile\n"
            "are fetched from Wix and printed once it runs."
        ),
        "todo": (
            "If these mails repeat:\n"
            "  sudo systemctl status wix-printer-service\n"
            "  sudo journalctl -u wix-printer-service -n 200"
        ),
        "journal": "Last journal lines of wix-printer-service:",
    },
    "de": {
        "subject": "[{restaurant}] wix-printer-service war ausgefallen: neu gestartet "
        "(Versuch {n})",
        "lead": (
            "wix-printer-service auf {host} war ausgefallen (systemd hatte aufgegeben).\n"
            "Die Zustandsprüfung startet ihn jetzt neu, Versuch {n}.\n"
            "Fällt er wieder aus, folgt der nächste Versuch in {next}. Bestellungen von\n"
            "inzwischen werden bei Wix abgeholt und gedruckt, sobald er läuft."
        ),
        "todo": (
            "Wenn diese Mails wiederkommen:\n"
            "  sudo systemctl status wix-printer-service\n"
            "  sudo journalctl -u wix-printer-service -n 200"
        ),
        "journal": "Letzte Journal-Zeilen von wix-printer-service:",
    },
}


def compose(
    config: Config, attempt: int, ended: Sequence[str], journal: str | None, *, host: str
) -> tuple[str, str]:
    """Subject and body of the "restarted" mail; secrets are cut out of the journal."""
    language = config.alerts.language
    texts = _TEXTS[language]
    lead = texts["lead"].format(
        host=host, n=attempt, next=format_duration(delay(attempt), language)
    )
    parts = [lead, *(["\n".join(ended)] if ended else []), texts["todo"]]
    if journal:
        for secret in secret_values(config):
            journal = journal.replace(secret, "****")
        parts.append(texts["journal"] + "\n\n" + journal)
    subject = texts["subject"].format(restaurant=config.service.restaurant_name, n=attempt)
    return subject, "\n\n".join(parts) + "\n"


def deliver(
    config: Config, subject: str, body: str, now: float, say: Callable[[str], None]
) -> None:
    """Into the outbox when the spool takes it (one delivery per channel that carries a
    critical problem), and straight along the mail routes too (its mail delivery marked done
    if it went); without a usable spool, by mail only. Never raises for mail trouble."""
    tz = zoneinfo.ZoneInfo(config.service.timezone)
    routes = mail_routes(config.smtp)
    channels = routes_for(build_channels(config, tz=tz), "critical")
    stored = _to_outbox(Path(config.service.state_dir), subject, body, now, channels, say)
    if not routes[0].enabled:
        say("e-mail is not configured: the restart goes only to the other channels")
        return
    try:
        sent = send_along_routes(
            routes, lambda route: build_message(route, subject, body, date=now, tz=tz)
        )
    except (SmtpUnavailable, MailRejected) as exc:
        text = without_passwords(str(exc), routes)
        kept = "kept in the outbox for the service" if stored is not None else "lost"
        say(f"mail not sent now ({text}): {kept}")
        return
    say(f"mailed via {sent.route.host}")
    if stored is not None and "mail" in channels:
        _in_spool(
            Path(config.service.state_dir), say, db_alerts.mark_delivered, stored, "mail", now
        )


def _to_outbox(
    state: Path,
    subject: str,
    body: str,
    now: float,
    channels: tuple[str, ...],
    say: Callable[[str], None],
) -> int | None:
    alert = NewAlert(
        key=ALERT_KEY,
        level="critical",
        kind="raise",
        subject=subject,
        body=body,
        raised_at=now,
        since=now,
        problem_level="critical",
        channels=channels,
    )
    result = _in_spool(state, say, db_alerts.record_alerts, [alert], None, now)
    return result[0] if isinstance(result, list) and result else None


def _in_spool(
    state: Path, say: Callable[[str], None], fn: Callable[..., object], *args: object
) -> object:
    """``fn(conn, *args)`` on the spool under the state folder's lock; None if it cannot be
    used (missing, held by a service that came back, disk full, read-only, damaged)."""
    path = state / SPOOL_FILE
    if not path.exists():
        return None
    try:
        with hold_state_lock(state, holder="health check"):
            conn, _ = db.connect(path)
            try:
                return fn(conn, *args)
            finally:
                conn.close()
                _owned_like(state, path)
    except SpoolError as exc:
        say(f"the spool cannot take it ({exc}): mailing directly")
        return None


def _owned_like(state: Path, db_file: Path) -> None:
    """Files we may have created as root belong to the database's owner (the service user),
    or the service could not open them when it starts."""
    if os.geteuid() != 0:
        return
    owner = db_file.stat()
    for name in (LOCK_FILE, f"{SPOOL_FILE}-wal", f"{SPOOL_FILE}-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chown(state / name, owner.st_uid, owner.st_gid)


# -- systemd and the state file ---------------------------------------------------------------


def systemctl(environ: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = environ.get("SYSTEMCTL") or shutil.which("systemctl") or "systemctl"
    return subprocess.run(
        [*command.split(), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(environ),
        check=False,
    )


def unit_property(environ: Mapping[str, str], name: str) -> str:
    done = systemctl(environ, "show", "-p", name, "--value", SERVICE_UNIT)
    return done.stdout.strip()


def load_state(path: Path) -> HealState:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return HealState(
            failed_since=data.get("failed_since"),
            attempts=int(data.get("attempts", 0)),
            last_restart=data.get("last_restart"),
        )
    except (OSError, ValueError, TypeError, AttributeError):
        return HealState()


def save_state(path: Path, state: HealState) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(asdict(state)) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# -- main -----------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    now: float | None = None,
    out: TextIO | None = None,
) -> int:
    """0: the service is active, run the check; 1: skip the check; 255: heal failed itself."""
    parser = argparse.ArgumentParser(
        prog="python -m wixprint.commands.heal",
        description="Restart a failed wix-printer-service after a cool-down, with backoff.",
    )
    parser.add_argument("--config", help="config file (default: $WIXPRINT_CONFIG or /etc/...)")
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    stream = sys.stdout if out is None else out

    def say(text: str) -> None:
        print(f"heal: {text}", file=stream, flush=True)

    try:
        return _heal(args.config, env, time.time() if now is None else now, say)
    except Exception:
        say("failed: " + traceback.format_exc().strip().replace("\n", "\n  "))
        return EXIT_ERROR


def _heal(
    config_arg: str | None, env: Mapping[str, str], now: float, say: Callable[[str], None]
) -> int:
    state_dir = Path(env.get("STATE_DIRECTORY", "").split(":")[0] or ".")
    state_path = state_dir / STATE_FILE
    active = unit_property(env, "ActiveState")
    decision, state = decide(load_state(state_path), active, now)
    if decision == "check":
        save_state(state_path, state)
        return EXIT_CHECK
    if decision == "skip":
        say(f"{SERVICE_UNIT} is {active or 'unknown'}: nothing to do")
        return EXIT_SKIP
    save_state(state_path, state)
    if decision == "wait":
        assert state.failed_since is not None
        due = state.failed_since + delay(state.attempts)
        say(
            f"{SERVICE_UNIT} has failed; restart in {due - now:.0f} s "
            f"(attempt {state.attempts + 1})"
        )
        return EXIT_SKIP
    result = unit_property(env, "Result")
    status = unit_property(env, "ExecMainStatus")
    say(f"{SERVICE_UNIT} has failed ({result}); restarting it, attempt {state.attempts}")
    config = load_mail_config(resolve_config_path(config_arg, env), env, say)
    if config is not None:
        ended = describe_result(
            {
                "MONITOR_SERVICE_RESULT": result,
                "MONITOR_EXIT_CODE": "exited" if status not in ("", "0") else "",
                "MONITOR_EXIT_STATUS": status if status not in ("", "0") else "",
            },
            config.alerts.language,
        )
        journal, _ = read_journal(SERVICE_UNIT, environ=env)
        subject, body = compose(config, state.attempts, ended, journal, host=socket.gethostname())
        deliver(config, subject, body, now, say)
    systemctl(env, "reset-failed", SERVICE_UNIT)
    started = systemctl(env, "start", "--no-block", SERVICE_UNIT)
    if started.returncode != 0:
        say(f"systemctl start failed: {started.stderr.strip()}")
        return EXIT_ERROR
    return EXIT_SKIP  # it is starting: the check would only see it half up


if __name__ == "__main__":  # pragma: no cover - run by the health-check unit
    sys.exit(main())
