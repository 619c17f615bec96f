"""Signed Wix order webhooks for the simulation, built the way Wix layers them.

The demo and the tests sign with a throwaway RSA key generated at run time; no key is ever
stored in the project. Every layer below the JWT claims is a JSON *string*, as Wix sends it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wixprint.sim.replies import wire_json

__all__ = [
    "ORDER_EVENT_SLUGS",
    "SIM_INSTANCE_ID",
    "OrderEventSlug",
    "generate_key_pair",
    "generate_signing_key",
    "order_event_envelope",
    "order_webhook_body",
    "public_pem",
    "sign_event",
    "sign_webhook_for_shop",
]

OrderEventSlug = Literal["created", "approved", "updated", "canceled", "payment_status_updated"]
ORDER_EVENT_SLUGS: Final[tuple[OrderEventSlug, ...]] = (
    "created",
    "approved",
    "updated",
    "canceled",
    "payment_status_updated",
)
SIM_INSTANCE_ID: Final = "bb30d95e-5d92-5f8f-917a-6fae43e5ae9d"
SIM_KID: Final = "simKid"


def generate_signing_key() -> tuple[rsa.RSAPrivateKey, str]:
    """A fresh 2048-bit key pair: the private key and its public PEM (what the app config holds)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, public_pem(key)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    raw = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return raw.decode("ascii")


def order_event_envelope(
    slug: OrderEventSlug,
    order: Mapping[str, Any],
    *,
    event_id: str | None = None,
    event_time: str | None = None,
    instance_id: str = SIM_INSTANCE_ID,
) -> dict[str, Any]:
    """The envelope (``eventType``, ``instanceId``, ``data``, ``identity``) of one order event.

    ``data`` and ``identity`` are JSON strings; a fresh event id unless one is given (pass
    the same id to emulate Wix's duplicate deliveries).
    """
    order_dict = dict(order)
    inner: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "entityFqdn": "wix.ecom.v1.order",
        "slug": slug,
        "entityId": order_dict.get("id"),
        "eventTime": event_time or _now_micro(),
        "triggeredByAnonymizeRequest": False,
    }
    inner.update(_event_body(slug, order_dict))
    identity = {"identityType": "ANONYMOUS_VISITOR", "anonymousVisitorId": str(uuid.uuid4())}
    return {
        "eventType": f"wix.ecom.v1.order_{slug}",
        "instanceId": instance_id,
        "data": _compact(inner),
        "identity": _compact(identity),
    }


def _event_body(slug: OrderEventSlug, order: dict[str, Any]) -> dict[str, Any]:
    if slug == "created":
        return {"createdEvent": {"entity": order}}
    if slug == "updated":
        return {"updatedEvent": {"currentEntity": order}}
    body: dict[str, Any] = {"order": order}
    if slug == "canceled":
        body |= {"restockAllItems": False, "sendOrderCanceledEmail": True, "customMessage": ""}
    elif slug == "payment_status_updated":
        body["previousPaymentStatus"] = "NOT_PAID"
    return {"actionEvent": {"body": body}}


def sign_event(
    claims_or_envelope: Mapping[str, Any],
    private_key: rsa.RSAPrivateKey | str | bytes,
    *,
    iat: int,
    exp: int,
    alg: str = "RS256",
    kid: str = SIM_KID,
) -> bytes:
    """The webhook body: a compact JWT over the claims, with ``iat``/``exp`` set.

    An envelope (it has ``eventType``) is wrapped as ``{"data": "<envelope as JSON>"}`` first;
    claims (e.g. the fixture's) are re-signed with fresh times.
    """
    if "eventType" in claims_or_envelope:
        claims: dict[str, Any] = {"data": _compact(dict(claims_or_envelope))}
    else:
        claims = dict(claims_or_envelope)
    claims["iat"] = iat
    claims["exp"] = exp
    token = jwt.encode(claims, private_key, algorithm=alg, headers={"kid": kid})
    return token.encode("ascii")


def sign_webhook_for_shop(
    order: Mapping[str, Any],
    slug: OrderEventSlug,
    private_key: rsa.RSAPrivateKey,
    *,
    now: float,
    ttl: int = 300,
    event_id: str | None = None,
) -> bytes:
    """A ready-to-POST body announcing ``order`` (e.g. a demo order from ``FakeWixShop``)."""
    envelope = order_event_envelope(slug, order, event_id=event_id)
    return sign_event(envelope, private_key, iat=int(now), exp=int(now) + ttl)


def generate_key_pair() -> tuple[rsa.RSAPrivateKey, str]:
    """Alias of ``generate_signing_key`` (the name ``wixprint demo`` uses)."""
    return generate_signing_key()


def order_webhook_body(
    order: Mapping[str, Any],
    private_key: object,
    *,
    event: str = "order_created",
    now: float | None = None,
    ttl: int = 300,
    event_id: str | None = None,
) -> bytes:
    """``sign_webhook_for_shop`` by event name (``order_created`` or the full
    ``wix.ecom.v1.order_created``), signed now unless ``now`` is given."""
    slug = event.removeprefix("wix.ecom.v1.").removeprefix("order_")
    if slug not in ORDER_EVENT_SLUGS:
        raise ValueError(f"unknown order event {event!r}")
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise TypeError("private_key must be an RSA private key")
    moment = time.time() if now is None else now
    return sign_webhook_for_shop(order, slug, private_key, now=moment, ttl=ttl, event_id=event_id)


def _compact(value: object) -> str:
    return wire_json(value, separators=(",", ":"))


def _now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
