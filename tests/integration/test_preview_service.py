"""``wixprint preview`` shows what the service prints: the same rendering, byte for byte."""

from __future__ import annotations

import io
from pathlib import Path
from zoneinfo import ZoneInfo

import trio.testing
from PIL import Image

from tests.integration.harness import config_text, fixture_order, open_rig, wait_for
from wixprint.commands.preview import load_raw_order, run_preview
from wixprint.printing.protocol import process_id_request, tag_owner, unframe_job
from wixprint.receipts.preview import detected_profiles, preview_tickets
from wixprint.wix.parse import parse_order


async def test_preview_bytes_are_the_printed_bytes(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        rig.shop.add_order(fixture_order(fixtures_dir, "order-01-delivery.json"))
        text = config_text(tmp_path, rig.shop_url, {n: p.port for n, p in rig.printers.items()})
        config_path = tmp_path / "config.toml"
        config_path.write_text(text)
        service = await rig.start(text)
        await wait_for(
            lambda: len(rig.tickets("kitchen")) >= 1 and len(rig.tickets("counter")) >= 2
        )
        assert rig.config is not None
        # The order as the spool holds it, looked up by its number like `wixprint preview 10231`
        # (with the payment answer the driver slip and receipt waited for).
        raw = await trio.to_thread.run_sync(load_raw_order, "10231", rig.config)
        order = parse_order(raw, ZoneInfo(rig.config.service.timezone)).order
        # model = "auto": the profile each fake printer named (TM-m30III), as the dashboard's
        # preview takes it from the running service.
        profiles = detected_profiles(rig.config, service.ctx.transports)
        compared = 0
        for name, printer in rig.printers.items():
            for strip in printer.tickets:
                assert strip.tag is not None
                owner = tag_owner(strip.tag)
                assert owner is not None
                job_id = owner[0]  # small ids: the window's modulo is the id itself
                [received] = [
                    bytes(r) for r in printer.raw if process_id_request(strip.tag) in bytes(r)
                ]
                body = unframe_job(received, tag=strip.tag)
                # The footer names the job, so these bytes belong to this job alone.
                shown = [
                    p.ticket.data
                    for p in preview_tickets(order, rig.config, job_id=job_id, profiles=profiles)
                    if p.printer.name == name
                ]
                assert body in shown, f"{name}: job {job_id} is not what preview renders"
                compared += 1
        assert compared == 3
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
