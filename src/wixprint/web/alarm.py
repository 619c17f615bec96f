"""The dashboard's alarm sound, made here (no binary file, no external URL): two short
rising beeps and a pause, as a loopable 16-bit mono WAV served from ``GET /alarm.wav``."""

from __future__ import annotations

import io
import math
import struct
import wave

__all__ = ["alarm_wav"]

RATE = 16_000
_PATTERN: tuple[tuple[float, float], ...] = (
    (880.0, 0.18),
    (0.0, 0.08),
    (1320.0, 0.18),
    (0.0, 0.56),
)
"""(frequency in Hz or 0 for silence, seconds): one second, looped by the page."""
_FADE = 0.01
"""Seconds of fade in and out per beep, so the loop does not click."""


def alarm_wav(volume: float = 0.6) -> bytes:
    frames = bytearray()
    for frequency, seconds in _PATTERN:
        count = round(seconds * RATE)
        fade = round(_FADE * RATE)
        for i in range(count):
            if frequency == 0.0:
                sample = 0.0
            else:
                envelope = min(1.0, i / fade, (count - 1 - i) / fade)
                sample = volume * envelope * math.sin(2 * math.pi * frequency * i / RATE)
            frames += struct.pack("<h", round(sample * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(bytes(frames))
    return out.getvalue()
