"""``GET /alarm.wav``: the dashboard's alarm sound comes from the app itself, is a real WAV
and is allowed by the page's CSP (``media-src 'self'``), nothing wider."""

from __future__ import annotations

import io
import wave

from wixprint.web.app import create_app

from .fakes_web import FakeWorld


async def test_the_alarm_sound_is_a_short_loopable_wav_from_the_app() -> None:
    client = create_app(FakeWorld().deps()).test_client()
    response = await client.get("/alarm.wav")
    assert response.status_code == 200
    assert response.content_type == "audio/wav"
    body = await response.get_data(as_text=False)
    with wave.open(io.BytesIO(body)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        seconds = wav.getnframes() / wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    assert 0.5 <= seconds <= 2.0
    assert max(frames[1::2]) > 0x40  # loud enough to be heard
    # It starts and ends in silence, so the loop does not click.
    assert frames[:2] == frames[-2:] == b"\x00\x00"


async def test_the_page_may_play_only_sounds_of_its_own_origin() -> None:
    response = await create_app(FakeWorld().deps()).test_client().get("/")
    directives = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert "media-src 'self'" in directives
    assert "default-src 'none'" in directives
