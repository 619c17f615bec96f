"""Cash, card or online: the payment method from the Order Transactions API.

The order itself does not say how it is paid; ``GET /ecom/v1/payments/orders/{orderId}``
does (``orderTransactions.payments[]``): each payment has ``regularPaymentDetails`` with
``paymentMethod`` (an open set of strings: ``CreditCard``, ``PayPal``, ``Cash``, ``Offline``,
``InPerson``, ``PointOfSale``, ``Klarna``, ...), ``offlinePayment`` and ``status``, or
``giftcardPaymentDetails`` for the part paid with a gift card.

The mapping, in order:

* a gift card payment ⇒ GIFT_CARD;
* a method that says cash ("Cash", "Bar", "CashOnDelivery") ⇒ CASH;
* a method that says card and is paid on site (``offlinePayment``, "PointOfSale", "EC",
  "Girocard") ⇒ CARD (a Wix POS card terminal reporting "PointOfSale" is [inf]);
* any other offline payment ("Offline", "InPerson", "Manual") ⇒ OFFLINE: paid on site, the
  method not stated;
* everything else, paid through the website (card, PayPal, Klarna, Apple Pay, ...) ⇒ ONLINE.

Payments Wix voided, declined or canceled do not count. No payment at all (a free table
reservation) is no method. Unknown is never printed as cash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from wixprint.wix.model import Order, PaymentMethod

__all__ = ["payment_methods", "with_payment_methods"]

_NOT_COUNTED: Final = frozenset({"VOIDED", "DECLINED", "CANCELED", "CANCELLED", "FAILED"})
_CASH: Final = re.compile(r"cash|^bar$|^barzahlung|^bargeld|^cod$")
_ON_SITE_CARD: Final = re.compile(r"pointofsale|^pos$|^ec$|girocard|terminal")
_OFFLINE: Final = re.compile(r"offline|inperson|manual|onsite")


def payment_methods(transactions: Mapping[str, object] | None) -> tuple[PaymentMethod, ...]:
    """The methods of the counted payments of one order, in order, without repeats.

    ``transactions`` is the ``orderTransactions`` object (``list_order_transactions``); None or
    any shape Wix did not document gives no method rather than an error.
    """
    payments = transactions.get("payments") if isinstance(transactions, Mapping) else None
    if not isinstance(payments, list):
        return ()
    found: list[PaymentMethod] = []
    for payment in payments:
        method = _method(payment) if isinstance(payment, Mapping) else None
        if method is not None:
            found.append(method)
    return tuple(dict.fromkeys(found))


def _method(payment: Mapping[str, object]) -> PaymentMethod | None:
    gift = payment.get("giftcardPaymentDetails")
    if isinstance(gift, Mapping):
        return None if gift.get("voided") is True else PaymentMethod.GIFT_CARD
    details = payment.get("regularPaymentDetails")
    if not isinstance(details, Mapping):
        return None
    status = details.get("status")
    if isinstance(status, str) and status.strip().upper() in _NOT_COUNTED:
        return None
    raw = details.get("paymentMethod")
    name = re.sub(r"[^a-z]", "", raw.casefold()) if isinstance(raw, str) else ""
    offline = details.get("offlinePayment") is True
    if _CASH.search(name):
        return PaymentMethod.CASH
    if _ON_SITE_CARD.search(name) or (offline and "card" in name):
        return PaymentMethod.CARD
    if offline or _OFFLINE.search(name):
        return PaymentMethod.OFFLINE
    return PaymentMethod.ONLINE if name or details else None


def with_payment_methods(order: Order, transactions: Mapping[str, object] | None) -> Order:
    """``order`` with the payment methods of ``transactions`` (for the receipts)."""
    return replace(order, payment_methods=payment_methods(transactions))
