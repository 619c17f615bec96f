"""Every fixture order as every ticket kind, compared with a reviewed text file.

Regenerate after a deliberate layout change with ``WIXPRINT_UPDATE_GOLDEN=1``, then read the
diff as the restaurant would before committing it. Never under CI (``CI`` set): a run that
rewrites its expected files cannot fail, so the variable is refused there.
"""

from __future__ import annotations

import pytest

from tests.unit.receipts.conftest import (
    GOLDEN,
    KINDS,
    ORDERS,
    SHAPES,
    check_golden,
    golden_update_requested,
    render,
)
from wixprint.wix.model import Order


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", [*ORDERS, *SHAPES])
def test_ticket_matches_golden(orders: dict[str, Order], name: str, kind: str) -> None:
    check_golden(GOLDEN / f"{name}-{kind}.txt", render(orders[name], kind).preview)


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_golden_updates_are_refused_under_ci(ci: str) -> None:
    with pytest.raises(pytest.UsageError, match="refused under CI"):
        golden_update_requested({"WIXPRINT_UPDATE_GOLDEN": "1", "CI": ci})
    assert golden_update_requested({"WIXPRINT_UPDATE_GOLDEN": "1"}) is True
    assert golden_update_requested({"WIXPRINT_UPDATE_GOLDEN": "1", "CI": "false"}) is True
    assert golden_update_requested({"CI": ci}) is False
