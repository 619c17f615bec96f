"""The compact-JWS check of webhook tokens at the edges PyJWT used to cover for us:
critical header extensions, unencoded payloads, padding and the base64url alphabet."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.webhooks import generate_signing_key, sign_event
from wixprint.errors import WebhookRejected
from wixprint.wix.webhook import verify_webhook

NOW = 1_750_000_000
KeyPair = tuple[rsa.RSAPrivateKey, str]


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return generate_signing_key()


@pytest.fixture
def claims(fixtures_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (fixtures_dir / "webhook-order-created.jwt-claims.json").read_text(encoding="utf-8")
    )
    return {**loaded, "iat": NOW, "exp": NOW + 300}


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _token(header: dict[str, Any], payload: object, key: rsa.RSAPrivateKey) -> bytes:
    """A correctly RS256-signed compact JWS with exactly this header and payload."""
    signing_input = _b64(json.dumps(header).encode()) + b"." + _b64(json.dumps(payload).encode())
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return signing_input + b"." + _b64(signature)


def _rejected(body: bytes, keys: KeyPair) -> int:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(body, keys[1], now=NOW)
    return caught.value.status_code


def test_a_hand_made_token_verifies(claims: dict[str, Any], keys: KeyPair) -> None:
    body = _token({"alg": "RS256", "typ": "JWT", "kid": "k1"}, claims, keys[0])
    assert verify_webhook(body, keys[1], now=NOW).event_type == "wix.ecom.v1.order_created"


def test_a_padded_signature_segment_still_verifies(claims: dict[str, Any], keys: KeyPair) -> None:
    header, payload, signature = sign_event(claims, keys[0], iat=NOW, exp=NOW + 300).split(b".")
    padded = signature + b"=" * (-len(signature) % 4)
    assert padded != signature  # a 2048-bit signature needs padding
    event = verify_webhook(b".".join([header, payload, padded]), keys[1], now=NOW)
    assert event.event_type == "wix.ecom.v1.order_created"


@pytest.mark.parametrize(
    "extra",
    [{"crit": ["exp"], "exp": 1}, {"b64": False, "crit": ["b64"]}, {"b64": False}, {"kid": 7}],
    ids=["crit", "unencoded_crit", "unencoded", "kid_not_a_string"],
)
def test_header_parameters_we_do_not_implement_are_refused(
    claims: dict[str, Any], keys: KeyPair, extra: dict[str, Any]
) -> None:
    body = _token({"alg": "RS256", "typ": "JWT", **extra}, claims, keys[0])
    assert _rejected(body, keys) == 401


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "payload", "signature"])
def test_a_character_outside_base64url_in_any_segment_is_refused(
    claims: dict[str, Any], keys: KeyPair, segment: int
) -> None:
    parts = sign_event(claims, keys[0], iat=NOW, exp=NOW + 300).split(b".")
    parts[segment] = parts[segment][:-4] + b"+/" + parts[segment][-2:]  # standard alphabet
    assert _rejected(b".".join(parts), keys) == 401


@pytest.mark.parametrize("payload", [[1, 2, 3], "text", None], ids=["list", "string", "null"])
def test_a_payload_that_is_not_an_object_is_refused(keys: KeyPair, payload: object) -> None:
    assert _rejected(_token({"alg": "RS256"}, payload, keys[0]), keys) == 401


def test_four_segments_are_not_a_token(claims: dict[str, Any], keys: KeyPair) -> None:
    body = _token({"alg": "RS256"}, claims, keys[0])
    assert _rejected(body + b"." + body.split(b".")[2], keys) == 401
