"""Every fixture order as every ticket kind, compared with a reviewed text file.

Regenerate after a deliberate layout change with ``WIXPRINT_UPDATE_GOLDEN=1``, then read the
diff as the restaurant would before committing it.
"""

from __future__ import annotations

import pytest

from tests.unit.receipts.conftest import GOLDEN, KINDS, ORDERS, SHAPES, check_golden, render
from wixprint.wix.model import Order


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", [*ORDERS, *SHAPES])
def test_ticket_matches_golden(orders: dict[str, Order], name: str, kind: str) -> None:
    check_golden(GOLDEN / f"{name}-{kind}.txt", render(orders[name], kind).preview)
