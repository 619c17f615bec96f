"""Structured logs: one JSON object per line on stdout, ready for journald and ``jq``.

structlog is routed through stdlib ``logging`` so that one formatter renders everything, ours
and the libraries' (hypercorn, httpx), as the same JSON. Tracebacks live inside the JSON (one
journal entry per line) and never show frame locals, which could hold the API key or the SMTP
password. Every line passes a redaction step by allow-list: a key not in ``SAFE_LOG_KEYS``
keeps its name but loses its value, so a new ``customer_name=`` or ``note=`` can never go out
in clear (``tests/unit/logs/test_log_keys.py`` walks every log call in the source and fails
on a key the list lacks). Inside values, mappings still lose secret- and customer-looking keys,
and registered secret strings are cut out of every text, exception messages included.

Order matters at start-up: call ``configure_logging`` *before* anything imports ``escpos``.
python-escpos calls ``logging.basicConfig()`` at import, which is a no-op once the root logger
has our handler, but otherwise installs a second, plain-text handler (we remove such a plain
handler when configuring, as a safety net). ``escpos_env`` points escpos's capabilities pickle
at the state directory; call it before that import too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import structlog
from structlog.processors import ExceptionRenderer, JSONRenderer, TimeStamper
from structlog.stdlib import ExtraAdder, ProcessorFormatter
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "REDACTED",
    "SAFE_LOG_KEYS",
    "bind_context",
    "configure_logging",
    "escpos_env",
    "get_logger",
    "register_secrets",
]

REDACTED = "[redacted]"
LOGGER_NAME = "wixprint"
ESCPOS_PICKLE_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"

_SECRET_KEY_PARTS = ("api_key", "password", "token", "secret", "authorization", "cookie")
_PERSONAL_KEY_PARTS = (
    "phone",
    "address",
    "email",
    "first_name",
    "last_name",
    "name_of_customer",
    "street",
    "contact",
)
_SENSITIVE_KEY_PARTS = _SECRET_KEY_PARTS + _PERSONAL_KEY_PARTS
_SENSITIVE_KEYS = frozenset({"name", "note", "buyer_note", "instructions", "customer"})
"""Nested keys masked by their exact name (a substring rule for ``name`` would hit too much)."""

SAFE_LOG_KEYS = frozenset(
    {
        # what every line carries (structlog, the stdlib bridge, our context)
        *("event", "level", "logger", "ts", "actor", "exception", "stack", "order", "job"),
        # supervision
        *("supervisor", "classification", "action", "delay", "restarts_in_window"),
        *("stop_timeout", "cancel_timeout", "deadline"),
        *("error", "error_type", "problem", "reason", "signal", "timeout", "retry_in"),
        # orders, tickets, printers
        *("source", "outcome", "revision", "fields", "kind", "receipt", "reprint", "jobs"),
        *("order_id", "problems", "stage", "reprint_before", "kinds", "until", "instance_id"),
        *("printer", "printers", "online", "paper", "cover_open", "failures", "first_start"),
        # what a printer supports (its model as it reports itself; process ids are ours)
        *("model", "proof", "warning", "process_id", "tag", "answered"),
        # alerts
        *("alert", "key", "grace", "event_type", "severity", "channel", "channels", "count"),
        # mail routes: a server's name, the step that failed, the owner's refused addresses
        *("route", "failed", "recipients"),
        # Wix (a refused key's likely causes are fixed names, never the key)
        "causes",
        # HTTP (paths of public routes are logged as their route template)
        *("method", "path", "status", "code", "duration_ms", "sent", "url", "listener"),
        *("limit", "connections", "budget"),
        # operations
        *("rows", "points"),
        # the disk and the clock; a configuration warning names keys and files, never values
        *("freed_bytes", "offset", "warning"),
    }
)
"""Top-level keys a log line may carry with their value. Only names whose values are never
customer data or secrets: an order *number*, a printer *name*, a fixed reason. Anything else
is logged as ``[redacted]``."""
_QUIET_LOGGERS = ("httpx", "httpcore", "hypercorn.access")

_secrets: list[str] = []  # longest first, so a secret containing another is cut whole


MIN_SECRET_LENGTH = 4
"""Shorter values are not cut out of log text: a one-letter "secret" would shred every line,
and nothing that short protects anything."""


def register_secrets(values: Sequence[str]) -> None:
    """Cut these strings out of every future log line (values under 4 characters ignored)."""
    known = set(_secrets)
    known.update(v for v in values if len(v) >= MIN_SECRET_LENGTH)
    _secrets[:] = sorted(known, key=len, reverse=True)


def _sensitive_key(key: object) -> bool:
    lowered = str(key).lower()
    return lowered in _SENSITIVE_KEYS or any(part in lowered for part in _SENSITIVE_KEY_PARTS)


def _scrub_text(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _scrub(value: object, *, mask_keys: bool = True) -> object:
    if isinstance(value, str):
        return _scrub_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if mask_keys and _sensitive_key(k) else _scrub(v, mask_keys=mask_keys)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v, mask_keys=mask_keys) for v in value]
    # Anything else would be repr()'d by the JSON renderer: scrub that text now.
    return _scrub_text(repr(value))


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Keep only allow-listed keys' values and cut registered secrets out of them; runs last,
    after exceptions are rendered (their structure is ours: its texts are scrubbed, its keys
    such as a frame's ``name`` kept)."""
    return {
        key: REDACTED if key not in SAFE_LOG_KEYS else _scrub(value, mask_keys=key != "exception")
        for key, value in event_dict.items()
    }


def _syslog_priority(levelno: int) -> int:
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    return 6 if levelno >= logging.INFO else 7


class _JournalFormatter(logging.Formatter):
    """Prefixes ``<N>`` so journald sets PRIORITY (and strips the prefix again)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return f"<{_syslog_priority(record.levelno)}>{self._inner.format(record)}"


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our root handler, recognisable so that reconfiguring replaces it."""


_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.stdlib.add_logger_name,
    TimeStamper(fmt="iso", utc=True, key="ts"),
]


def _default_actor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Every line names an ``actor``; a library's or stdlib logger's line gets one from its
    logger name (``hypercorn.error`` and ``wixprint.web.server``: web)."""
    if "actor" not in event_dict:
        name = str(event_dict.get("logger") or "")
        parts = name.removeprefix(LOGGER_NAME + ".").split(".")
        event_dict["actor"] = "web" if name.startswith("hypercorn") else parts[0] or "root"
    return event_dict


def _configure_structlog() -> None:
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# Even before configure_logging runs, structlog must go through stdlib logging, never to
# structlog's default console renderer (which knows nothing of redaction).
_configure_structlog()


def configure_logging(
    *,
    level: str = "INFO",
    stream: TextIO | None = None,
    secrets: Sequence[str] = (),
    journal: bool | None = None,
) -> None:
    """Install the JSON handler on the root logger (replacing ours or a ``basicConfig`` one).

    *journal* None means: prefix syslog priorities when ``$JOURNAL_STREAM`` is set (systemd
    sets it when stdout goes to the journal). *secrets* are added to the redaction list.
    """
    levelno = logging.getLevelNamesMapping().get(level.upper())
    if levelno is None:
        raise ValueError(f"unknown log level {level!r}")
    register_secrets(secrets)
    _configure_structlog()
    formatter: logging.Formatter = ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, ExtraAdder(), _default_actor],
        processors=[
            ProcessorFormatter.remove_processors_meta,
            ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            redact,
            JSONRenderer(),
        ],
    )
    if journal is None:
        journal = bool(os.environ.get("JOURNAL_STREAM"))
    if journal:
        formatter = _JournalFormatter(formatter)
    handler = _Handler(sys.stdout if stream is None else stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        # type() on purpose: subclasses belong to others (pytest's capture, file handlers).
        if isinstance(old, _Handler) or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(levelno)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def get_logger(actor: str | None = None, **bound: Any) -> structlog.stdlib.BoundLogger:
    """A logger with ``actor`` (and *bound*) on every line.

    Resolved lazily at the first call, so a module-level logger created before
    ``configure_logging`` still ends up in the JSON pipeline.
    """
    if actor is not None:
        bound["actor"] = actor
    return structlog.stdlib.get_logger(LOGGER_NAME, **bound)


def bind_context(**kw: Any) -> Mapping[str, Any]:
    """Bind keys (``order``, ``job``, ...) for the current Trio task and its children only."""
    return structlog.contextvars.bind_contextvars(**kw)


def escpos_env(state_dir: Path, environ: MutableMapping[str, str] | None = None) -> None:
    """Point escpos's capabilities pickle at ``<state_dir>/cache`` unless already set.

    Without it escpos writes its pickle into a fresh temporary directory per process.
    """
    env = os.environ if environ is None else environ
    if env.get(ESCPOS_PICKLE_ENV):
        return
    cache = state_dir / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    drop_unreadable_pickles(cache)
    env[ESCPOS_PICKLE_ENV] = str(cache)


def drop_unreadable_pickles(cache: Path) -> list[Path]:
    """Delete escpos pickles that do not load; the ones deleted.

    escpos writes its pickle in place, without fsync: a power cut, or a card the kernel
    turned read-only, right after the first start leaves it empty or cut short, and escpos
    then fails to import (``EOFError``) at every ticket until the file goes. Loading it
    here costs a few milliseconds once per start; escpos rebuilds a deleted one.
    """
    dropped = []
    for path in sorted(cache.glob("*.capabilities.pickle")):
        try:
            with path.open("rb") as file:
                pickle.load(file)  # our own state folder: as trusted as escpos's own load
        except Exception:  # any failure to load means escpos would fail too
            with contextlib.suppress(OSError):
                path.unlink()
                dropped.append(path)
    return dropped
