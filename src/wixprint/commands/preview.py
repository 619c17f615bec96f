"""``wixprint preview ORDER_NUMBER|FILE.json [--receipt KIND] [--png PATH]``.

The tickets an order makes, rendered by the printer actor's own code with the config in
force, shown as the printer would read them back (text decoded from the ESC/POS bytes) and,
with ``--png``, drawn from those bytes at each printer's width. An order number is looked up
in the spool (read-only, so the running service is not disturbed); a file holds a Wix order
object (or ``{"order": {...}}`` as ``GET /orders/{id}`` answers).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from wixprint.config import Config, load_config, resolve_config_path
from wixprint.errors import ConfigError, RenderError, SpoolError
from wixprint.receipts.preview import preview_png, preview_tickets
from wixprint.spool.db_orders import find_order_raw
from wixprint.wix.jsontext import loads
from wixprint.wix.parse import parse_order

__all__ = ["load_raw_order", "run_preview"]

SPOOL_FILE = "spool.sqlite3"


def _config(config_arg: str | None, environ: Mapping[str, str]) -> Config:
    path = resolve_config_path(config_arg, environ)
    if config_arg is None and not path.exists():
        return Config()  # trying layouts before setup: the defaults
    return load_config(path, environ)


def load_raw_order(what: str, config: Config) -> dict[str, Any]:
    """The Wix order object from a JSON file, or from the spool by number or id."""
    if what.endswith(".json") or Path(what).is_file():
        try:
            raw = loads(Path(what).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LookupError(f"cannot read {what}: {exc}") from None
        if isinstance(raw, dict) and isinstance(raw.get("order"), dict):
            raw = raw["order"]
        if isinstance(raw, dict):
            return raw
        raise LookupError(f"{what} does not hold a Wix order object")
    spool = Path(config.service.state_dir) / SPOOL_FILE
    if not spool.exists():
        raise LookupError(f"no spool at {spool}: give the order as a JSON file")
    try:
        conn = sqlite3.connect(f"{spool.as_uri()}?mode=ro", uri=True)
        try:
            # The printer actor's own read: the order with its payment answer, once fetched.
            text = find_order_raw(conn, what)
        finally:
            conn.close()
    except (sqlite3.Error, SpoolError) as exc:  # the state folder is the service user's: 0700
        raise LookupError(f"cannot read the spool {spool} ({exc}): try with sudo") from None
    if text is None:
        raise LookupError(f"order {what} is not in the spool")
    raw = loads(text)
    if isinstance(raw, dict):
        return raw
    raise LookupError(f"order {what}: the spool holds no order object")


def run_preview(
    what: str,
    *,
    receipt: str | None = None,
    png: str | None = None,
    config_arg: str | None = None,
    environ: Mapping[str, str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """0 shown, 1 the order cannot be found or read, 2 nothing to show, 78 bad config."""
    try:
        config = _config(config_arg, environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"config: {problem}", file=err)
        return 78
    try:
        raw = load_raw_order(what, config)
        order = parse_order(raw, ZoneInfo(config.service.timezone)).order
        tickets = preview_tickets(order, config, receipt)
    except (LookupError, ValueError, RenderError) as exc:
        print(f"preview: {exc}", file=err)
        return 1
    if not tickets:
        print(f"order {order.number or order.id} prints no {receipt or ''} ticket", file=err)
        return 2
    for shown in tickets:
        # 0 columns: the profile's width, as the service renders it (model "auto": the
        # printer is not asked here, so the generic profile unless a model is configured).
        print(shown.text, file=out)
    if png:
        Path(png).write_bytes(preview_png(tickets))
        print(f"picture: {png}", file=out)
    return 0
