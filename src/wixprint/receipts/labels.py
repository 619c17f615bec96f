"""Fixed wording on tickets, German and English (``layout.language``).

Labels may contain characters a code page lacks (– in "NICHT BEZAHLT – BAR KASSIEREN"):
everything printed goes through ``text.transliterate`` anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Labels:
    delivery: str
    pickup: str
    dine_in: str
    unknown: str
    unknown_hint: str
    order: str
    ordered: str
    due: str
    asap: str
    tomorrow: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    """Empty: dates print as ``21.06.``; else ``21 Jun``."""
    note: str
    instructions: str
    delivery_instructions: str
    items: str
    no_items: str
    each: str
    other_stations: str
    driver: str
    phone: str
    no_address: str
    navigate: str
    subtotal: str
    discount: str
    coupon: str
    delivery_fee: str
    fee: str
    tip: str
    fees: str
    vat_included: str
    vat_added: str
    vat_unitemized: str
    total: str
    to_collect: str
    collect_cash: str
    collect_card: str
    collect: str
    not_paid: str
    paid: str
    refunded: str
    payment_unknown: str
    payment_method: str
    methods: Mapping[str, str]
    """Payment method names by ``PaymentMethod`` value."""
    reprint: str
    canceled: str
    canceled_hint: str
    changed: str
    changed_hint: str
    job: str
    revision: str


GERMAN = Labels(
    delivery="Lieferung",
    pickup="Abholung",
    dine_in="Vor Ort",
    unknown="Art unklar",
    unknown_hint="Abholung, Lieferung oder vor Ort? Bitte prüfen.",
    order="Bestellung",
    ordered="Bestellt",
    due="Fällig",
    asap="so schnell wie möglich",
    tomorrow="morgen",
    weekdays=("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    months=(),
    note="Notiz",
    instructions="Hinweis",
    delivery_instructions="Lieferhinweis",
    items="Artikel",
    no_items="(keine Artikel in dieser Bestellung)",
    each="je",
    other_stations="An andere Stationen",
    driver="FAHRER",
    phone="Tel.",
    no_address="KEINE ADRESSE – Kunden anrufen",
    navigate="Navigation: QR-Code scannen",
    subtotal="Zwischensumme",
    discount="Rabatt",
    coupon="Gutschein",
    delivery_fee="Liefergebühr",
    fee="Gebühr",
    tip="Trinkgeld",
    fees="Gebühren",
    vat_included="enthaltene MwSt",
    vat_added="zzgl. MwSt",
    vat_unitemized="(MwSt-Sätze von Wix nicht übermittelt)",
    total="Summe",
    to_collect="Zu kassieren",
    collect_cash="BAR KASSIEREN",
    collect_card="MIT KARTE KASSIEREN",
    collect="KASSIEREN",
    not_paid="NICHT BEZAHLT",
    paid="BEZAHLT",
    refunded="ERSTATTET",
    payment_unknown="Zahlung unklar – bitte prüfen",
    payment_method="Zahlungsart",
    methods={
        "cash": "Bar",
        "card": "Karte",
        "online": "Online",
        "gift_card": "Gutschein",
        "offline": "bei Übergabe",
    },
    reprint="REPRINT – möglicherweise doppelt",
    canceled="STORNIERT",
    canceled_hint="NICHT ZUBEREITEN",
    changed="GEÄNDERT",
    changed_hint="Ersetzt den vorherigen Bon",
    job="Job",
    revision="Rev.",
)

ENGLISH = Labels(
    delivery="Delivery",
    pickup="Pickup",
    dine_in="Dine-in",
    unknown="Type unclear",
    unknown_hint="Pickup, delivery or dine-in? Please check.",
    order="Order",
    ordered="Ordered",
    due="Due",
    asap="as soon as possible",
    tomorrow="tomorrow",
    weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    note="Note",
    instructions="Instructions",
    delivery_instructions="Delivery instructions",
    items="Items",
    no_items="(no items in this order)",
    each="each",
    other_stations="Sent to other stations",
    driver="DRIVER",
    phone="Phone",
    no_address="NO ADDRESS – call the customer",
    navigate="Scan the QR code to navigate",
    subtotal="Subtotal",
    discount="Discount",
    coupon="Coupon",
    delivery_fee="Delivery fee",
    fee="Fee",
    tip="Tip",
    fees="Fees",
    vat_included="incl. VAT",
    vat_added="plus VAT",
    vat_unitemized="(VAT rates not sent by Wix)",
    total="Total",
    to_collect="To collect",
    collect_cash="COLLECT CASH",
    collect_card="COLLECT BY CARD",
    collect="COLLECT",
    not_paid="NOT PAID",
    paid="PAID",
    refunded="REFUNDED",
    payment_unknown="Payment unclear – please check",
    payment_method="Payment",
    methods={
        "cash": "Cash",
        "card": "Card",
        "online": "Online",
        "gift_card": "Gift card",
        "offline": "on handover",
    },
    reprint="REPRINT – may be a duplicate",
    canceled="CANCELED",
    canceled_hint="DO NOT PREPARE",
    changed="CHANGED",
    changed_hint="Replaces the previous ticket",
    job="Job",
    revision="Rev.",
)

_BY_LANGUAGE = {"de": GERMAN, "en": ENGLISH}


def labels_for(language: str) -> Labels:
    """The labels of ``language``; German (the restaurant's default) for anything unknown."""
    return _BY_LANGUAGE.get(language, GERMAN)
