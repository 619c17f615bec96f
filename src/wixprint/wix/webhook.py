"""Verify a Wix webhook (an RS256 JWT as the whole body) and unwrap its layered envelope.

Only RS256 is accepted, whatever the token's header says: that closes ``alg: none`` and the
HS256-with-the-public-key-as-secret confusion. The token is verified exactly as received, never
re-serialised. The compact JWS is checked here with ``cryptography`` directly rather than with
PyJWT, which validates every character of every segment in a Python loop, twice per token
with the header check: 1.3 to 3.6 ms of event-loop time for an order webhook of 12 to 33 kB,
six times what this takes. Rejections carry a short fixed reason and never any part of the
token, so a hostile body cannot put text into our logs.

After verification the claims are unwrapped layer by layer. Wix documents each ``data`` and
``identity`` as stringified JSON but draws them as objects, so both forms are accepted. A token
that verifies but cannot be understood is a 400: it came from Wix (or from whoever holds the
key), so it is worth an alert, not a silent drop.

What a stranger controls is bounded before it is parsed: the body's size (the route), the
header segment's size and its nesting depth (``json_depth``, counted on the raw bytes), so a
token of ``[[[[…`` is a plain 401 rather than a RecursionError, an ERROR with a traceback and
a 500 that the probing alert would never count as ``rejected``. The payload is parsed only
once the signature holds; its depth is not pre-counted (that scan would cost as much as the
whole check) but a RecursionError from it is still a rejection, never a crash.

Dedupe by event id is the spool's job, not this module's.
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from wixprint.config.keys import load_public_key
from wixprint.errors import WebhookRejected
from wixprint.wix.jsontext import loads

__all__ = [
    "MAX_HEADER_SEGMENT",
    "MAX_JSON_DEPTH",
    "MAX_WEBHOOK_BODY",
    "WebhookEvent",
    "json_depth",
    "load_public_key",
    "verify_webhook",
]

MAX_WEBHOOK_BODY: Final = 1024 * 1024
"""Bytes; the web route answers 413 above this before reading further."""
MAX_HEADER_SEGMENT: Final = 2048
"""Base64url characters of the JOSE header; Wix's (``kid`` and ``alg``) is about 80."""
MAX_JSON_DEPTH: Final = 16
"""Nesting of the JOSE header, an object of strings: one level."""

_ALGORITHM: Final = "RS256"
_BASE64URL: Final = re.compile(rb"[A-Za-z0-9_-]*")
_JSON_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")

# Where each event type carries the order (§8.1 of the Wix reference).
_ORDER_PATHS: Final[dict[str, tuple[str, ...]]] = {
    "created": ("createdEvent", "entity"),
    "updated": ("updatedEvent", "currentEntity"),
}
_ACTION_ORDER_PATH: Final = ("actionEvent", "body", "order")


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified webhook, unwrapped.

    Attributes:
        event_id: the inner event's ``id``; the dedupe key.
        event_type: e.g. ``wix.ecom.v1.order_approved``.
        slug: the inner ``slug`` (``created``, ``approved``, ...), if given.
        order_id: ``entityId``, else the order's own ``id``.
        order: the order object as sent (may be stale: duplicates carry old data).
        event_time: the inner ``eventTime`` string as sent.
        instance_id: the app instance (= the site's installation of our app).
    """

    event_id: str
    event_type: str
    slug: str | None
    order_id: str | None
    order: dict[str, Any] | None
    event_time: str | None
    instance_id: str | None


def verify_webhook(
    body: bytes,
    public_key_pem: str | RSAPublicKey,
    *,
    now: float | None = None,
    leeway: float = 60.0,
) -> WebhookEvent:
    """Verify ``body`` and unwrap it; raises ``WebhookRejected`` (401, 400 or 413).

    ``public_key_pem`` may also be a key already loaded with ``load_public_key`` (the route
    loads it once). ``now`` is epoch seconds (default: the wall clock), for tests.
    """
    if len(body) > MAX_WEBHOOK_BODY:
        raise WebhookRejected("webhook body too large", status_code=413)
    key = (
        public_key_pem
        if isinstance(public_key_pem, RSAPublicKey)
        else _load_key_or_reject(public_key_pem)
    )
    claims = _verified_claims(body, key, now=time.time() if now is None else now, leeway=leeway)
    return _unwrap(claims)


def _load_key_or_reject(pem: str) -> RSAPublicKey:
    try:
        return load_public_key(pem)
    except ValueError:
        # Our configuration, not the sender, is at fault; still never accept the body.
        raise WebhookRejected("webhook key not usable", status_code=401) from None


def _verified_claims(
    body: bytes, key: RSAPublicKey, *, now: float, leeway: float
) -> dict[str, Any]:
    try:
        body.decode("ascii")
    except UnicodeDecodeError:
        raise WebhookRejected("not a token", status_code=401) from None
    parts = body.split(b".")
    if len(parts) != 3:
        raise WebhookRejected("not a token", status_code=401)
    header_b64, payload_b64, signature_b64 = parts
    if len(header_b64) > MAX_HEADER_SEGMENT:
        raise WebhookRejected("not a token", status_code=401)
    try:
        header = _bounded_json(_segment(header_b64), MAX_JSON_DEPTH)
    except ValueError:
        raise WebhookRejected("not a token", status_code=401) from None
    if not isinstance(header, dict) or not isinstance(header.get("kid", ""), str):
        raise WebhookRejected("not a token", status_code=401)
    if header.get("alg") != _ALGORITHM:
        raise WebhookRejected("algorithm not allowed", status_code=401)
    if "crit" in header or header.get("b64", True) is not True:
        # JWS extensions we do not implement must not be ignored (RFC 7515 §4.1.11).
        raise WebhookRejected("invalid token", status_code=401)
    try:
        signature = _segment(signature_b64)
        key.verify(signature, header_b64 + b"." + payload_b64, padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, InvalidSignature):
        raise WebhookRejected("bad signature", status_code=401) from None
    try:
        claims = loads(_segment(payload_b64))
    except ValueError:
        raise WebhookRejected("invalid token", status_code=401) from None
    if not isinstance(claims, dict):
        raise WebhookRejected("invalid token", status_code=401)
    _check_times(claims, now=now, leeway=leeway)
    return claims


def json_depth(text: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, brackets inside strings not
    counted. Runs at C speed but for one step per bracket; an unterminated string only makes
    the count larger, which is safe for a bound."""
    brackets = _JSON_STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _bounded_json(text: bytes, max_depth: int) -> Any:
    """``loads``, with a nesting deeper than ``max_depth`` a ``ValueError`` like any other
    malformed text (a JWT header is flat: deep nesting there is an attack, not data)."""
    if json_depth(text) > max_depth:
        raise ValueError("JSON nested too deep")
    return loads(text)


def _segment(data: bytes) -> bytes:
    """Decode one base64url segment strictly: the URL-safe alphabet only, padding optional.

    ``ValueError`` (``binascii.Error`` included) for anything else.
    """
    stripped = data.rstrip(b"=")
    padded = len(data) - len(stripped)
    if padded > 2 or (padded and len(data) % 4) or len(stripped) % 4 == 1:
        raise ValueError("bad base64url padding")
    if _BASE64URL.fullmatch(stripped) is None:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))


def _check_times(claims: dict[str, Any], *, now: float, leeway: float) -> None:
    exp = _number(claims.get("exp"))
    if exp is None:
        raise WebhookRejected("token has no readable expiry", status_code=401)
    if exp <= now - leeway:
        raise WebhookRejected("token expired", status_code=401)
    for claim in ("iat", "nbf"):
        if claims.get(claim) is None:
            continue
        value = _number(claims[claim])
        if value is None:
            raise WebhookRejected(f"token {claim} unreadable", status_code=401)
        if value > now + leeway:
            raise WebhookRejected("token not yet valid", status_code=401)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _unwrap(claims: dict[str, Any]) -> WebhookEvent:
    envelope = _layer(claims.get("data"), "data")
    inner = _layer(envelope.get("data"), "envelope data")
    slug = _optional_str(inner, "slug")
    event_type = _optional_str(envelope, "eventType")
    if event_type is None:
        fqdn = _optional_str(inner, "entityFqdn")
        if fqdn is None or slug is None:
            raise WebhookRejected("webhook has no event type", status_code=400)
        event_type = f"{fqdn}_{slug}"
    event_id = _optional_str(inner, "id")
    if event_id is None:
        raise WebhookRejected("webhook has no event id", status_code=400)
    order = _find_order(inner, slug or event_type.rsplit("_", 1)[-1])
    order_id = _optional_str(inner, "entityId")
    if order is not None:
        own_id = order.get("id")
        if own_id is not None and not isinstance(own_id, str):
            raise WebhookRejected("webhook order id is not a string", status_code=400)
        if order_id is not None and own_id is not None and own_id != order_id:
            raise WebhookRejected("webhook entity id and order id differ", status_code=400)
        order_id = order_id or own_id
    return WebhookEvent(
        event_id=event_id,
        event_type=event_type,
        slug=slug,
        order_id=order_id,
        order=order,
        event_time=_optional_str(inner, "eventTime"),
        instance_id=_optional_str(envelope, "instanceId"),
    )


def _find_order(inner: dict[str, Any], slug: str) -> dict[str, Any] | None:
    """The order where this event type keeps it, else wherever another type would."""
    preferred = _ORDER_PATHS.get(slug, _ACTION_ORDER_PATH)
    others = [path for path in (*_ORDER_PATHS.values(), _ACTION_ORDER_PATH) if path != preferred]
    for path in (preferred, *others):
        found = _dig(inner, path)
        if found is not None:
            return found
    return None


def _dig(node: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    current: object = node
    for step in path:
        if isinstance(current, str):
            current = _layer(current, step)
        if not isinstance(current, dict) or step not in current:
            return None
        current = current[step]
    if current is None:
        return None
    return _layer(current, path[-1])


def _layer(value: object, name: str) -> dict[str, Any]:
    """One envelope layer: a JSON object, or a string holding one."""
    if isinstance(value, str):
        try:
            value = loads(value)
        except ValueError:
            raise WebhookRejected(f"webhook {name} is not JSON", status_code=400) from None
    if not isinstance(value, dict):
        raise WebhookRejected(f"webhook {name} is not an object", status_code=400)
    return value


def _optional_str(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WebhookRejected(f"webhook {key} is not a string", status_code=400)
    return value or None
