"""Signed Wix webhooks for tests: the package's signing helpers plus the tokens we must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from wixprint.sim.webhooks import (
    ORDER_EVENT_SLUGS,
    SIM_INSTANCE_ID,
    OrderEventSlug,
    generate_signing_key,
    order_event_envelope,
    public_pem,
    sign_event,
    sign_webhook_for_shop,
)

__all__ = [
    "ORDER_EVENT_SLUGS",
    "SIM_INSTANCE_ID",
    "OrderEventSlug",
    "alg_none_token",
    "expired_token",
    "garbage_bodies",
    "generate_signing_key",
    "hs256_with_public_pem",
    "order_approved",
    "order_canceled",
    "order_created",
    "order_event_envelope",
    "order_payment_status_updated",
    "order_updated",
    "public_pem",
    "sign_event",
    "sign_webhook_for_shop",
]


def order_created(order: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    return order_event_envelope("created", order, **options)


def order_approved(order: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    return order_event_envelope("approved", order, **options)


def order_updated(order: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    return order_event_envelope("updated", order, **options)


def order_canceled(order: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    return order_event_envelope("canceled", order, **options)


def order_payment_status_updated(order: Mapping[str, Any], **options: Any) -> dict[str, Any]:
    return order_event_envelope("payment_status_updated", order, **options)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _segment(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(dict(value), separators=(",", ":")).encode())


def _claims(claims_or_envelope: Mapping[str, Any], *, iat: int, exp: int) -> dict[str, Any]:
    if "eventType" in claims_or_envelope:
        claims: dict[str, Any] = {"data": json.dumps(dict(claims_or_envelope))}
    else:
        claims = dict(claims_or_envelope)
    return claims | {"iat": iat, "exp": exp}


def hs256_with_public_pem(
    claims_or_envelope: Mapping[str, Any],
    public_key_pem: str,
    *,
    iat: int,
    exp: int,
    header_alg: str = "HS256",
) -> bytes:
    """The key-confusion attack: HMAC-signed with the (public) PEM text as the secret.

    ``header_alg="RS256"`` also lies about the algorithm in the header. Built by hand: PyJWT
    itself refuses to use a PEM as an HMAC secret.
    """
    signing_input = (
        f"{_segment({'alg': header_alg, 'typ': 'JWT'})}."
        f"{_segment(_claims(claims_or_envelope, iat=iat, exp=exp))}"
    )
    mac = hmac.new(public_key_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}".encode()


def alg_none_token(claims_or_envelope: Mapping[str, Any], *, iat: int, exp: int) -> bytes:
    """An unsigned token (``alg: none``, empty signature)."""
    header = _segment({"alg": "none", "typ": "JWT"})
    payload = _segment(_claims(claims_or_envelope, iat=iat, exp=exp))
    return f"{header}.{payload}.".encode()


def expired_token(
    claims_or_envelope: Mapping[str, Any], private_key: Any, *, now: int, age: int = 3600
) -> bytes:
    """Correctly signed, but its ``exp`` passed ``age`` seconds before ``now``."""
    return sign_event(claims_or_envelope, private_key, iat=now - age - 300, exp=now - age)


def garbage_bodies() -> dict[str, bytes]:
    """Bodies that are not tokens at all, by name."""
    return {
        "empty": b"",
        "json": b'{"data": "not a jwt"}',
        "two_segments": b"abc.def",
        "binary": b"\xff\xfe\x00garbage",
        "bad_base64": b"!!!.???.***",
    }
