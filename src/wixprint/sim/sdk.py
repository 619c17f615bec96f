"""Orders as Wix's JavaScript SDK shows them: what a Velo ``events.js`` handler receives.

The SDK renames a few REST fields (``id`` → ``_id``, ``createdDate`` → ``_createdDate``,
``updatedDate`` → ``_updatedDate``, ``addressLine`` → ``addressLine1``); everything else keeps
its REST name. A Velo ``wixEcom_onOrderApproved(event)`` gets ``{data: {order}, metadata}``,
and an owner's ``events.js`` typically posts that object as JSON with ``fetch``.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["sdk_order", "velo_order_event"]

_RENAMED = {
    "id": "_id",
    "createdDate": "_createdDate",
    "updatedDate": "_updatedDate",
    "addressLine": "addressLine1",
}


def sdk_order(node: Any) -> Any:
    """A deep copy of a REST order with the SDK's field names."""
    if isinstance(node, list):
        return [sdk_order(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {_RENAMED.get(key, key): sdk_order(value) for key, value in node.items()}


def velo_order_event(order: dict[str, Any], event_time: str) -> dict[str, Any]:
    """The event object of ``wixEcom_onOrderApproved`` for ``order`` (a REST order)."""
    order_id = str(order.get("id", ""))
    return {
        "data": {"order": sdk_order(order)},
        "metadata": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"velo:{order_id}:{event_time}")),
            "entityId": order_id,
            "eventTime": event_time,
            "triggeredByAnonymizeRequest": False,
        },
    }
