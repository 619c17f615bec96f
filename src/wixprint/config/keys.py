"""The webhook public key, loaded one way for ``config check`` and for the running service,
so a key the check accepts is a key the service uses (and the other way round)."""

from __future__ import annotations

from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = ["MIN_KEY_BITS", "load_public_key"]

MIN_KEY_BITS: Final = 2048
"""Wix signs with RS256 and 2048-bit keys; anything shorter is refused."""


def load_public_key(pem: str) -> RSAPublicKey:
    """The RSA public key from PEM text (a public key or a certificate).

    Tolerates the classic config accident of literal ``\\n`` escapes instead of newlines.
    Raises ``ValueError`` with a message fit for a ``ConfigError`` (never the key text).
    """
    text = pem.strip().replace("\\n", "\n")
    if not text.startswith("-----BEGIN"):
        raise ValueError("webhook public key is not PEM text (expected -----BEGIN PUBLIC KEY-----)")
    data = text.encode("ascii", errors="replace")
    try:
        if "CERTIFICATE" in text.split("\n", 1)[0]:
            key: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise ValueError("webhook public key is not a readable PEM public key") from None
    if not isinstance(key, RSAPublicKey):
        # ValueError on purpose: the config loader turns ValueError into ConfigError.
        raise ValueError("webhook public key is not an RSA key (Wix signs with RS256)")  # noqa: TRY004
    if key.key_size < MIN_KEY_BITS:
        raise ValueError(f"webhook public key is shorter than {MIN_KEY_BITS} bits")
    return key
