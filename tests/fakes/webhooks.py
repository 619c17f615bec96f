"""Signed Wix webhooks for tests: the package's signing helpers plus the tokens we must refuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
    "KeyPair",
    "OrderEventSlug",
    "alg_none_token",
    "b64url",
    "expired_token",
    "garbage_bodies",
    "generate_signing_key",
    "hostile_bodies",
    "hs256_with_public_pem",
    "order_approved",
    "order_canceled",
    "order_created",
    "order_event_envelope",
    "order_payment_status_updated",
    "order_updated",
    "public_pem",
    "sign_compact",
    "sign_event",
    "sign_webhook_for_shop",
]

KeyPair = tuple[rsa.RSAPrivateKey, str]
"""A signing key and its public key's PEM (``generate_signing_key``)."""


def b64url(data: bytes) -> bytes:
    """One compact-JWS segment: base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_compact(header: bytes, payload: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """A correctly RS256-signed compact JWS whose segments hold exactly these bytes (what no
    JWT library writes: odd headers, payloads that are not objects, hostile nesting)."""
    signing_input = b64url(header) + b"." + b64url(payload)
    return (
        signing_input + b"." + b64url(key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))
    )


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


def _raw_b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def hostile_bodies() -> dict[str, bytes]:
    """Unsigned bodies shaped to hurt whatever parses them before the signature check, by name.

    What a prober sends to an exposed webhook URL: nesting that blows the recursion limit,
    segments far larger than any real header, numbers and strings at the parser's edges, and
    tokens that are almost well-formed. None of them is signed by anyone.
    """
    sig = _raw_b64(b"\x00" * 256)
    claims = _raw_b64(b'{"data":"{}","exp":9999999999}')
    deep = 200_000

    def token(header: bytes, payload: bytes = claims, signature: bytes = sig) -> bytes:
        return _raw_b64(header) + b"." + payload + b"." + signature

    return {
        "header_deep_arrays": token(b"[" * deep),
        "header_deep_objects": token(b'{"a":' * (deep // 5)),
        "header_deep_closed": token(b"[" * 5_000 + b"]" * 5_000),
        "header_deep_after_alg": token(b'{"alg":"RS256","x":' + b"[" * deep),
        "header_huge_string": token(b'{"alg":"RS256","kid":"' + b"k" * 600_000 + b'"}'),
        "header_huge_number": token(b'{"alg":"RS256","n":' + b"9" * 50_000 + b"}"),
        "header_float_overflow": token(b'{"alg":"RS256","n":1e999999}'),
        "header_nan": token(b'{"alg":"RS256","n":NaN}'),
        "header_string": token(b'"RS256"'),
        "header_null": token(b"null"),
        "header_utf16": token('{"alg":"RS256"}'.encode("utf-16")),
        "header_lone_surrogate": token(b'{"alg":"RS256","kid":"\\udc00"}'),
        "header_duplicate_alg": token(b'{"alg":"RS256","alg":"none"}'),
        "header_bom": token(b'\xef\xbb\xbf{"alg":"RS256"}'),
        "payload_deep": token(b'{"alg":"RS256"}', _raw_b64(b"[" * deep)),
        "signature_huge": token(b'{"alg":"RS256"}', claims, b"A" * 900_000),
        "signature_empty": token(b'{"alg":"RS256"}', claims, b""),
        "three_empty_segments": b"..",
        "many_dots": b"." * 50_000,
        "whitespace_segments": b" . . ",
        "control_bytes": b"\x00\x01.\x02\x03.\x04",
        "latin1": "\u00e9t\u00e9.\u00e9t\u00e9.\u00e9t\u00e9".encode("latin-1"),
        "newlines": token(b'{"alg":"RS256"}') + b"\r\n",
        "too_large": b"A" * (2 * 1024 * 1024),
    }
