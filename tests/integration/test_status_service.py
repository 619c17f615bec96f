"""The status surface of the whole running service, as an operator or monitor sees it.

Every route is read over HTTP from the real tree (spool, actors, hypercorn) against the fake
shop and fake printers, on the virtual clock: health moving ok → degraded (paper out) → ok and
ok → down (a spool that cannot write) → ok with its reasons; the recovery status with the
supervision tree after an injected fault, the queues, the recent recovery events and the
restart history of an earlier process; connectivity; orders without customer data; and
``/metrics`` read back with prometheus-client's own parsers. Last, the fleet examples in
``ops/prometheus`` and ``ops/grafana`` are checked (promtool where installed) to name only
metrics the service exports.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.harness import Rig as _Rig
from tests.integration.harness import (
    VirtualWall,
    config_text,
    fixture_order,
    open_rig,
    tune,
    wait_for,
)
from wixprint.app import ServiceOptions, create_service
from wixprint.cli import main
from wixprint.config import load_config_text
from wixprint.runner import HISTORY_FILE
from wixprint.supervisor import HistoryStore, faults
from wixprint.web.metrics import Metrics

ORDER_01 = "order-01-delivery.json"
"""Order 10231: a delivery with the customer's name, phone, street and e-mail."""
CUSTOMER_DATA = (
    "+49 170 1234567",
    "1234567",
    "Schönhauser",
    "Hinterhaus",
    "juergen.weiss@example.de",
    "Jürgen",
    "Weiß",
)


def kitchen_only(rig: _Rig, tmp_path: Path) -> str:
    """One kitchen printer, probed every second: state changes show within a few seconds."""
    text = config_text(tmp_path, rig.shop_url, {"kitchen": rig.printers["kitchen"].port})
    text = tune(text, "printers", probe_interval=1.0)
    return tune(text, "connectivity", interval=1.0, interval_down=1.0)


async def poll_json(
    client: httpx.AsyncClient,
    path: str,
    predicate: Callable[[int, Any], bool],
    limit: float = 60.0,
) -> tuple[int, Any]:
    """GET ``path`` every half second (virtual) until ``predicate(status, body)`` holds."""
    with trio.fail_after(limit):
        while True:
            response = await client.get(path)
            body = response.json()
            if predicate(response.status_code, body):
                return response.status_code, body
            await trio.sleep(0.5)


def find_child(tree: dict[str, Any], name: str) -> dict[str, Any]:
    """A child anywhere in the supervision tree, by name."""
    for child in tree["children"]:
        if child["name"] == name:
            found: dict[str, Any] = child
            return found
        if child["supervisor"] is not None:
            try:
                return find_child(child["supervisor"], name)
            except KeyError:
                pass
    raise KeyError(name)


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_health_goes_degraded_when_paper_runs_out_and_the_queue_shows_it(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        await rig.start(kitchen_only(rig, tmp_path))
        printer = rig.printers["kitchen"]
        async with httpx.AsyncClient(base_url=rig.web_url) as client:
            status, health = await poll_json(client, "/health", lambda s, b: b["status"] == "ok")
            assert status == 200
            assert {"spool", "fetcher", "internet", "printer:kitchen", "alerter"} <= set(
                health["checks"]
            )
            assert all(c["status"] == "ready" for c in health["checks"].values())

            printer.paper_out = True
            status, health = await poll_json(
                client, "/health", lambda s, b: b["status"] == "degraded"
            )
            assert status == 200  # degraded still serves: monitors must not page for paper
            assert health["checks"]["printer:kitchen"] == {
                **health["checks"]["printer:kitchen"],
                "status": "degraded",
                "reason": "paper out",
            }
            assert health["checks"]["spool"]["status"] == "ready"
            _, connectivity = await poll_json(client, "/connectivity/status", lambda s, b: True)
            kitchen = connectivity["printers"]["kitchen"]
            # An Epson out of paper also reports itself offline (DLE EOT 1 bit 3).
            assert (kitchen["online"], kitchen["paper"], kitchen["cover_open"]) == (
                False,
                "out",
                False,
            )
            assert connectivity["internet"]["online"] is True

            # An order arriving now waits in the queue, and the queue says how long.
            rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
            _, recovery = await poll_json(
                client,
                "/recovery/status",
                lambda s, b: (
                    b["queues"].get("kitchen", {}).get("depth", 0) >= 1
                    and (b["queues"]["kitchen"]["oldest_age"] or 0) >= 2
                ),
            )
            assert recovery["queues"]["kitchen"]["printed"] == 0
            metrics = metric_samples((await client.get("/metrics")).text)
            assert metrics[("wixprint_queue_depth", (("printer", "kitchen"),))] == 1
            assert metrics[("wixprint_queue_oldest_age_seconds", (("printer", "kitchen"),))] >= 2
            assert metrics[("wixprint_printer_paper_ok", (("printer", "kitchen"),))] == 0
            assert rig.tickets("kitchen") == []

            printer.paper_out = False
            await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
            _, health = await poll_json(client, "/health", lambda s, b: b["status"] == "ok")
            assert health["checks"]["printer:kitchen"]["reason"] == ""
            _, recovery = await poll_json(
                client, "/recovery/status", lambda s, b: b["queues"]["kitchen"]["depth"] == 0
            )
            assert recovery["queues"]["kitchen"]["printed"] == 1
            recovered = [e for e in recovery["recent"] if e["event"] == "recovery_recorded"]
            assert [e["what"] for e in recovered] == ["printer:kitchen"]
            assert recovered[0]["held"] == 1
            assert recovered[0]["duration"] > 0
        assert "10231" in rig.tickets("kitchen")[0]
        assert "REPRINT" not in rig.tickets("kitchen")[0]


async def test_spool_that_cannot_write_makes_health_down_503_then_recovers(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        service = await rig.start(kitchen_only(rig, tmp_path))
        spool = service.ctx.spool.get()
        async with httpx.AsyncClient(base_url=rig.web_url) as client:
            await poll_json(client, "/health", lambda s, b: b["status"] == "ok")

            # The database refuses every write, as on a full disk or a read-only remount.
            await spool._run(spool._db().execute, "PRAGMA query_only=ON")
            rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
            status, health = await poll_json(
                client, "/health", lambda s, b: b["status"] == "down", limit=30
            )
            assert status == 503
            spool_check = health["checks"]["spool"]
            assert spool_check["status"] == "down"
            assert spool_check["reason"].startswith("cannot write: ")
            assert "readonly" in spool_check["reason"].lower()
            # The printer that tried to claim a job met it (an outage: backed off, not
            # counted), and the tree says so; the fetcher waits without crashing.
            await poll_json(
                client,
                "/recovery/status",
                lambda s, b: (
                    (find_child(b["tree"], "printer:kitchen")["last_error"] or {}).get("error_type")
                    == "SpoolUnwritable"
                ),
                limit=30,
            )
            _, health = await poll_json(
                client,
                "/health",
                lambda s, b: b["checks"]["fetcher"]["status"] == "degraded",
                limit=30,
            )
            assert "read-only" in health["checks"]["fetcher"]["reason"]

            await spool._run(spool._db().execute, "PRAGMA query_only=OFF")
            status, health = await poll_json(
                client, "/health", lambda s, b: b["status"] == "ok", limit=30
            )
            assert status == 200
            assert health["checks"]["spool"] == {**health["checks"]["spool"], "reason": ""}
        await wait_for(lambda: len(rig.tickets("kitchen")) >= 1)
        await trio.sleep(4)  # two more polls
        assert sum("10231" in t for t in rig.tickets("kitchen")) == 1


@asynccontextmanager
async def running_process(rig: _Rig, text: str) -> AsyncIterator[HistoryStore]:
    """One service process as ``runner.serve`` runs it: restart history loaded from the state
    directory first, the process's start and clean exit recorded and flushed."""
    config = load_config_text(text)
    history = HistoryStore(Path(config.service.state_dir) / HISTORY_FILE, flush_delay=0.1)
    history.record_process_start()
    async with trio.open_nursery() as nursery:
        await nursery.start(history.run)
        rig.config = config
        rig.service = create_service(
            config,
            ServiceOptions(
                wall=VirtualWall(), history=history, with_monitor=False, with_watchdog=False
            ),
        )
        await nursery.start(rig.service.run)
        try:
            yield history
        finally:
            await rig.stop()
            history.record_process_exit(0, "stopped")
            nursery.cancel_scope.cancel()  # history.run flushes once more on its way out


async def test_recovery_status_shows_the_tree_after_a_fault_and_earlier_processes(
    tmp_path: Path,
    fixtures_dir: Path,
    thread_clock: trio.testing.MockClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        text = kitchen_only(rig, tmp_path)
        rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
        with faults.armed("fetcher.after_fetch", times=1):
            async with running_process(rig, text):
                async with httpx.AsyncClient(base_url=rig.web_url) as client:
                    _, recovery = await poll_json(
                        client,
                        "/recovery/status",
                        lambda s, b: (
                            find_child(b["tree"], "fetcher")["restarts"] >= 1
                            and b["queues"].get("kitchen", {}).get("printed") == 1
                        ),
                    )
                fetcher = find_child(recovery["tree"], "fetcher")
                assert fetcher["state"] == "running"
                assert fetcher["restarts"] == 1
                assert fetcher["last_error"]["error_type"] == "InjectedFault"
                assert "fetcher.after_fetch" in fetcher["last_error"]["message"]
                assert find_child(recovery["tree"], "printer:kitchen")["restarts"] == 0
                assert recovery["tree"]["state"] == "running"
                services = find_child(recovery["tree"], "services")["supervisor"]
                assert [e["child"] for e in services["recent"]] == ["fetcher"]
                assert services["recent"][0]["delay"] > 0  # restarted after a backoff
                restarted = [e for e in recovery["recent"] if e["event"] == "actor_restarted"]
                assert [(e["actor"], e["error_type"]) for e in restarted] == [
                    ("fetcher", "InjectedFault")
                ]
                assert recovery["queues"]["kitchen"] == {
                    "depth": 0,
                    "oldest_age": None,
                    "printed": 1,
                    "failed": 0,
                    "attention": 0,
                }
                history = recovery["history"]
                assert history["earlier_processes"] == 0
                assert [p["current"] for p in history["processes"]] == [True]
        assert sum("10231" in t for t in rig.tickets("kitchen")) == 1

        # The next process on the same state directory starts with a clean tree and knows
        # what happened before it.
        async with running_process(rig, text), httpx.AsyncClient(base_url=rig.web_url) as client:
            _, recovery = await poll_json(client, "/recovery/status", lambda s, b: True)
            capsys.readouterr()
            code = await trio.to_thread.run_sync(main, ["status", "--url", rig.web_url])
            status_lines = capsys.readouterr().out.splitlines()
        assert find_child(recovery["tree"], "fetcher")["restarts"] == 0
        assert recovery["recent"] == []
        history = recovery["history"]
        assert history["earlier_processes"] == 1
        earlier, current = history["processes"]
        assert (earlier["exit_code"], earlier["reason"], earlier["current"]) == (
            0,
            "stopped",
            False,
        )
        assert earlier["exited_at"] >= earlier["started_at"]
        assert (current["exit_code"], current["current"]) == (None, True)
        assert history["earlier_events"] >= 1
        before = [(e["child"], e["error_type"], e["action"]) for e in history["events"]]
        assert ("fetcher", "InjectedFault", "restart") in before
        # ``wixprint status`` tells the operator the same.
        assert code == 0
        said = [line for line in status_lines if line.startswith("earlier process ")]
        assert len(said) == 1
        assert said[0].startswith(f"earlier process {earlier['pid']}: started ")
        assert said[0].endswith(", exited 0 (stopped)")
        assert status_lines[-1].startswith("restarts on record: 1 (")
    assert sum("10231" in t for t in rig.tickets("kitchen")) == 1  # nothing printed again


async def test_orders_show_tickets_without_customer_data(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen", "counter")) as rig:
        rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
        await rig.start(
            config_text(tmp_path, rig.shop_url, {n: p.port for n, p in rig.printers.items()})
        )
        async with httpx.AsyncClient(base_url=rig.web_url) as client:
            _, body = await poll_json(
                client,
                "/orders",
                lambda s, b: (
                    bool(b["orders"])
                    and all(t["state"] == "printed" for t in b["orders"][0]["tickets"])
                ),
            )
            raw = (await client.get("/orders")).text
            assert (await client.get("/orders?limit=0")).status_code == 400
            one = await client.get("/orders?limit=1")
        assert body["limit"] == 50
        (order,) = body["orders"]
        assert (order["number"], order["status"], order["source"]) == ("10231", "APPROVED", "poll")
        tickets = {(t["receipt"], t["printer"], t["state"], t["reprint"]) for t in order["tickets"]}
        assert tickets == {
            ("kitchen", "kitchen", "printed", False),
            ("driver", "counter", "printed", False),
            ("customer", "counter", "printed", False),
        }
        assert one.json()["limit"] == 1
        for secret in CUSTOMER_DATA:
            assert secret not in raw, secret
            assert json.dumps(secret)[1:-1] not in raw, secret  # nor \\u-escaped
        # The tickets themselves do carry the address: the data exists, /orders just omits it.
        assert any("Schönhauser" in t for t in rig.tickets("counter"))


async def test_metrics_of_the_running_service_parse_with_prometheus_client(
    tmp_path: Path, fixtures_dir: Path, thread_clock: trio.testing.MockClock
) -> None:
    async with open_rig(tmp_path, ("kitchen",)) as rig:
        rig.shop.add_order(fixture_order(fixtures_dir, ORDER_01))
        await rig.start(kitchen_only(rig, tmp_path))
        await wait_for(lambda: len(rig.tickets("kitchen")) == 1)
        async with httpx.AsyncClient(base_url=rig.web_url) as client:
            await poll_json(client, "/health", lambda s, b: b["status"] == "ok")
            classic = await client.get("/metrics")
            openmetrics = await client.get(
                "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
            )
    assert classic.status_code == 200
    assert classic.headers["content-type"].startswith("text/plain; version=0.0.4")
    values = metric_samples(classic.text)
    assert values[("wixprint_up", ())] == 1
    assert values[("wixprint_orders_received_total", (("source", "poll"),))] == 1
    printed = (("printer", "kitchen"), ("receipt", "kitchen"))
    assert values[("wixprint_tickets_printed_total", printed)] == 1
    assert values[("wixprint_print_latency_seconds_count", ())] == 1
    assert values[("wixprint_printer_online", (("printer", "kitchen"),))] == 1
    assert values[("wixprint_internet_online", ())] == 1
    assert values[("wixprint_queue_depth", (("printer", "kitchen"),))] == 0
    assert values[("wixprint_wix_requests_total", (("result", "ok"),))] >= 1

    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")
    families = {f.name: f for f in parse_openmetrics(openmetrics.text)}  # type: ignore[no-untyped-call]
    assert families["wixprint_tickets_printed"].type == "counter"
    assert families["wixprint_print_latency_seconds"].type == "histogram"
    assert families["wixprint_queue_depth"].type == "gauge"


# -- the fleet view: ops/prometheus and ops/grafana -----------------------------------------

OPS = Path(__file__).resolve().parents[2] / "ops"
PROMETHEUS_NAMES = frozenset({"up"})
"""Series Prometheus makes itself, allowed beside the service's own."""
PROMETHEUS_LABELS = frozenset({"job", "instance", "le"})
SERIES_NAME = re.compile(r"\b(wixprint_[a-zA-Z0-9_]*|up)\b(?!\s*\()")
LABEL_USE = re.compile(r"(?:\b(?:by|without)\s*\(([^)]*)\))|([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*\"")


def exported() -> tuple[set[str], set[str]]:
    """(series names, label names) that ``Metrics`` can export."""
    metrics = Metrics()
    names: set[str] = set()
    for family in metrics.registry.collect():
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_count", "_sum", "_created"),
        }.get(family.type, ("",))
        names.update(family.name + suffix for suffix in suffixes)
    labels = {
        label for value in vars(metrics).values() for label in getattr(value, "_labelnames", ())
    }
    return names, labels


def check_expression(expr: str, where: str) -> None:
    names, labels = exported()
    used = set(SERIES_NAME.findall(expr))
    assert used, f"{where}: no metric in {expr!r}"
    unknown = used - names - PROMETHEUS_NAMES
    assert not unknown, f"{where}: {sorted(unknown)} not exported by wixprint"
    used_labels: set[str] = set()
    for group, matcher in LABEL_USE.findall(expr):
        used_labels.update(x.strip() for x in group.split(",") if x.strip())
        if matcher:
            used_labels.add(matcher)
    unknown_labels = used_labels - labels - PROMETHEUS_LABELS
    assert not unknown_labels, f"{where}: labels {sorted(unknown_labels)} are not exported"


def load_yaml(path: Path) -> Any:
    yaml = importlib.import_module("yaml")  # PyYAML (escpos' dependency) ships no type stubs
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def promtool() -> str:
    found = shutil.which("promtool") or shutil.which(
        "promtool", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.fail("promtool is not installed: `make test` fetches it (make promtool-deps)")
    return found


def test_alert_rules_name_only_exported_metrics() -> None:
    rules = load_yaml(OPS / "prometheus" / "wixprint-alerts.yml")
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 10
    assert len({a["alert"] for a in alerts}) == len(alerts)
    for alert in alerts:
        check_expression(alert["expr"], alert["alert"])
        assert alert["labels"]["severity"] in ("critical", "warning", "info"), alert["alert"]
        assert alert["annotations"]["summary"], alert["alert"]
        assert alert["annotations"]["description"], alert["alert"]
    config = load_yaml(OPS / "prometheus" / "prometheus.yml")
    assert config["rule_files"] == ["wixprint-alerts.yml"]
    (job,) = config["scrape_configs"]
    assert (job["job_name"], job["metrics_path"]) == ("wixprint", "/metrics")


def test_promtool_accepts_the_config_and_the_rules_pass_their_tests() -> None:
    tool = promtool()
    folder = OPS / "prometheus"
    for args in (
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "wixprint-alerts.yml"],
        ["test", "rules", "wixprint-alerts.test.yml"],
    ):
        result = subprocess.run(
            [tool, *args], cwd=folder, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"
        assert "SUCCESS" in result.stdout + result.stderr


def grafana_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from grafana_panels(panel.get("panels", []))


def test_grafana_dashboard_names_only_exported_metrics() -> None:
    dashboard = json.loads((OPS / "grafana" / "wixprint-dashboard.json").read_text("utf-8"))
    panels = list(grafana_panels(dashboard["panels"]))
    assert len({p["id"] for p in panels}) == len(panels)
    targets = 0
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            check_expression(target["expr"], f"{panel['title']} {target['refId']}")
            targets += 1
    assert targets >= 20
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert set(variables) == {"datasource", "instance"}
    check_expression(variables["instance"]["definition"], "instance variable")
    # Every family the service exports is on the dashboard somewhere.
    expressions = [t["expr"] for p in panels for t in p.get("targets", [])]
    expressions.append(variables["instance"]["definition"])
    shown = {name for expr in expressions for name in SERIES_NAME.findall(expr)}
    families = {f.name for f in Metrics().registry.collect()}
    missing = {f for f in families if not any(name.startswith(f) for name in shown)}
    assert not missing, f"not on the dashboard: {sorted(missing)}"


@pytest.mark.parametrize(
    "expr",
    [
        "wixprint_tickets_printed_totals > 0",  # a typo in the name
        "wixprint_queue_depth > 0 or wixprint_queue_length > 0",
        "sum by (station) (wixprint_queue_depth) > 0",  # a label it does not have
        'wixprint_printer_online{printr="bar"} == 0',
    ],
)
def test_the_name_check_catches_what_is_not_exported(expr: str) -> None:
    with pytest.raises(AssertionError):
        check_expression(expr, "example")
