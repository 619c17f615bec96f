"""Which Wix app sold a line item: ``catalogReference.appId`` to an ``ItemKind``.

Every eCommerce order comes through the same Orders API, whatever the site sells: dishes,
table reservations ("all table reservations, whether free or paid, create an order"), gift
cards, Bookings, Events, Pricing Plans, Stores merchandise. The line item's
``catalogReference.appId`` names the app; custom line items have none. The ids below, with
their sources (marks as in the Wix API reference: [doc] Wix documentation, [3p] Wix's own
public code or third-party code only, [inf] inference):

* restaurants: ``9a5d83fd-8570-482e-81ab-cfa88942ee60`` Restaurants Orders (New) [doc: the
  Restaurants "Sample Flows" read it from the line items of restaurant orders];
  ``b278a256-2757-4f19-9313-c05c783bec92`` Restaurants Menus (New) [3p: Wix's skills
  repository, app install lists], accepted as a dish as well [inf].
* table_reservations: ``f9c07de2-5341-40c6-b096-8eb39de391fb`` Wix Table Reservations [3p:
  Wix's skills repository and n8n node]; that reservation line items carry it is [inf].
* stores: ``215238eb-22a5-4c36-9e7b-e7c08025e04e`` Wix Stores catalog [doc: API reference
  §2]; ``1380b703-ce81-ff05-f115-39571d94dfcd`` Wix eCommerce / Stores [doc: "Apps created
  by Wix"].
* bookings: ``13d21c63-b5ec-5912-8397-c3a5ddb27a97`` [doc: "Apps created by Wix"].
* events: ``140603ad-af8d-84a5-2c80-a0f60cb47351`` [doc: "Apps created by Wix"].
* pricing_plans: ``1522827f-c56c-a5c9-2ac9-00f9e6ae12d3`` [3p: Wix's skills repository,
  checkout line items with this appId].
* gift_cards: ``d80111c5-a0f4-47a8-b63a-65b54d774a27`` Wix gift cards [3p: Wix's skills
  repository, line item classification]; and any item whose ``itemType.preset`` is
  ``GIFT_CARD`` [doc: eCommerce item type enum].

An app id not listed is ``OTHER``. That an id is unknown never makes an item print: the
printing policy (``wix/printable.py``) is an allow-list.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from wixprint.vocabulary import ItemKind

__all__ = [
    "APP_IDS",
    "RESTAURANTS_APP_ID",
    "RESTAURANT_APP_IDS",
    "TABLE_RESERVATIONS_APP_ID",
    "item_kind",
]

RESTAURANTS_APP_ID: Final = "9a5d83fd-8570-482e-81ab-cfa88942ee60"
"""``catalogReference.appId`` of Wix Restaurants Orders (New) line items."""
RESTAURANTS_MENUS_APP_ID: Final = "b278a256-2757-4f19-9313-c05c783bec92"
TABLE_RESERVATIONS_APP_ID: Final = "f9c07de2-5341-40c6-b096-8eb39de391fb"
STORES_CATALOG_APP_ID: Final = "215238eb-22a5-4c36-9e7b-e7c08025e04e"
ECOM_APP_ID: Final = "1380b703-ce81-ff05-f115-39571d94dfcd"
BOOKINGS_APP_ID: Final = "13d21c63-b5ec-5912-8397-c3a5ddb27a97"
EVENTS_APP_ID: Final = "140603ad-af8d-84a5-2c80-a0f60cb47351"
PRICING_PLANS_APP_ID: Final = "1522827f-c56c-a5c9-2ac9-00f9e6ae12d3"
GIFT_CARDS_APP_ID: Final = "d80111c5-a0f4-47a8-b63a-65b54d774a27"

APP_IDS: Final = MappingProxyType(
    {
        RESTAURANTS_APP_ID: ItemKind.RESTAURANTS,
        RESTAURANTS_MENUS_APP_ID: ItemKind.RESTAURANTS,
        TABLE_RESERVATIONS_APP_ID: ItemKind.TABLE_RESERVATIONS,
        STORES_CATALOG_APP_ID: ItemKind.STORES,
        ECOM_APP_ID: ItemKind.STORES,
        BOOKINGS_APP_ID: ItemKind.BOOKINGS,
        EVENTS_APP_ID: ItemKind.EVENTS,
        PRICING_PLANS_APP_ID: ItemKind.PRICING_PLANS,
        GIFT_CARDS_APP_ID: ItemKind.GIFT_CARDS,
    }
)
"""Known app id (lower case) → kind."""
RESTAURANT_APP_IDS: Final = tuple(
    app for app, kind in APP_IDS.items() if kind is ItemKind.RESTAURANTS
)
"""The apps whose items are Wix Restaurants food (``[wix] restaurants_app_only``)."""

_GIFT_CARD_PRESET: Final = "GIFT_CARD"


def item_kind(app_id: str | None, item_type: str | None) -> ItemKind:
    """The kind of a line item: a gift card by its item type whatever app sold it, else by
    app id; no app id is a custom item."""
    if item_type is not None and item_type.strip().upper() == _GIFT_CARD_PRESET:
        return ItemKind.GIFT_CARDS
    if app_id is None or not app_id.strip():
        return ItemKind.CUSTOM
    return APP_IDS.get(app_id.strip().lower(), ItemKind.OTHER)
