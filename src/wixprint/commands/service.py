"""Operator commands that talk to a running service over HTTP, or act on the config.

``check`` is what a systemd timer and monitoring run: exit 0 healthy, 1 degraded, 2 down or
unreachable, a readable table or ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from wixprint.config import Config, load_config, resolve_config_path
from wixprint.errors import ConfigError

TIMEOUT = 5.0
CHECK_CODES = {"ok": 0, "degraded": 1, "down": 2}


def _config(args: argparse.Namespace) -> Config:
    return load_config(resolve_config_path(getattr(args, "config", None), os.environ), os.environ)


def http_url(host: str, port: int) -> str:
    """The URL a local client uses for the service bound to *host*: a wildcard bind is
    reached on loopback, an IPv6 address goes in brackets."""
    host = host.strip().strip("[]")
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def base_url(args: argparse.Namespace) -> str:
    """``--url``, else the configured bind; the default bind when there is no config file.

    Raises:
        ConfigError: the config file exists but is unusable.
    """
    url: str | None = getattr(args, "url", None)
    if url:
        return url.rstrip("/")
    path = resolve_config_path(getattr(args, "config", None), os.environ)
    if not path.exists():
        return http_url("127.0.0.1", 8000)
    http = load_config(path, os.environ).http
    return http_url(http.host, http.port)


def dispatch(command: str, args: argparse.Namespace) -> int:
    handlers = {
        "check": cmd_check,
        "status": cmd_status,
        "orders": cmd_orders,
        "watch": cmd_watch,
        "reprint": cmd_reprint,
        "test-print": cmd_test_print,
        "test-alert": cmd_test_alert,
        "backup": cmd_backup,
        "restore": cmd_restore,
    }
    return handlers[command](args)


def format_health(body: Mapping[str, Any]) -> str:
    lines = [f"status: {body.get('status', '?')}"]
    checks = body.get("checks") or {}
    width = max((len(name) for name in checks), default=0)
    for name, check in sorted(checks.items()):
        reason = check.get("reason") or ""
        lines.append(f"  {name.ljust(width)}  {check.get('status', '?'):8}  {reason}".rstrip())
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    """0 ok, 1 degraded, 2 for everything else, a failure of the check itself included: a
    timer or an upgrade that trusts exit 1 must never mistake a crash for "degraded"."""
    try:
        return _check(args)
    except Exception as exc:  # any failure of our own is "down", never 1
        problem = "; ".join(exc.problems) if isinstance(exc, ConfigError) else repr(exc)
        if args.json:
            print(json.dumps({"status": "down", "error": f"check failed: {problem}"}))
        else:
            print(f"status: down (the check failed: {problem})")
        return 2


def _check(args: argparse.Namespace) -> int:
    url = base_url(args)
    try:
        response = httpx.get(f"{url}/health", timeout=TIMEOUT)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        if args.json:
            print(json.dumps({"status": "down", "error": f"unreachable: {type(exc).__name__}"}))
        else:
            print(f"status: down (cannot reach {url}: {type(exc).__name__})")
        return 2
    if not isinstance(body, dict):
        raise TypeError(f"/health answered {type(body).__name__}, not an object")
    status = str(body.get("status", "down"))
    print(json.dumps(body, indent=2) if args.json else format_health(body))
    wrong = _wrong_instance(
        body, getattr(args, "expect_version", None), getattr(args, "expect_pid", None)
    )
    if wrong:
        print(f"status: down ({wrong})")
        return 2
    return CHECK_CODES.get(status, 2)


def _wrong_instance(body: Mapping[str, Any], version: str | None, pid: int | None) -> str:
    """Why the process that answered is not the one expected (an upgrade's proof), or ""."""
    if version and body.get("version") != version:
        return f"answered version {body.get('version')!r}, expected {version!r}"
    if pid and body.get("pid") != pid:
        return f"answered by process {body.get('pid')}, not the service's {pid}"
    return ""


def _get(args: argparse.Namespace, path: str) -> Any:
    response = httpx.get(f"{base_url(args)}{path}", timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()


def format_tree(node: Mapping[str, Any], indent: int = 0) -> list[str]:
    pad = "  " * indent
    lines = [f"{pad}{node.get('name')} [{node.get('strategy', '')}] {node.get('state', '')}"]
    for child in node.get("children", []):
        err = child.get("last_error") or {}
        backoff = child.get("backoff_delay")
        extra = f", backoff {backoff:.1f} s" if isinstance(backoff, (int, float)) else ""
        if err:
            extra += f"  last error: {err.get('error_type')}: {err.get('message')}"
        lines.append(
            f"{pad}  - {child.get('name')}: {child.get('state')}, "
            f"restarts {child.get('restarts', 0)}{extra}"
        )
        if child.get("supervisor"):
            lines.extend(format_tree(child["supervisor"], indent + 2))
    return lines


def _local(at: object) -> str:
    if not isinstance(at, (int, float)):
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def format_history(history: Mapping[str, Any], last: int = 3) -> list[str]:
    """Earlier processes (how each ended) and the restarts on record across processes."""
    lines = []
    earlier = [p for p in history.get("processes") or [] if not p.get("current")]
    for process in earlier[-last:]:
        if process.get("exited_at") is None:
            ended = "ended without a word (killed or power cut)"
        else:
            ended = f"exited {process.get('exit_code')} ({process.get('reason') or '-'})"
        lines.append(
            f"earlier process {process.get('pid')}: started {_local(process.get('started_at'))}"
            f", {ended}"
        )
    restarts = [e for e in history.get("events") or [] if e.get("action") == "restart"]
    lines.append(
        f"restarts on record: {len(restarts)} "
        f"({history.get('earlier_events', 0)} events from earlier processes)"
    )
    return lines


def _fetch(args: argparse.Namespace, path: str) -> Any | None:
    """GET a status route; None (after saying why on stderr) if the service cannot be reached."""
    try:
        return _get(args, path)
    except httpx.HTTPError as exc:
        print(f"cannot reach the service: {type(exc).__name__}", file=sys.stderr)
        return None


def cmd_status(args: argparse.Namespace) -> int:
    from wixprint.commands.watch import format_event  # trio-websocket: not for every ``check``

    body = _fetch(args, "/recovery/status")
    if body is None:
        return 2
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    if body.get("tree"):
        print("\n".join(format_tree(body["tree"])))
    for name, queue in sorted((body.get("queues") or {}).items()):
        age = queue.get("oldest_age")
        age_text = f", oldest {age:.0f} s" if isinstance(age, (int, float)) else ""
        print(
            f"queue {name}: {queue.get('depth')} waiting{age_text}, {queue.get('printed')} printed"
        )
    for event in body.get("recent", [])[-10:]:
        print(f"recent: {format_event(event)}")
    if body.get("history"):
        print("\n".join(format_history(body["history"])))
    return 0


def cmd_orders(args: argparse.Namespace) -> int:
    orders = _fetch(args, "/orders")
    if orders is None:
        return 2
    if args.json:
        print(json.dumps(orders, indent=2))
        return 0
    for order in orders.get("orders", orders) if isinstance(orders, dict) else orders:
        tickets = ", ".join(
            f"{t['receipt']}@{t['printer']}:{t['state']}{' (reprint)' if t['reprint'] else ''}"
            for t in order.get("tickets", [])
        )
        print(f"#{order['number']:>8}  {order['status']:10}  {tickets}")
    return 0


def cmd_reprint(args: argparse.Namespace) -> int:
    token = os.environ.get("WIXPRINT_ADMIN_TOKEN", "")
    if not token:
        try:
            token = _config(args).http.admin_token
        except Exception:  # reported below as a missing token
            token = ""
    if not token:
        print("no admin token: set http.admin_token or WIXPRINT_ADMIN_TOKEN", file=sys.stderr)
        return 2
    params = {"receipt": args.receipt} if args.receipt else {}
    try:
        response = httpx.post(
            f"{base_url(args)}/orders/{args.order}/reprint",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as exc:
        print(f"cannot reach the service: {type(exc).__name__}", file=sys.stderr)
        return 2
    if response.status_code != 200:
        print(f"reprint refused ({response.status_code}): {response.text}", file=sys.stderr)
        return 1
    print(f"reprint queued: {response.json()}")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    import trio

    from wixprint.commands.watch import follow_events

    try:
        trio.run(follow_events, base_url(args))
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_test_print(args: argparse.Namespace) -> int:
    import trio

    from wixprint.commands.testprint import print_test_tickets

    return trio.run(print_test_tickets, _config(args), args.printer)


def cmd_test_alert(args: argparse.Namespace) -> int:
    import trio

    from wixprint.commands.testalert import run_test_alert

    return trio.run(run_test_alert, _config(args))


def cmd_backup(args: argparse.Namespace) -> int:
    import trio

    from wixprint.commands.backup import backup

    config_path = resolve_config_path(args.config, os.environ)
    return trio.run(backup, _config(args), config_path, Path(args.dest))


def cmd_restore(args: argparse.Namespace) -> int:
    from wixprint.commands.backup import restore

    return restore(_config(args), Path(args.src))
