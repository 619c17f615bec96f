"""``wixprint setup [--config PATH]``: the owner's wizard, from nothing to a checked config.

It edits the existing file, or the commented example when there is none, through
:class:`TomlText`, so comments and every key it does not ask about stay. Nothing is written
until the last step; then the config goes to a temporary file that is renamed over the old
one (Ctrl-C or a power cut never leaves half a file), 0640. Run as root (or given
``--credstore``), the secrets go to the systemd credential store, 0600, and the file keeps
none; otherwise it says where to put them. Printer, Wix and mail steps live in
:mod:`wixprint.commands.setup_steps`.
"""

from __future__ import annotations

import contextlib
import grp
import os
import signal
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wixprint.commands.configcheck import run_config_check
from wixprint.commands.setup_steps import ask_printers, ask_smtp, ask_wix
from wixprint.commands.wizard import Prompter
from wixprint.config.tomledit import TomlText

__all__ = ["CREDSTORE", "run_setup", "system_timezone", "write_atomic"]

CREDSTORE = Path("/etc/credstore")
SECRETS = {
    ("wix", "api_key"): ("wixprint.wix_api_key", "WIXPRINT_WIX_API_KEY"),
    ("smtp", "password"): ("wixprint.smtp_password", "WIXPRINT_SMTP_PASSWORD"),
}
"""Config key -> (credential file in the store, environment variable): see the unit file."""


def example_text() -> str:
    return files("wixprint.config").joinpath("example.toml").read_text(encoding="utf-8")


def system_timezone(environ: Mapping[str, str]) -> str:
    """``$TZ``, ``/etc/timezone`` (Debian) or the ``/etc/localtime`` link; else Europe/Berlin."""
    candidates = [environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        candidates.append(str(Path("/etc/localtime").readlink()).partition("zoneinfo/")[2])
    for name in candidates:
        if name and _zone_problem(name) is None:
            return name
    return "Europe/Berlin"


def _zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "?"
    return None


def write_atomic(path: Path, text: str, mode: int) -> None:
    """Write ``text`` to ``path`` whole or not at all, with ``mode`` from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _section(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name)
    return table if isinstance(table, dict) else {}


def _current_secret(
    data: Mapping[str, Any], key: tuple[str, str], store: Path | None, environ: Mapping[str, str]
) -> str:
    file_name, env = SECRETS[key]
    if store is not None:
        with contextlib.suppress(OSError):
            return (store / file_name).read_text(encoding="utf-8").rstrip("\n")
    return environ.get(env) or str(_section(data, key[0]).get(key[1], ""))


def _wizard(
    path: Path, ask: Prompter, *, store: Path | None, environ: Mapping[str, str]
) -> tuple[TomlText, dict[tuple[str, str], str]]:
    """All questions; returns the edited text and the secrets. Writes nothing."""
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    doc = TomlText(existing if existing is not None else example_text())
    data = tomllib.loads(str(doc))
    layout, service = _section(data, "layout"), _section(data, "service")
    ask.lang = str(layout.get("language", "de"))
    ask.lang = ask.choose("language_prompt", ("de", "en"), ask.lang)
    ask.say("welcome")
    if existing is not None:
        ask.say("editing", path=path)
    for table in ("layout", "alerts"):
        doc.set(table, "language", ask.lang)
    doc.set("service", "restaurant_name", ask.ask("restaurant", service.get("restaurant_name", "")))
    zone_default = service.get("timezone") if existing is not None else None
    zone = ask.ask(
        "timezone",
        str(zone_default or system_timezone(environ)),
        check=lambda a: None if _zone_problem(a) is None else ask.t("bad_timezone"),
    )
    doc.set("service", "timezone", zone)
    secrets: dict[tuple[str, str], str] = {}
    wix = _section(data, "wix")
    site_id, api_key = ask_wix(
        ask,
        base_url=str(wix.get("base_url") or "https://www.wixapis.com"),
        site_id=str(wix.get("site_id", "")),
        api_key=_current_secret(data, ("wix", "api_key"), store, environ),
    )
    doc.set("wix", "site_id", site_id)
    secrets[("wix", "api_key")] = api_key
    current = data.get("printers")
    printers = ask_printers(ask, current if isinstance(current, list) else [], zone=zone)
    doc.set_array_tables("printers", printers)
    smtp, password = ask_smtp(
        ask,
        _section(data, "smtp"),
        password=_current_secret(data, ("smtp", "password"), store, environ),
    )
    for key, value in smtp.items():
        doc.set("smtp", key, value)
    secrets[("smtp", "password")] = password
    return doc, secrets


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C waits while the files are written, so the key and the config go together."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread (tests): nothing to hold
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _write(
    path: Path,
    doc: TomlText,
    secrets: Mapping[tuple[str, str], str],
    ask: Prompter,
    *,
    store: Path | None,
    before: Mapping[str, Any],
    environ: Mapping[str, str],
) -> dict[str, str]:
    """The secrets (store, or the file when it held them, or a hint), then the config; returns
    the environment with the secrets for the check."""
    secrets_in_file = {k: bool(_section(before, k[0]).get(k[1])) for k in SECRETS}
    env = dict(environ)
    if store is not None:
        store.mkdir(mode=0o700, parents=True, exist_ok=True)
    for (table, key), value in secrets.items():
        file_name, env_name = SECRETS[(table, key)]
        if store is not None:
            doc.set(table, key, "")  # the store holds it; the file none
            if value:
                write_atomic(store / file_name, value + "\n", 0o600)
                ask.say("credential_written", path=store / file_name)
            else:
                (store / file_name).unlink(missing_ok=True)
        elif value and secrets_in_file.get((table, key)):
            doc.set(table, key, value)  # the file held it before: it stays where it worked
        elif value:
            ask.say("put_secret", path=CREDSTORE / file_name, env=env_name)
        if value:
            env[env_name] = value
    if store is None:
        ask.say("not_root")
    write_atomic(path, str(doc), 0o640)
    return env


def run_setup(
    path: Path,
    *,
    credstore: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    inp: TextIO | None = None,
    out: TextIO | None = None,
    root: bool | None = None,
) -> int:
    """0 written and checked; 78 an unreadable file left alone, or written but ``config
    check`` failed; 130 stopped.

    ``root`` (default: the effective user is root) sends the secrets to ``/etc/credstore``
    unless ``credstore`` names another folder.
    """
    ask = Prompter(inp or sys.stdin, out or sys.stdout)
    root = os.geteuid() == 0 if root is None else root
    store = credstore if credstore is not None else (CREDSTORE if root else None)
    try:
        before = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        ask.line(f"{path}: {exc}")
        ask.say("unreadable", path=path)
        return 78
    try:
        doc, secrets = _wizard(path, ask, store=store, environ=environ)
    except (EOFError, KeyboardInterrupt):
        ask.line("")
        ask.say("aborted")
        return 130
    with _interrupts_held():
        env = _write(path, doc, secrets, ask, store=store, before=before, environ=environ)
        if root:
            with contextlib.suppress(KeyError, OSError):
                os.chown(path, 0, grp.getgrnam("wixprint").gr_gid)
    ask.say("written", path=path)
    ask.say("check")
    code = run_config_check(str(path), environ=env, out=ask.out, err=ask.out)
    if code != 0:
        ask.say("check_failed")
        return code
    ask.say("next_root" if root else "next_user", path=path)
    return 0
