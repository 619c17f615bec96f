"""``make demo`` shows a pre-order held until cook time and a reservation that prints nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from wixprint.commands.demo import SHOWCASE_WAIT, demo_config_text, showcase_orders
from wixprint.config import load_config_text
from wixprint.receipts.policy import decide
from wixprint.sim.webhooks import generate_key_pair
from wixprint.wix.parse import parse_order
from wixprint.wixtime import format_wix_time

NOW = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)


def test_the_demo_holds_its_preorder_and_skips_its_reservation(tmp_path: Path) -> None:
    _, pem = generate_key_pair()
    text = demo_config_text(tmp_path, "http://127.0.0.1:1", pem, 8000, "2026-01-01T00:00:00Z")
    config = load_config_text(text)
    assert config.wix.automation_token
    lead = config.layout.preorder_lead
    preorder, reservation = (
        parse_order(raw, ZoneInfo("Europe/Berlin")).order for raw in showcase_orders(NOW, lead)
    )
    held = decide(preorder, config, not_before="2026-01-01T00:00:00Z", now=NOW)
    release = NOW + SHOWCASE_WAIT
    assert held.printable
    assert held.hold_until == format_wix_time(release)
    assert held.notice_targets
    later = decide(preorder, config, not_before="2026-01-01T00:00:00Z", now=release)
    assert later.hold_until == ""
    skipped = decide(reservation, config, not_before="2026-01-01T00:00:00Z", now=NOW)
    assert (skipped.printable, skipped.reason) == (False, "nothing to print: table_reservations")
