"""Tokens built to hurt the parser before the signature is checked: deep nesting, oversized
segments, odd shapes. Every one is refused with 401 (413 when the body is too large) — never
a RecursionError or any other exception, which the route would answer with 500 and count as
an ``error`` instead of ``rejected``. Signed tokens whose *contents* are nested past the
recursion limit are refused too (401 for the claims, 400 for the envelope layers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.webhooks import KeyPair, b64url, hostile_bodies, sign_compact
from wixprint.errors import WebhookRejected
from wixprint.wix.webhook import (
    MAX_HEADER_SEGMENT,
    MAX_JSON_DEPTH,
    MAX_WEBHOOK_BODY,
    json_depth,
    verify_webhook,
)

NOW = 1_750_000_000


def _signed(payload: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """A correctly RS256-signed token whose payload segment is exactly ``payload``."""
    return sign_compact(b'{"alg":"RS256","typ":"JWT"}', payload, key)


def _status(body: bytes, keys: KeyPair) -> int:
    with pytest.raises(WebhookRejected) as caught:
        verify_webhook(body, keys[1], now=NOW)
    return caught.value.status_code


@pytest.mark.parametrize("name", sorted(hostile_bodies()))
def test_every_hostile_token_is_a_401_without_a_crash(name: str, keys: KeyPair) -> None:
    body = hostile_bodies()[name]
    expected = 413 if len(body) > MAX_WEBHOOK_BODY else 401
    assert _status(body, keys) == expected


def test_a_header_nested_past_the_recursion_limit_is_refused(keys: KeyPair) -> None:
    depth = sys.getrecursionlimit() * 2
    body = b64url(b"[" * depth) + b".e30." + b64url(b"x" * 256)
    assert len(body) <= MAX_WEBHOOK_BODY
    assert _status(body, keys) == 401


def test_an_oversized_header_segment_is_refused_before_it_is_decoded(keys: KeyPair) -> None:
    header = json.dumps({"alg": "RS256", "pad": "x" * MAX_HEADER_SEGMENT}).encode()
    assert _status(b64url(header) + b".e30." + b64url(b"sig"), keys) == 401


def test_a_header_one_level_too_deep_is_refused(keys: KeyPair) -> None:
    header = b'{"alg":"RS256","x":' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}"
    assert _status(b64url(header) + b".e30." + b64url(b"sig"), keys) == 401


def test_signed_claims_nested_past_the_recursion_limit_are_a_401(keys: KeyPair) -> None:
    hopeless = b"[" * (sys.getrecursionlimit() * 3)
    assert _status(_signed(hopeless, keys[0]), keys) == 401


def test_an_envelope_layer_nested_too_deep_is_a_400(keys: KeyPair) -> None:
    inner = "[" * (sys.getrecursionlimit() * 3)
    claims = {"data": json.dumps({"eventType": "x", "data": inner}), "iat": NOW, "exp": NOW + 60}
    assert _status(_signed(json.dumps(claims).encode(), keys[0]), keys) == 400


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"1", 0),
        (b"{}", 1),
        (b'{"a":[1,{"b":[]}]}', 4),
        (b'"[[[[{{{{"', 0),
        (b'{"a":"\\"[[[["}', 1),
        (b'["\\\\", [[]]]', 3),
    ],
)
def test_json_depth_ignores_brackets_inside_strings(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth


def test_a_real_header_is_well_inside_the_limits(fixtures_dir: Path) -> None:
    decoded = json.loads((fixtures_dir / "webhook-order-created.decoded.json").read_text())
    header = json.dumps(decoded["jwtHeader"]).encode()
    assert json_depth(header) == 1
    assert len(b64url(header)) < MAX_HEADER_SEGMENT // 10
