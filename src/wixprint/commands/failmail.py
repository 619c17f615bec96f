"""``python -m wixprint.commands.failmail UNIT``: mail the owner that a systemd unit has failed.

Started by ``wix-printer-alert@.service`` through ``OnFailure=``, i.e. when
wix-printer-service has used up its restart budget (or the health check found it down). The
service's own alerter died with the process, so this is a separate, short-lived process with
its own copy of the configuration. It sends one plain-text mail with the last journal lines
and exits 0 (sent, or already mailed within ``alerts.repeat_every``) or 1 (not sent, with the
reason printed; the unit retries). The password never appears in what it prints.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import TextIO

from wixprint.alerts.mail_channel import mail_routes, send_along_routes, without_passwords
from wixprint.alerts.mailer import (
    MailRejected,
    SmtpSettings,
    build_message,
    refused_summary,
)
from wixprint.config import (
    Config,
    load_config,
    load_config_text,
    resolve_config_path,
    secret_values,
)
from wixprint.errors import ConfigError, SmtpUnavailable

SERVICE_UNIT = "wix-printer-service.service"
JOURNAL_LINES = 30
JOURNAL_TIMEOUT = 10.0
MAX_LINE = 500
_MAIL_TABLES = ("service", "alerts", "smtp", "smtp.fallback")
MAIL_TABLES = "[service], [alerts] and [smtp]"
_TABLE_HEADER = re.compile(r"\s*\[\[?\s*([A-Za-z0-9_.-]+?)\s*\]\]?\s*(?:#.*)?$")

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject_service": "[{restaurant}] wix-printer-service has failed",
        "subject_other": "[{restaurant}] {unit} has failed",
        "lead_service": (
            "wix-printer-service on {host} has failed and systemd has stopped restarting it.\n"
            "New orders are NOT printed until it runs again. Orders stay in Wix and are\n"
            "fetched and printed once the service is back."
        ),
        "lead_other": "The systemd unit {unit} on {host} has failed.",
        "when": "Time: {time}",
        "todo": (
            "What to do:\n"
            "  sudo systemctl status wix-printer-service\n"
            "  sudo journalctl -u {unit} -n 200\n"
            "  sudo systemctl reset-failed wix-printer-service\n"
            "  sudo systemctl restart wix-printer-service"
        ),
        "journal": "Last journal lines of {unit}:",
        "no_journal": "(The journal could not be read: {why}.)",
        "result": "How it ended: {result}",
        "hint_78": (
            "Exit status 78: the configuration is invalid. Run\n"
            "  wixprint config check /etc/wixprint/config.toml\n"
            "fix what it reports, then restart."
        ),
        "hint_70": "Exit status 70: the service gave up after repeated internal errors.",
        "hint_watchdog": "The service stopped answering systemd's watchdog and was killed.",
        "hint_start-limit-hit": "It failed too often in a short time; systemd gave up.",
    },
    "de": {
        "subject_service": "[{restaurant}] wix-printer-service ist ausgefallen",
        "subject_other": "[{restaurant}] {unit} ist ausgefallen",
        "lead_service": (
            "wix-printer-service auf {host} ist ausgefallen, systemd startet ihn nicht mehr neu.\n"
            "Neue Bestellungen werden NICHT gedruckt, bis er wieder läuft. Die Bestellungen\n"
            "bleiben bei Wix und werden danach abgeholt und gedruckt."
        ),
        "lead_other": "Die systemd-Unit {unit} auf {host} ist fehlgeschlagen.",
        "when": "Zeit: {time}",
        "todo": (
            "Was tun:\n"
            "  sudo systemctl status wix-printer-service\n"
            "  sudo journalctl -u {unit} -n 200\n"
            "  sudo systemctl reset-failed wix-printer-service\n"
            "  sudo systemctl restart wix-printer-service"
        ),
        "journal": "Letzte Journal-Zeilen von {unit}:",
        "no_journal": "(Das Journal war nicht lesbar: {why}.)",
        "result": "Wie es endete: {result}",
        "hint_78": (
            "Exit-Status 78: die Konfiguration ist ungültig. Prüfen mit\n"
            "  wixprint config check /etc/wixprint/config.toml\n"
            "das Gemeldete beheben, dann neu starten."
        ),
        "hint_70": "Exit-Status 70: der Dienst hat nach wiederholten internen Fehlern aufgegeben.",
        "hint_watchdog": "Der Dienst hat dem systemd-Watchdog nicht mehr geantwortet.",
        "hint_start-limit-hit": "Er ist zu oft kurz hintereinander ausgefallen.",
    },
}


def read_journal(
    unit: str,
    *,
    environ: Mapping[str, str],
    lines: int = JOURNAL_LINES,
    timeout: float = JOURNAL_TIMEOUT,
) -> tuple[str | None, str]:
    """The last *lines* journal lines of *unit* and ``""``, or None and why not.

    A journal that cannot be read is no reason to withhold the mail.
    """
    exe = shutil.which("journalctl", path=environ.get("PATH", os.defpath))
    if exe is None:
        return None, "journalctl not found"
    try:
        done = subprocess.run(
            [exe, "-u", unit, "-n", str(lines), "-o", "cat", "--no-pager"],
            capture_output=True,
            timeout=timeout,
            env=dict(environ),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"journalctl took longer than {timeout:g} s"
    except OSError as exc:
        return None, f"journalctl could not run ({exc.strerror or type(exc).__name__})"
    if done.returncode != 0:
        return None, f"journalctl exited with {done.returncode}"
    text = done.stdout.decode("utf-8", "replace")
    kept = [line[:MAX_LINE] for line in text.splitlines()[-lines:]]
    return "\n".join(kept), ""


def describe_result(environ: Mapping[str, str], language: str) -> list[str]:
    """How the unit ended, from the ``MONITOR_*`` variables systemd (≥ 251) passes to an
    ``OnFailure=`` handler, plus a hint for the endings we know. Empty when not given."""
    texts = _TEXTS[language]
    result = environ.get("MONITOR_SERVICE_RESULT", "")
    code = environ.get("MONITOR_EXIT_CODE", "")
    status = environ.get("MONITOR_EXIT_STATUS", "")
    if not (result or status):
        return []
    described = ", ".join(
        part for part in (result, f"{code} {status}".strip() if status else "") if part
    )
    hint = (texts.get(f"hint_{status}") if code == "exited" else None) or texts.get(
        f"hint_{result}"
    )
    return [texts["result"].format(result=described), *([hint] if hint else [])]


def build_failure_mail(
    config: Config,
    unit: str,
    journal: str | None,
    *,
    why_no_journal: str = "",
    now: float,
    hostname: str,
    result: Sequence[str] = (),
    settings: SmtpSettings | None = None,
) -> EmailMessage:
    """The plain-text mail: what failed, when and how, what to do, the last journal lines.

    ``settings``: the mail route it leaves by (its sender); default the first, ``[smtp]``.
    """
    texts = _TEXTS[config.alerts.language]
    is_service = unit == SERVICE_UNIT
    restaurant = config.service.restaurant_name
    subject = texts["subject_service" if is_service else "subject_other"].format(
        restaurant=restaurant, unit=unit
    )
    tz = zoneinfo.ZoneInfo(config.service.timezone)
    stamp = datetime.fromtimestamp(now, tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    parts = [
        texts["lead_service" if is_service else "lead_other"].format(host=hostname, unit=unit),
        "\n".join([texts["when"].format(time=stamp), *result]),
        texts["todo"].format(unit=unit),
    ]
    if journal is not None:
        for secret in secret_values(config):
            journal = journal.replace(secret, "****")
        parts.append(texts["journal"].format(unit=unit) + "\n\n" + journal)
    else:
        parts.append(texts["no_journal"].format(why=why_no_journal or "?"))
    route = settings or SmtpSettings.from_config(config.smtp)
    return build_message(route, subject, "\n\n".join(parts) + "\n", date=now, tz=tz)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    now: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Exit 0: sent (or mailed recently); 1: not sent, with the reason on *out*."""
    parser = argparse.ArgumentParser(
        prog="python -m wixprint.commands.failmail",
        description="Mail the owner that UNIT has failed.",
    )
    parser.add_argument(
        "unit", metavar="UNIT", help="the failed unit, e.g. wix-printer-service.service"
    )
    parser.add_argument("--config", help="config file (default: $WIXPRINT_CONFIG or /etc/...)")
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    stream = sys.stdout if out is None else out
    unit: str = args.unit
    moment = time.time() if now is None else now

    def say(text: str) -> None:
        print(text, file=stream, flush=True)

    path = resolve_config_path(args.config, env)
    config = load_mail_config(path, env, say)
    if config is None:
        return 1
    routes = mail_routes(config.smtp)
    settings = routes[0]
    if not settings.enabled:
        say("not sent: e-mail is not configured (smtp.host, smtp.sender, smtp.recipients)")
        return 1
    stamp = _stamp_path(env, unit)
    last = _last_sent(stamp)
    repeat = config.alerts.repeat_every
    if last is not None and 0 <= moment - last < repeat:
        say(
            f"not sent again: {unit} was mailed {moment - last:.0f} s ago "
            f"(alerts.repeat_every = {repeat:g} s)"
        )
        return 0
    journal, why = read_journal(unit, environ=env)
    build = partial(
        build_failure_mail,
        config,
        unit,
        journal,
        why_no_journal=why,
        now=moment,
        hostname=socket.gethostname(),
        result=describe_result(env, config.alerts.language),
    )
    try:
        sent = send_along_routes(routes, lambda route: build(settings=route))
    except (SmtpUnavailable, MailRejected) as exc:
        text = without_passwords(str(exc), routes)
        say(f"not sent: {text}")
        return 1
    for failure in sent.failures:
        say(f"first route failed: {failure}")
    accepted = len(settings.recipients) - len(sent.refused)
    say(f"sent: {unit} has failed, to {accepted} recipient(s) via {sent.route.host}")
    if sent.refused:
        say(f"refused by the server: {refused_summary(sent.refused)}")
    if stamp is not None:
        _remember(stamp, moment, say)
    return 0


def load_mail_config(
    path: Path, environ: Mapping[str, str], say: Callable[[str], None]
) -> Config | None:
    """The configuration, or only its mail tables if the file has problems, or None (said).

    A bad edit of the file is the likeliest reason the service failed (exit 78), and a mail
    needs only these tables: they are tried alone before giving up.
    """
    try:
        return load_config(path, environ)
    except ConfigError as exc:
        config = _load_mail_sections(path, environ)
        if config is None:
            say(f"not sent: cannot load {path}: {'; '.join(exc.problems)}")
            return None
        say(f"{path} has {len(exc.problems)} problem(s); mailing with its {MAIL_TABLES} only")
        return config


def mail_sections(text: str) -> str:
    """Only the tables the mail needs from a config file's text, cut by line so that a
    mistake elsewhere, even broken TOML, does not keep the owner from being told."""
    kept: list[str] = []
    keep = False
    for line in text.splitlines():
        header = _TABLE_HEADER.match(line)
        if header:
            keep = header.group(1) in _MAIL_TABLES
        if keep:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _load_mail_sections(path: Path, environ: Mapping[str, str]) -> Config | None:
    try:
        text = path.read_text(encoding="utf-8")
        return load_config_text(mail_sections(text), environ, base_dir=path.parent)
    except (OSError, UnicodeDecodeError, ConfigError):
        return None


def _stamp_path(environ: Mapping[str, str], unit: str) -> Path | None:
    """Where the last mail about *unit* is remembered: the unit's ``StateDirectory=``."""
    directory = environ.get("STATE_DIRECTORY", "").split(":")[0]
    if not directory:
        return None
    safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in unit)
    return Path(directory) / f"last-mail-{safe}"


def _last_sent(stamp: Path | None) -> float | None:
    if stamp is None:
        return None
    try:
        return float(stamp.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _remember(stamp: Path, moment: float, say: Callable[[str], None]) -> None:
    try:
        stamp.write_text(f"{moment:.3f}\n", encoding="ascii")
    except OSError as exc:
        say(f"(could not remember the mail in {stamp}: {exc.strerror})")


if __name__ == "__main__":  # pragma: no cover - run by the alert unit
    sys.exit(main())
