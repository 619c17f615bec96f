"""``make mutants``: mutation testing of the promise-critical modules with mutmut (pinned).

Each module runs on its own, in a scratch copy of ``src/`` and ``tests/`` under
``.mutants/<module>/`` (mutmut edits files in place; the work tree stays untouched and usable),
against only the tests that exercise it (``MODULES``), so one module's run fits in minutes on
a Raspberry-Pi-sized machine. Prints one JSON line per module (mutants, killed, survived,
timeouts) and the surviving mutants' diffs, so a new survivor can be killed or justified.

    make mutants                      # every module below
    make mutants MUTANTS="health wix/webhook"
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_RESUMES = 5
SCRATCH = ROOT / ".mutants"

# All of ``tests/unit/supervisor``, file by file so that the quick tests of the tree come
# first and the property tests (two thirds of the time) last: pytest keeps a directory in
# name order. A new file there is added here too.
_SUPERVISION_SUITE = tuple(
    f"tests/unit/supervisor/test_{name}.py"
    for name in (
        "supervisor_core",
        "supervisor_containment",
        "supervisor_stop",
        "supervisor_stats",
        "supervisor_report",
        "intensity_boundary",
        "supervisor_intensity",
        "supervisor_backoff",
        "supervisor_history",
        "supervisor_faults",
        "supervisor_bus",
        "supervisor_exports",
        "supervisor_properties",
    )
)

MODULES: dict[str, tuple[str, ...]] = {
    # the small ones first
    "health": (
        "tests/unit/test_health.py",
        "tests/unit/web/test_web_status_routes.py",
        "tests/unit/ops/test_health_table.py",
        "tests/unit/ops/test_watchdog_actor.py",
    ),
    "supervisor/_intensity": (
        "tests/unit/supervisor/test_intensity_boundary.py",
        "tests/unit/supervisor/test_supervisor_intensity.py",
    ),
    "spool/machine": (
        "tests/unit/spool/test_spool_machine.py",
        "tests/integration/test_spool_jobs.py",
    ),
    "wix/webhook": (
        "tests/unit/wix/test_wix_webhook.py",
        "tests/unit/wix/test_wix_webhook_hostile.py",
        "tests/unit/wix/test_wix_webhook_jws.py",
        "tests/unit/wix/test_wix_webhook_edges.py",
    ),
    "printing/protocol": (
        "tests/unit/printing/test_printing_protocol.py",
        "tests/unit/printing",
    ),
    "supervisor/_backoff": (
        "tests/unit/supervisor/test_supervisor_backoff.py",
        "tests/unit/supervisor/test_supervisor_exports.py",
    ),
    "supervisor/_outcome": (
        "tests/unit/supervisor/test_supervisor_containment.py",
        "tests/unit/supervisor/test_supervisor_core.py",
    ),
    "supervisor/_history": ("tests/unit/supervisor/test_supervisor_history.py",),
    "supervisor/bus": ("tests/unit/supervisor/test_supervisor_bus.py",),
    "supervisor/faults": (
        "tests/unit/supervisor/test_supervisor_faults.py",
        "tests/unit/supervisor/test_supervisor_exports.py",
    ),
    "supervisor/_stats": ("tests/unit/supervisor/test_supervisor_stats.py",),
    "supervisor/_child": _SUPERVISION_SUITE,
    "supervisor/_supervisor": _SUPERVISION_SUITE,
    "supervisor/_nesting": ("tests/unit/supervisor",),
    "supervisor/_events": ("tests/unit/supervisor",),
    "supervisor/_handle": ("tests/unit/supervisor",),
    "supervisor/_report": ("tests/unit/supervisor",),
    "supervisor/_spec": ("tests/unit/supervisor",),
    "spool/schema": (
        "tests/unit/spool/test_spool_schema.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/db": (
        "tests/integration/test_spool_guarantees.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/db_jobs": ("tests/integration/test_spool_jobs.py",),
    "spool/db_orders": (
        "tests/integration/test_spool_guarantees.py",
        "tests/integration/test_spool_accept.py",
    ),
    "spool/db_memory": ("tests/integration/test_spool_tombstones.py",),
    "spool/db_misc": (
        "tests/integration/test_spool_misc.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/revisions": ("tests/unit/spool/test_spool_revisions.py",),
    "spool/horizons": (
        "tests/unit/spool/test_spool_revisions.py",
        "tests/integration/test_spool_tombstones.py",
        "tests/integration/test_backup_restore.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/client": (
        "tests/integration/test_spool_jobs.py",
        "tests/integration/test_spool_misc.py",
    ),
    "spool/types": ("tests/unit/spool", "tests/integration/test_spool_jobs.py"),
    "spool/db_alerts": ("tests/integration/test_spool_alerts.py",),
    "spool/db_slips": ("tests/integration/test_spool_slips.py",),
    "spool/lock": (
        "tests/integration/test_backup_restore.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/reserve": (
        "tests/unit/spool/test_spool_storage_verdict.py",
        "tests/integration/test_spool_storage.py",
    ),
    "spool/storage": (
        "tests/unit/spool/test_spool_storage_verdict.py",
        "tests/integration/test_spool_storage.py",
    ),
    "actors/intake": (
        "tests/integration/test_intake_edges.py",
        "tests/integration/test_intake_service.py",
        "tests/integration/test_intake_real_shapes.py",  # held pre-orders, payment settling
    ),
    "actors/fetcher": (
        "tests/integration/test_poll_mark_order.py",
        "tests/integration/test_fetcher_progress.py",
        "tests/integration/test_intake_service.py",
    ),
    "actors/printer": (
        "tests/integration/test_tree_restarts.py",
        "tests/integration/test_status_bits.py",
        "tests/integration/test_printing_service.py",
    ),
    "printing/network": (
        "tests/integration/test_printing_network_edges.py",
        "tests/integration/test_printing_network.py",
        "tests/integration/test_printing_truth.py",
        "tests/integration/test_printing_slow_proof.py",
    ),
    "printing/proof": (
        "tests/integration/test_printing_slow_proof.py",
        "tests/integration/test_printing_truth.py",
    ),
}
"""Module (under ``src/wixprint``, no ``.py``) → the quick tests that exercise it, fastest
first (the runner stops at the first failure)."""


def run_module(module: str, tests: tuple[str, ...], *, resume: bool = False) -> dict[str, object]:
    work = SCRATCH / module.replace("/", "_")
    if not (resume and (work / ".mutmut-cache").exists()):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for part in ("src", "tests"):
            shutil.copytree(
                ROOT / part, work / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    python = sys.executable
    runner = (
        f"{python} -m tests.mutation.pytest_status -x -q -p no:cacheprovider -m 'not chaos' "
        + " ".join(tests)
    )
    env = {**os.environ, "PYTHONPATH": str(work / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    target = f"src/wixprint/{module}.py"
    started = datetime.datetime.now(datetime.UTC)
    # mutmut 2.5.1 sometimes stops with "Attribute Mutant.line is required" (its cache loses a
    # line); a new run continues with the untested mutants, so run again while that helps.
    # When a new run stops at the same place again, the mutants left are run one at a time
    # (``mutmut run <id>`` does not meet that crash).
    command = [
        python, "-m", "mutmut", "run", "--paths-to-mutate", target, "--tests-dir", "tests",
        "--runner", runner, "--no-progress", "--simple-output", "-m", "4", "-b", "20",
    ]  # fmt: skip
    untested = None
    for _ in range(MAX_RESUMES):
        _run_mutmut(command, work, env)
        left = sum(1 for _, status in _statuses(work) if status == "untested")
        if left == 0 or left == untested:
            break
        untested = left
    for mutant_id, status in _statuses(work):
        if status == "untested":
            _run_mutmut([*command[:4], str(mutant_id), *command[4:]], work, env)
    statuses = _statuses(work)
    survivors = [
        subprocess.run(
            [python, "-m", "mutmut", "show", str(mutant_id)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        for mutant_id, status in statuses
        if status in ("bad_survived", "bad_timeout", "ok_suspicious")
    ]
    for diff in survivors:
        print(diff, flush=True)
    counts = {s: sum(1 for _, x in statuses if x == s) for _, s in statuses}
    return {
        "module": module,
        "mutants": len(statuses),
        "killed": counts.get("ok_killed", 0),
        "survived": counts.get("bad_survived", 0),
        "timeout": counts.get("bad_timeout", 0),
        "suspicious": counts.get("ok_suspicious", 0),
        "untested": counts.get("untested", 0),
        "date": started.date().isoformat(),
        "minutes": round((datetime.datetime.now(datetime.UTC) - started).seconds / 60, 1),
    }


def _run_mutmut(command: list[str], work: Path, env: dict[str, str]) -> None:
    """Run mutmut, its output shown and kept in ``mutmut.log``; after that crash its worker
    thread keeps the process alive, so a traceback in the log ends it."""
    log_path = work / "mutmut.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=log)
        while process.poll() is None:
            time.sleep(5)
            if "Traceback" in log_path.read_text(errors="replace"):
                time.sleep(5)
                process.kill()
                process.wait()
    print(log_path.read_text(errors="replace")[-3000:], flush=True)


def _statuses(work: Path) -> list[tuple[int, str]]:
    cache = work / ".mutmut-cache"
    if not cache.exists():
        return []
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT id, status FROM Mutant ORDER BY id").fetchall()
    return [(int(i), str(s)) for i, s in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="default: all of MODULES")
    parser.add_argument(
        "--resume", action="store_true", help="continue a module's interrupted run in .mutants/"
    )
    args = parser.parse_args(argv)
    chosen = args.modules or list(MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {' '.join(MODULES)}")
    results = [run_module(m, MODULES[m], resume=args.resume) for m in chosen]
    for result in results:
        print(json.dumps(result), flush=True)
    for result in results:
        if result["mutants"] == 0:  # mutmut could not read the module: nothing was tested
            print(f"{result['module']}: no mutants made; see its mutmut.log", file=sys.stderr)
    passed = all(r["mutants"] and r["survived"] == r["timeout"] == 0 for r in results)
    return 0 if passed else 2


if __name__ == "__main__":
    sys.exit(main())
