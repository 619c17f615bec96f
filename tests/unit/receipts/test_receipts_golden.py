"""Every fixture order as every ticket kind, compared with a reviewed text file.

Regenerate after a deliberate layout change with ``WIXPRINT_UPDATE_GOLDEN=1``, then read the
diff as the restaurant would before committing it. Never under CI (``CI`` set): a run that
rewrites its expected files cannot fail, so the variable is refused there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.unit.receipts.conftest import KINDS, ORDERS, SHAPES, render
from wixprint.wix.model import Order

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def golden_update_requested(environ: Mapping[str, str]) -> bool:
    """True when the golden files are to be rewritten; a usage error under CI."""
    if environ.get("WIXPRINT_UPDATE_GOLDEN", "") in ("", "0"):
        return False
    if environ.get("CI", "").lower() not in ("", "0", "false"):
        raise pytest.UsageError(
            "WIXPRINT_UPDATE_GOLDEN is refused under CI: golden files are "
            "rewritten on a developer's machine and reviewed, never in CI"
        )
    return True


UPDATE = golden_update_requested(os.environ)


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


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_golden_updates_are_refused_under_ci(ci: str) -> None:
    with pytest.raises(pytest.UsageError, match="refused under CI"):
        golden_update_requested({"WIXPRINT_UPDATE_GOLDEN": "1", "CI": ci})
    assert golden_update_requested({"WIXPRINT_UPDATE_GOLDEN": "1"}) is True
    assert golden_update_requested({"WIXPRINT_UPDATE_GOLDEN": "1", "CI": "false"}) is True
    assert golden_update_requested({"CI": ci}) is False
