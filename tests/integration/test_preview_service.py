"""``wixprint preview`` shows what the service prints: the same rendering, byte for byte."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

import trio.testing
from PIL import Image

from tests.integration.harness import config_text, fixture_order, open_rig, wait_for
from wixprint.commands.preview import load_raw_order, run_preview
from wixprint.wix.parse import parse_order


async def test_preview_bytes_are_the_printed_bytes(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        rig.shop.add_order(fixture_order(fixtures_dir, "order-01-delivery.json"))
        text = config_text(tmp_path, rig.shop_url, {n: p.port for n, p in rig.printers.items()})
        config_path = tmp_path / "config.toml"
        config_path.write_text(text)
        await rig.start(text)
        await wait_for(
            lambda: len(rig.tickets("kitchen")) >= 1 and len(rig.tickets("counter")) >= 2
        )
        assert rig.config is not None
        # The order as the spool holds it, looked up by its number like `wixprint preview 10231`.
        raw = await trio.to_thread.run_sync(load_raw_order, "10231", rig.config)
        assert parse_order(raw, ZoneInfo(rig.config.service.timezone)).order.number == "10231"
        out, err = io.StringIO(), io.StringIO()
        png = tmp_path / "10231.png"
        code = await trio.to_thread.run_sync(
            lambda: run_preview(
                "10231",
                receipt="driver",
                png=str(png),
                config_arg=str(config_path),
                environ={},
                out=out,
                err=err,
            )
        )
        assert code == 0, err.getvalue()
        assert "=== driver @ counter (48 columns) ===" in out.getvalue()
        assert "Schönhauser Allee 148" in out.getvalue()
        assert Image.open(io.BytesIO(png.read_bytes())).width == 576 + 32
