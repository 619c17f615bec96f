"""The hostile-client suite's figures: ``/health`` latency, the service's memory, descriptors
and threads, while the attack mix of ``tests/integration/test_web_hostile.py`` runs and
orders stream through and print.

The service is a real ``wixprint run`` process (default configuration plus a public listener
on 127.0.0.1). This process plays the world: the simulated shop, two fake printers, Wix's
webhook sender, and the attackers (``tests/fakes/hostile.py``): 2 000 half-open requests split
between the listeners (each attacker keeping 500 sockets of its own), 200 websocket clients,
50 clients that never read, a malformed token of every shape, HTTP/2 both ways and a rebound
``Host``. A third process asks ``GET /health`` every ``--health-every`` seconds on a fresh
connection, as a monitor does, from before the attack until every order has printed. Its
figures are given for the whole run and by phase: "flood" while the attackers open their
connections (the fresh /health connection then waits in the kernel's accept queue behind
them), "held" while they hold them and the orders print; ``met_while_held`` judges the target
on the second.

    python bench/bench_hostile.py [--orders 20] [--health-every 0.05]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Any

import httpx
import psutil
import trio
from _common import RssSampler, emit, open_rig, percentile, summary_ms, temp_dir, wix_time
from _process import free_port, open_probe, open_service_process
from prometheus_client.parser import text_string_to_metric_families
from tests.fakes.hostile import server_sockets
from tests.fakes.hostile_mix import Mix, open_hostile_mix

TARGET_HEALTH_P99_S = 0.050
TARGET_RSS_MB = 120.0
MB = 1024 * 1024


def raise_descriptor_limit(wanted: int) -> int:
    """The attackers need their own sockets: the soft limit up to ``wanted`` (or the hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def counters(text: str) -> dict[str, float]:
    """Our HTTP-surface samples from ``/metrics``, keyed ``name{label=value,...}``."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if not family.name.startswith(("wixprint_http", "wixprint_websocket", "wixprint_webhooks")):
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def restarts(tree: dict[str, Any]) -> int:
    total, stack = 0, [tree]
    while stack:
        for child in stack.pop().get("children", []):
            total += int(child.get("restarts", 0))
            if child.get("supervisor"):
                stack.append(child["supervisor"])
    return total


class Peaks:
    """The service process's descriptors and threads, sampled."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.fds = 0
        self.threads = 0

    async def run(self, every: float = 0.1) -> None:
        while True:
            self.fds = max(self.fds, self.process.num_fds())
            self.threads = max(self.threads, self.process.num_threads())
            await trio.sleep(every)


async def run(orders: int, health_every: float, mix: Mix) -> dict[str, object]:
    descriptor_limit = raise_descriptor_limit(4 * mix.hold + 1024)
    with temp_dir("bench-hostile-") as tmp:
        async with open_rig(tmp, print_delay=0.05) as rig:
            port, public_port = free_port(), free_port()
            text = rig.config_text(not_before=wix_time(time.time() - 3600), http_port=port)
            text = text.replace(
                "[http]\n", f'[http]\npublic_host = "127.0.0.1"\npublic_port = {public_port}\n', 1
            )
            config_path = tmp / "config.toml"
            config_path.write_text(text)
            base, public = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{public_port}"
            async with open_service_process(config_path, tmp) as svc:
                rss, peaks = RssSampler(svc.pid), Peaks(svc.pid)
                service = psutil.Process(svc.pid)
                await trio.sleep(2)  # the first poll and probes are done
                rss.sample()
                before_mb = rss.last / MB
                numbers: list[str] = []

                def printed() -> set[str]:
                    return {
                        n
                        for n in numbers
                        if any(n in t.text for t in rig.printers["kitchen"].tickets)
                    }

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(rss.run)
                    nursery.start_soon(peaks.run)
                    async with open_probe(f"{base}/health", health_every, fresh=True) as probe:
                        started = time.perf_counter()
                        cpu_start = cpu_seconds(service)
                        async with (
                            open_hostile_mix(port, public_port, mix, server_pid=svc.pid) as report,
                            httpx.AsyncClient(timeout=30) as client,
                        ):
                            opened_at = time.perf_counter()
                            cpu_flood = cpu_seconds(service) - cpu_start
                            webhooks: dict[int, int] = {}
                            for i in range(orders):
                                order = rig.new_order()
                                numbers.append(str(order["number"]))
                                if i % 2:
                                    response = await client.post(
                                        f"{public}/webhooks/wix", content=rig.webhook_body(order)
                                    )
                                    code = response.status_code
                                    webhooks[code] = webhooks.get(code, 0) + 1
                                await trio.sleep(0.5)
                            with trio.fail_after(300):
                                while printed() != set(numbers):  # noqa: ASYNC110
                                    await trio.sleep(0.1)  # tickets arrive on another task
                            printed_at = time.perf_counter()
                            held_mb = rss.last / MB
                        health = await probe.finish()
                        with trio.fail_after(120):
                            while server_sockets([port, public_port], svc.pid):  # noqa: ASYNC110
                                await trio.sleep(0.1)  # released by another process
                        released_s = time.perf_counter() - started
                        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                            recovery = (await client.get("/recovery/status")).json()
                            metrics = counters((await client.get("/metrics")).text)
                    rss.sample()
                    nursery.cancel_scope.cancel()
    health_p99 = percentile(health.latencies, 0.99)
    held_p99 = percentile(health.between(opened_at, printed_at), 0.99)
    peak_mb = rss.peak / MB
    others_met = (
        peak_mb < TARGET_RSS_MB and len(printed()) == orders and restarts(recovery["tree"]) == 0
    )
    return {
        "bench": "hostile",
        "what": (
            f"{mix.half_open} half-open requests (attacker holds {mix.hold} per listener), "
            f"{mix.websockets} websocket clients, {mix.slow_readers} slow readers, hostile "
            f"tokens, HTTP/2, rebound Host, against a real `wixprint run` while {orders} "
            "orders print"
        ),
        "attack_opened_s": round(opened_at - started, 2),
        "attackers_s": report.seconds,
        "service_cpu_s_during_flood": round(cpu_flood, 2),
        "all_printed_s": round(printed_at - started, 2),
        "sockets_released_s": round(released_s, 2),
        "orders_printed": len(printed()),
        "orders": orders,
        "webhook_answers": webhooks,
        "restarts": restarts(recovery["tree"]),
        "health_ms": summary_ms(health.latencies),
        "health_ms_by_phase": {
            "flood": summary_ms(health.between(started, opened_at)),
            "held": summary_ms(health.between(opened_at, printed_at)),
        },
        "health_answers": health.statuses,
        "health_errors": health.errors,
        "service_rss_mb": {
            "before": round(before_mb, 1),
            "under_attack": round(held_mb, 1),
            "peak": round(peak_mb, 1),
            "after": round(rss.last / MB, 1),
        },
        "service_peak_fds": peaks.fds,
        "service_peak_threads": peaks.threads,
        "server_sockets_peak": report.peak_server_sockets,
        "websockets": {"accepted": report.swarm.accepted, "refused": report.swarm.refused},
        "probes": {
            "tokens": sorted({str(s) for s in report.tokens.values()}),
            "h2_prior_knowledge": report.h2_prior_knowledge,
            "h2c_upgrade": report.h2c_upgrade,
            "rebinding": sorted({str(s) for s in report.rebinding.values()}),
        },
        "metrics": metrics,
        "bench_descriptor_limit": descriptor_limit,
        "target": (
            f"/health p99 under {TARGET_HEALTH_P99_S * 1000:g} ms and service RSS under "
            f"{TARGET_RSS_MB:g} MB while attacked; every order printed; no restart"
        ),
        "met": health_p99 < TARGET_HEALTH_P99_S and others_met,
        "met_while_held": held_p99 < TARGET_HEALTH_P99_S and others_met,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--health-every", type=float, default=0.05, help="seconds")
    parser.add_argument("--half-open", type=int, default=2000)
    parser.add_argument("--hold", type=int, default=500, help="attacker sockets per listener")
    parser.add_argument("--websockets", type=int, default=200)
    parser.add_argument("--slow-readers", type=int, default=50)
    args = parser.parse_args(argv)
    mix = Mix(
        half_open=args.half_open,
        hold=args.hold,
        websockets=args.websockets,
        slow_readers=args.slow_readers,
    )
    emit(trio.run(run, args.orders, args.health_every, mix))
    return 0


if __name__ == "__main__":
    sys.exit(main())
