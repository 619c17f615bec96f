"""Monitor actor: CPU, memory, disk of the state directory, our own RSS and open files, CPU
temperature and Raspberry Pi throttling, sampled in a worker thread.

Absent sensors are simply absent (None). Thresholds live in the alert rules; this actor only
measures and publishes ``ResourceSample`` events (which also feed the metrics).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import psutil
import trio

from wixprint.actors.context import ActorContext
from wixprint.events import ResourceSample
from wixprint.health import Health

THROTTLED_SYSFS = Path("/sys/devices/platform/soc/soc:firmware/get_throttled")
THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")
NOW_BITS = 0x1 | 0x2 | 0x4 | 0x8
"""Under-voltage, frequency capped, throttled, soft temperature limit: *now*, not since boot."""


def read_temperature() -> float | None:
    sensors = getattr(psutil, "sensors_temperatures", None)
    if sensors is not None:
        with contextlib.suppress(OSError, AttributeError):
            temps = sensors()
            for key in ("cpu_thermal", "coretemp", "k10temp", "cpu-thermal"):
                if temps.get(key):
                    return float(temps[key][0].current)
    with contextlib.suppress(OSError, ValueError):
        return int(THERMAL_ZONE.read_text().strip()) / 1000.0
    return None


def parse_throttled(text: str) -> int | None:
    """``throttled=0x50000`` (vcgencmd) or ``50000`` (sysfs, hex) → the flag bits."""
    value = text.strip().rpartition("=")[2]
    try:
        return int(value, 16)
    except ValueError:
        return None


def sample_blocking(state_dir: str, process: psutil.Process) -> dict[str, float | int | None]:
    """One sample. Blocking (statvfs, /proc): runs in a worker thread."""
    values: dict[str, float | int | None] = {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "memory_percent": psutil.virtual_memory().percent,
        "disk_percent": None,
        "rss_bytes": None,
        "open_files": None,
        "temperature_c": read_temperature(),
        "throttled": None,
    }
    with contextlib.suppress(OSError):
        values["disk_percent"] = psutil.disk_usage(state_dir).percent
    with contextlib.suppress(psutil.Error):
        values["rss_bytes"] = process.memory_info().rss
        values["open_files"] = process.num_fds() if hasattr(process, "num_fds") else None
    with contextlib.suppress(OSError):
        values["throttled"] = parse_throttled(THROTTLED_SYSFS.read_text())
    return values


async def run_monitor(
    ctx: ActorContext, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    process = psutil.Process(os.getpid())
    limiter = trio.CapacityLimiter(1)
    state_dir = ctx.config.service.state_dir
    # The first cpu_percent() call is meaningless (psutil keeps module state): prime it.
    await trio.to_thread.run_sync(psutil.cpu_percent, None, limiter=limiter)
    ctx.health.register("monitor")
    ctx.health.set("monitor", Health.READY)
    task_status.started()
    while True:
        await trio.sleep(ctx.config.monitor.interval)
        values = await trio.to_thread.run_sync(
            sample_blocking, state_dir, process, limiter=limiter, abandon_on_cancel=True
        )
        throttled = values["throttled"]
        ctx.publish(
            ResourceSample(
                at=ctx.wall(),
                cpu_percent=_float(values["cpu_percent"]),
                memory_percent=_float(values["memory_percent"]),
                disk_percent=_float(values["disk_percent"]),
                rss_bytes=_int(values["rss_bytes"]),
                open_files=_int(values["open_files"]),
                temperature_c=_float(values["temperature_c"]),
                throttled_now=None if throttled is None else bool(int(throttled) & NOW_BITS),
            )
        )


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)
