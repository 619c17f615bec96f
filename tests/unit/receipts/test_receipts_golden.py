"""Every fixture order as every ticket kind, compared with a reviewed text file.

Regenerate after a deliberate layout change with ``WIXPRINT_UPDATE_GOLDEN=1``, then read the
diff as the restaurant would before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.receipts.conftest import KINDS, ORDERS, SHAPES, render
from wixprint.wix.model import Order

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
UPDATE = os.environ.get("WIXPRINT_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", [*ORDERS, *SHAPES])
def test_ticket_matches_golden(orders: dict[str, Order], name: str, kind: str) -> None:
    preview = render(orders[name], kind).preview
    path = GOLDEN / f"{name}-{kind}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(preview, encoding="utf-8")
    assert path.exists(), f"{path.name} missing: run with WIXPRINT_UPDATE_GOLDEN=1"
    assert preview == path.read_text(encoding="utf-8")
