"""The systemd units in ops/systemd: ``systemd-analyze verify`` clean, and the settings that
carry our supervision decisions (watchdog, restart budget, exit 78, alert on failure)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from wixprint.config import SECRET_SOURCES, HttpConfig, ServiceConfig
from wixprint.runner import EXIT_DEADLINE
from wixprint.web.limits import ACTOR_DESCRIPTOR_RESERVE, Limits

UNIT_DIR = Path(__file__).resolve().parents[3] / "ops" / "systemd"
VENV_BIN = "/opt/wix-printer-service/venv/bin/"
SERVICE = "wix-printer-service.service"
ALERT = "wix-printer-alert@.service"
ALERT_INSTANCE = "wix-printer-alert@wix-printer-service.service.service"
CHECK = "wix-printer-healthcheck.service"
TIMER = "wix-printer-healthcheck.timer"
UNITS = (SERVICE, ALERT, CHECK, TIMER)

Entries = list[tuple[str, str, str]]


def systemd_analyze() -> str:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail(
            "systemd-analyze is missing: install Debian's systemd package "
            "(`make ops-deps`, or apt-get install --no-install-recommends systemd)"
        )
    return exe


@pytest.fixture
def unit_copies(tmp_path: Path) -> Path:
    """The units with ExecStart's venv pointing at executables that exist here
    (``verify`` insists that ExecStart's binary exists)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("wixprint", "python"):
        exe = bin_dir / name
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNIT_DIR.iterdir():
        text = unit.read_text(encoding="utf-8")
        (units / unit.name).write_text(text.replace(VENV_BIN, f"{bin_dir}/"), encoding="utf-8")
    return units


def verify(unit: Path) -> tuple[int, str]:
    done = subprocess.run(
        [systemd_analyze(), "verify", "--recursive-errors=no", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


def our_problems(stderr: str, units: Path) -> list[str]:
    """stderr lines about our unit files (other noise of the host is not ours to judge)."""
    names = (str(units), *(unit.partition("@")[0] for unit in UNITS))
    return [line for line in stderr.splitlines() if any(n in line for n in names)]


def parse(name: str) -> Entries:
    """(section, key, value) in file order; keys may repeat, as systemd allows."""
    entries: Entries = []
    section = ""
    for raw in (UNIT_DIR / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def values(entries: Entries, section: str, key: str) -> list[str]:
    return [v for s, k, v in entries if s == section and k == key]


def one(entries: Entries, section: str, key: str) -> str:
    found = values(entries, section, key)
    assert len(found) == 1, f"[{section}] {key}= set {len(found)} times"
    return found[0]


def seconds(span: str) -> float:
    """systemd time spans we use: ``30``, ``30s``, ``2min``, ``10min``, ``1h``."""
    match = re.fullmatch(r"(\d+)\s*(s|sec|min|h)?", span)
    assert match, f"unexpected time span {span!r}"
    unit = {None: 1, "s": 1, "sec": 1, "min": 60, "h": 3600}[match.group(2)]
    return int(match.group(1)) * unit


def test_the_unit_set_is_complete() -> None:
    assert sorted(p.name for p in UNIT_DIR.iterdir()) == sorted(UNITS)


@pytest.mark.parametrize("unit", [SERVICE, ALERT, ALERT_INSTANCE, CHECK, TIMER])
def test_systemd_analyze_verify_is_clean(unit_copies: Path, unit: str) -> None:
    code, stderr = verify(unit_copies / unit)

    assert code == 0, stderr
    assert our_problems(stderr, unit_copies) == []


def test_verify_harness_catches_a_broken_unit(unit_copies: Path) -> None:
    """The check above can fail: a typo'd key and a missing binary are both reported."""
    broken = unit_copies / "broken-printer.service"
    text = (unit_copies / SERVICE).read_text().replace("Restart=on-failure", "Restartt=on-failure")
    broken.write_text(text)
    code, stderr = verify(broken)
    assert code != 0
    assert any("Restartt" in line for line in our_problems(stderr, unit_copies))

    missing = unit_copies / "missing-binary.service"
    missing.write_text((UNIT_DIR / SERVICE).read_text())  # the real /opt path is not here
    assert verify(missing)[0] != 0


def test_hardening_scores_ok_offline(unit_copies: Path) -> None:
    """``systemd-analyze security`` rates 0 (locked down) to 10 (exposed); ours is ~1.5."""
    for unit, limit in ((SERVICE, 2.0), (ALERT_INSTANCE, 2.0), (CHECK, 2.0)):
        done = subprocess.run(
            [systemd_analyze(), "security", "--offline=true", str(unit_copies / unit)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
        assert match, done.stdout + done.stderr
        assert float(match.group(1)) <= limit, f"{unit}: {match.group(0)}"


def test_service_is_notify_with_watchdog_and_a_restart_budget_that_can_trip() -> None:
    unit = parse(SERVICE)
    assert one(unit, "Service", "Type") == "notify"
    assert seconds(one(unit, "Service", "WatchdogSec")) == 30
    assert one(unit, "Service", "Restart") == "on-failure"
    assert "78" in one(unit, "Service", "RestartPreventExitStatus").split()
    # StartLimit* belong in [Unit]; in [Service] they are ignored on current systemd.
    assert values(unit, "Service", "StartLimitIntervalSec") == []
    interval = seconds(one(unit, "Unit", "StartLimitIntervalSec"))
    burst = int(one(unit, "Unit", "StartLimitBurst"))
    restart_sec = seconds(one(unit, "Service", "RestartSec"))
    assert interval > burst * restart_sec, "the start limit could never trip"
    assert seconds(one(unit, "Service", "TimeoutStopSec")) > ServiceConfig().stop_timeout


def test_the_stop_and_its_last_resort_end_before_systemd_kills() -> None:
    """After ``stop_timeout`` the runner gives a cancelled tree ``EXIT_DEADLINE`` more, then
    records the exit and leaves: all of it before ``TimeoutStopSec`` sends SIGKILL."""
    unit = parse(SERVICE)
    last_word = ServiceConfig().stop_timeout + EXIT_DEADLINE
    assert seconds(one(unit, "Service", "TimeoutStopSec")) > last_word


def test_service_failure_mails_through_the_alert_template() -> None:
    unit = parse(SERVICE)
    assert one(unit, "Unit", "OnFailure") == "wix-printer-alert@%n.service"
    alert = parse(ALERT)
    assert one(alert, "Service", "Type") == "oneshot"
    command = one(alert, "Service", "ExecStart").split()
    assert command == [f"{VENV_BIN}python", "-m", "wixprint.commands.failmail", "%i"]
    assert values(alert, "Unit", "OnFailure") == [], "an alert about the alert would loop"


def test_service_runs_the_installed_venv_as_its_own_user() -> None:
    unit = parse(SERVICE)
    command = one(unit, "Service", "ExecStart").split()
    assert command == [f"{VENV_BIN}wixprint", "run", "--config", "/etc/wixprint/config.toml"]
    assert one(unit, "Service", "User") == "wixprint"
    assert "lp" in one(unit, "Service", "SupplementaryGroups").split()
    assert f"/var/lib/{one(unit, 'Service', 'StateDirectory')}" == ServiceConfig().state_dir
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert one(unit, "Service", "PrivateDevices") == "no"
    assert one(unit, "Service", "DevicePolicy") == "closed"
    assert "char-usb rw" in values(unit, "Service", "DeviceAllow")  # /dev/usb/lp* (usblp)


@pytest.mark.parametrize(
    ("name", "needed"),
    [
        (SERVICE, {cred for _sec, _key, _env, cred in SECRET_SOURCES}),
        # They only mail the owner (either route): the Wix key, the admin token and the push
        # tokens are none of their business.
        (ALERT, {"smtp_password", "smtp_fallback_password"}),
        (CHECK, {"smtp_password", "smtp_fallback_password"}),
    ],
)
def test_every_secret_is_an_optional_credential(name: str, needed: set[str]) -> None:
    """Each secret a unit needs is loaded from the credential store by a relative name:
    systemd 252 skips a missing one (a missing absolute path would fail the start)."""
    loaded = dict(v.split(":", 1) for v in values(parse(name), "Service", "LoadCredential"))
    assert set(loaded) == needed
    for cred, source in loaded.items():
        assert source == f"wixprint.{cred}"


def test_health_check_every_few_minutes_degraded_is_not_a_failure() -> None:
    check = parse(CHECK)
    command = one(check, "Service", "ExecStart").split()
    assert command[:2] == [f"{VENV_BIN}wixprint", "check"]
    assert one(check, "Service", "SuccessExitStatus") == "1"
    assert one(check, "Unit", "OnFailure") == "wix-printer-alert@%n.service"
    # The heal step runs as root ("+") and is not skipped for a failed service.
    heal = one(check, "Service", "ExecCondition").split()
    assert heal[:3] == [f"+{VENV_BIN}python", "-m", "wixprint.commands.heal"]
    assert "is-active" not in heal
    assert one(check, "Service", "StateDirectory") == "wixprint-health"
    timer = parse(TIMER)
    assert 60 <= seconds(one(timer, "Timer", "OnUnitActiveSec")) <= 15 * 60
    assert one(timer, "Install", "WantedBy") == "timers.target"


def test_the_service_waits_for_time_sync_and_may_read_the_kernel_clock() -> None:
    """After=time-sync.target (held by systemd-time-wait-sync, which install.sh enables); the
    adjtimex system call is allowed (read-only: no CAP_SYS_TIME), ProtectClock= would filter
    it."""
    unit = parse(SERVICE)
    assert "time-sync.target" in one(unit, "Unit", "After").split()
    assert values(unit, "Service", "ProtectClock") == []
    filters = values(unit, "Service", "SystemCallFilter")
    assert "adjtimex" in filters
    assert filters.index("adjtimex") > filters.index("~@privileged @resources")  # allowed last
    assert one(unit, "Service", "CapabilityBoundingSet") == ""


def test_the_time_wait_drop_in_bounds_the_boot_wait(tmp_path: Path) -> None:
    """Debian's systemd-time-wait-sync waits forever; our drop-in, verified on top of the
    real unit, makes it give up after two minutes (time-sync.target is reached anyway)."""
    base = Path("/lib/systemd/system/systemd-time-wait-sync.service")
    if not base.exists():
        pytest.fail("systemd-time-wait-sync.service is missing: install Debian's systemd package")
    (tmp_path / base.name).write_text(base.read_text())
    drop_ins = tmp_path / f"{base.name}.d"
    drop_ins.mkdir()
    conf = UNIT_DIR.parent / "time-wait-sync.conf"
    (drop_ins / "wixprint.conf").write_text(conf.read_text())
    code, stderr = verify(tmp_path / base.name)
    assert code == 0, stderr
    assert [line for line in stderr.splitlines() if "wixprint.conf" in line] == []
    assert "TimeoutStartSec=2min" in conf.read_text().splitlines()


def test_service_resources_are_bounded_and_fit_the_web_servers_budget() -> None:
    """A flood of connections must not reach the printer actors: the descriptor limit leaves
    the actors their reserve beside the web server's caps (both listeners, defaults); memory
    and threads are capped for a 1 GB Pi."""
    unit = parse(SERVICE)
    nofile = int(one(unit, "Service", "LimitNOFILE"))
    web = Limits.from_config(HttpConfig()).descriptors(listeners=2)
    assert web + ACTOR_DESCRIPTOR_RESERVE <= nofile <= 4096
    memory = one(unit, "Service", "MemoryMax")
    assert re.fullmatch(r"\d+M", memory)
    assert 160 <= int(memory[:-1]) <= 512
    assert 48 <= int(one(unit, "Service", "TasksMax")) <= 256
