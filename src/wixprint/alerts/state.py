"""The alert engine's memory across restarts, as JSON kept in the spool.

Without it an alerter restart forgot every open problem (no resolved message when one
ended) and a process restart announced ongoing problems again. The alerter saves this in the
same transaction as the messages it writes, so what was announced and what the engine
remembers never disagree. A state that cannot be read (damaged, or from a newer version)
is dropped with a warning: the engine then starts empty, as it did before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from wixprint.alerts.problems import BookState

__all__ = ["STATE_VERSION", "EngineState", "decode_state", "encode_state"]

STATE_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineState:
    version: int = STATE_VERSION
    book: BookState = field(default_factory=BookState)
    one_shots: dict[str, float] = field(default_factory=dict)
    """One-shot alerts (a quarantined ticket) already announced, by key: when."""
    restarts: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Recent restarts per actor (wall-clock times), counted towards "restarting"."""


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(EngineState)


def encode_state(state: EngineState) -> str:
    return _ENCODER.encode(state).decode("utf-8")


def decode_state(text: str) -> EngineState:
    """Raises ValueError for anything but a state of this version."""
    try:
        state = _DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"unreadable alert state: {exc}") from exc
    if state.version != STATE_VERSION:
        raise ValueError(f"alert state version {state.version}, expected {STATE_VERSION}")
    return state
