"""``wixprint``: the console script. Parses arguments and dispatches; work lives elsewhere.

Exit codes of ``run``: 0 clean stop, 2 usage, 78 bad configuration (nothing started),
70 root supervisor gave up. ``check``: 0 healthy, 1 degraded, 2 down or unreachable.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from wixprint.config import RECEIPT_KINDS, resolve_config_path
from wixprint.errors import ConfigError
from wixprint.version import package_version

EXIT_CONFIG = 78


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wixprint", description="Prints every Wix order on the kitchen printers."
    )
    parser.add_argument("--version", action="version", version=f"wixprint {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the service (what systemd starts)")
    run.add_argument("--config", help="config file (default: $WIXPRINT_CONFIG or /etc/...)")

    demo = sub.add_parser("demo", help="run against a simulated shop and a virtual printer")
    demo.add_argument("--dir", default="demo-output", help="folder for state and tickets")
    demo.add_argument("--port", type=int, default=8000, help="status endpoint port")
    demo.add_argument("--every", type=float, default=8.0, help="seconds between new orders")
    demo.add_argument("--duration", type=float, default=0.0, help="stop after N s (0: never)")

    for name, text in (
        ("check", "health check: exit 0 ok, 1 degraded, 2 down or unreachable"),
        ("status", "the supervision tree and queues at a glance"),
        ("watch", "follow live events"),
        ("orders", "recent orders and their tickets"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--url", help="service base URL (default: from the config)")
        cmd.add_argument("--config", help="config file")
        if name in ("check", "status", "orders"):
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "check":
            cmd.add_argument(
                "--expect-version", help="down (2) unless the service answers this version"
            )
            cmd.add_argument("--expect-pid", type=int, help="down (2) unless this process answers")

    reprint = sub.add_parser("reprint", help="print an order again (with a REPRINT banner)")
    reprint.add_argument("order", metavar="ORDER_NUMBER")
    reprint.add_argument("--receipt", choices=RECEIPT_KINDS)
    reprint.add_argument("--url")
    reprint.add_argument("--config")

    test_print = sub.add_parser("test-print", help="print a test ticket")
    test_print.add_argument("--printer", help="printer name (default: all)")
    test_print.add_argument("--config")

    test_alert = sub.add_parser(
        "test-alert", help="send a test alert through every channel and say what failed"
    )
    test_alert.add_argument("--config")

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate a config file (exit 0 or 78)")
    check.add_argument("path", metavar="PATH")

    backup = sub.add_parser("backup", help="online backup of the spool and config (no secrets)")
    backup.add_argument("dest", metavar="DEST")
    backup.add_argument("--config")

    setup = sub.add_parser("setup", help="interactive setup: Wix, printers, mail (de/en)")
    setup.add_argument(
        "--config", help="config file to write (default: $WIXPRINT_CONFIG or /etc/...)"
    )
    setup.add_argument(
        "--credstore", help="folder for the secrets (default as root: /etc/credstore)"
    )

    preview = sub.add_parser("preview", help="an order's tickets as text and as a picture")
    preview.add_argument("order", metavar="ORDER_NUMBER|FILE.json")
    preview.add_argument("--receipt", choices=RECEIPT_KINDS)
    preview.add_argument("--png", metavar="PATH", help="also draw the tickets into a PNG")
    preview.add_argument("--config")

    printers = sub.add_parser("printers", help="printer tools")
    printers_sub = printers.add_subparsers(dest="printers_command", required=True, metavar="ACTION")
    scan = printers_sub.add_parser("scan", help="find printers on TCP 9100 and USB")
    scan.add_argument("ranges", nargs="*", metavar="CIDR", help="default: this machine's subnets")
    scan.add_argument("--port", type=int, default=9100)
    scan.add_argument("--json", action="store_true", help="machine-readable output")

    restore = sub.add_parser("restore", help="restore a backup (the service must be stopped)")
    restore.add_argument("src", metavar="SRC")
    restore.add_argument("--config")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: str = args.command
    if command == "config":
        from wixprint.commands.configcheck import run_config_check

        return run_config_check(args.path, environ=os.environ, out=sys.stdout, err=sys.stderr)
    if command == "setup":
        from wixprint.commands.setup import run_setup

        credstore = Path(args.credstore) if args.credstore else None
        path = resolve_config_path(args.config, os.environ)
        return run_setup(path, credstore=credstore)
    if command == "preview":
        from wixprint.commands.preview import run_preview

        return run_preview(
            args.order,
            receipt=args.receipt,
            png=args.png,
            config_arg=args.config,
            environ=os.environ,
        )
    if command == "printers":
        from wixprint.commands.printers import run_scan

        return run_scan(args.ranges, port=args.port, as_json=args.json)
    if command == "run":
        return _run(args.config)
    if command == "demo":
        from wixprint.commands.demo import run_demo

        return run_demo(args.dir, port=args.port, every=args.every, duration=args.duration)
    from wixprint.commands.service import dispatch

    try:
        return dispatch(command, args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config: {problem}", file=sys.stderr)
        return EXIT_CONFIG


def _run(config_arg: str | None) -> int:
    import trio

    from wixprint.app import ServiceOptions
    from wixprint.config import (
        config_warnings,
        file_warnings,
        load_config,
        resolve_config_path,
        secret_values,
    )
    from wixprint.logs import configure_logging, escpos_env, get_logger
    from wixprint.runner import serve
    from wixprint.supervisor import faults

    path = resolve_config_path(config_arg, os.environ)
    try:
        config = load_config(path, os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        faults.arm_from_env(os.environ)  # chaos runs only; unset in production
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(secrets=secret_values(config))
    # escpos parses its whole printer database (YAML) at import unless it finds its pickle:
    # keep that in the state directory, not in a new temporary directory per start.
    with contextlib.suppress(OSError):
        escpos_env(Path(config.service.state_dir))
    for warning in file_warnings(path) + config_warnings(config):
        get_logger("root").warning("config_warning", warning=warning)
    if armed := sorted(faults.statistics()):
        get_logger("root").warning("fault_points_armed", points=armed)
    options = ServiceOptions(environ=dict(os.environ))
    return trio.run(serve, config, options)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
