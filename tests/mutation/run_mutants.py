"""``make mutants``: mutation testing of the promise-critical modules with mutmut (pinned).

Each module runs on its own, in a scratch copy of ``src/`` and ``tests/`` under
``.mutants/<module>/`` (mutmut edits files in place; the work tree stays untouched and usable),
against only the tests that exercise it (``MODULES``), so one module's run fits in minutes on
a Raspberry-Pi-sized machine. Prints one JSON line per module (mutants, killed, survived,
timeouts) and the surviving mutants' diffs, so a new survivor can be killed or justified.
After mutmut, the mutants planted by hand (``PLANTED``: mutmut leaves SQL strings alone) are
run the same way, one at a time, and counted in the JSON line as ``planted``/``planted_killed``.
mutmut 2.5.1's crash ("Attribute Mutant.line is required") can drop mutants from its cache
without a trace: the runner lists the module's mutants itself with mutmut's own code, runs
each one missing from the cache the same way (counted in ``mutants``, ``killed``, ``survived``
and ``timeout``, and apart as ``lost``/``lost_killed``) and leaves out the cache's empty
records, mutants of a line the module does not have (``empty``).

    make mutants                      # every module below
    make mutants MUTANTS="health wix/webhook"
    python -m tests.mutation.run_mutants --planted-only spool/schema   # the planted ones alone
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import json
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.mutation.modules import MODULES
from tests.mutation.planted import PLANTED

ROOT = Path(__file__).resolve().parents[2]
MAX_RESUMES = 5
TIMEOUT_FACTOR = 10
"""A mutant whose tests run longer than this many times the unmutated run is a timeout
(mutmut's own rule)."""
SCRATCH = ROOT / ".mutants"


def plant(source: str, old: str, new: str) -> str:
    """``source`` with its one occurrence of ``old`` replaced by ``new``; a text that is not
    there exactly once (the module changed since the pair was written) stops the run."""
    found = source.count(old)
    if found != 1:
        raise PlantError(f"planted text found {found} times, not once: {old!r}")
    return source.replace(old, new)


class PlantError(ValueError):
    """A planted mutant's old text is not in its module exactly once."""


def check_planted(module: str) -> None:
    """Every planted pair of ``module`` applies to the work tree's source (before a long run)."""
    source = (ROOT / "src" / "wixprint" / f"{module}.py").read_text()
    for old, new in PLANTED.get(module, ()):
        plant(source, old, new)


def run_module(
    module: str, tests: tuple[str, ...], *, resume: bool = False, planted_only: bool = False
) -> dict[str, object]:
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
    result: dict[str, object] = {"module": module}
    if not planted_only:
        result.update(_run_mutmut_over(work, env, python, target, runner))
    planted, survivors = _run_planted(module, work, target, runner, env)
    for diff in survivors:
        print(diff, flush=True)
    result.update(
        planted=planted,
        planted_killed=planted - len(survivors),
        date=started.date().isoformat(),
        minutes=round((datetime.datetime.now(datetime.UTC) - started).seconds / 60, 1),
    )
    return result


def _run_mutmut_over(
    work: Path, env: dict[str, str], python: str, target: str, runner: str
) -> dict[str, object]:
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
    lost, empty = _lost_and_empty(work, target)
    statuses = [(i, status) for i, status in _statuses(work) if i not in empty]
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
    lost_counts, lost_survivors = _run_lost(lost, work, target, runner, env)
    for diff in survivors + lost_survivors:
        print(diff, flush=True)
    counts = {s: sum(1 for _, x in statuses if x == s) for _, s in statuses}
    return {
        "mutants": len(statuses) + len(lost),
        "killed": counts.get("ok_killed", 0) + lost_counts["killed"],
        "survived": counts.get("bad_survived", 0) + lost_counts["survived"],
        "timeout": counts.get("bad_timeout", 0) + lost_counts["timeout"],
        "suspicious": counts.get("ok_suspicious", 0),
        "untested": counts.get("untested", 0),
        "lost": len(lost),
        "lost_killed": lost_counts["killed"],
        "empty": len(empty),
    }


def _lost_and_empty(work: Path, target: str) -> tuple[list[Any], set[int]]:
    """mutmut's own list of ``target``'s mutants (its ``RelativeMutationID``s: line text,
    line number, index on the line) that its cache in ``work`` lacks, and the ids of the
    cache's records that are none of them (``mutmut show`` prints nothing for those)."""
    from mutmut import Context, list_mutations

    source = (work / target).read_text()
    listed = list_mutations(Context(source=source, filename=target, dict_synonyms=[""]))
    cached = {
        (line, number, index): mutant_id
        for mutant_id, line, number, index in _cache_rows(
            work,
            'SELECT m.id, l.line, l.line_number, m."index" FROM Mutant m'
            " JOIN Line l ON m.line = l.id JOIN SourceFile f ON l.sourcefile = f.id"
            " WHERE f.filename = ?",
            (target,),
        )
    }
    keys = {(m.line, m.line_number, m.index) for m in listed}
    lost = [m for m in listed if (m.line, m.line_number, m.index) not in cached]
    return lost, {mutant_id for key, mutant_id in cached.items() if key not in keys}


def _run_lost(
    lost: list[Any], work: Path, target: str, runner: str, env: dict[str, str]
) -> tuple[dict[str, int], list[str]]:
    """Apply each mutant of ``lost`` in the scratch copy ``work`` with mutmut's own code and
    run the tests on it: the outcomes counted, and the survivors' (and timeouts') diffs."""
    from mutmut import Context, mutate

    path = work / target
    original = path.read_text()
    counts = {"killed": 0, "survived": 0, "timeout": 0}
    survivors = []
    try:
        for number, mutation_id in enumerate(lost, 1):
            context = Context(
                source=original, mutation_id=mutation_id, filename=target, dict_synonyms=[""]
            )
            mutated, _ = mutate(context)
            path.write_text(mutated)
            outcome = _run_tests(runner, work, env)
            counts[outcome] += 1
            line = mutation_id.line_number + 1
            print(f"lost {number}/{len(lost)} (line {line}): {outcome}", flush=True)
            if outcome != "killed":
                survivors.append(_diff(original, mutated, target, f"lost mutant, {outcome}"))
    finally:
        path.write_text(original)
    return counts, survivors


def _run_tests(runner: str, work: Path, env: dict[str, str]) -> str:
    """Run the module's tests (mutmut's command) in ``work``: "killed" when they fail,
    "survived" when they pass, "timeout" when they outlast mutmut's limit (then stopped)."""
    baseline = _cache_rows(work, "SELECT value FROM MiscData WHERE key = 'baseline_time_elapsed'")
    timeout = TIMEOUT_FACTOR * float(baseline[0][0]) if baseline else None
    process = subprocess.Popen(
        shlex.split(runner),
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return "timeout"
    return "survived" if status == 0 else "killed"


def _diff(original: str, mutated: str, name: str, label: str) -> str:
    lines = difflib.unified_diff(
        original.splitlines(keepends=True),
        mutated.splitlines(keepends=True),
        name,
        f"{name} ({label})",
        n=1,
    )
    return "".join(lines)


def _run_planted(
    module: str, work: Path, target: str, runner: str, env: dict[str, str]
) -> tuple[int, list[str]]:
    """Plant each of ``module``'s mutants in the scratch copy ``work`` in turn and run its
    tests: the number planted and the survivors' diffs. The file is put back afterwards."""
    path = work / target
    original = path.read_text()
    pairs = PLANTED.get(module, ())
    survivors = []
    try:
        for number, (old, new) in enumerate(pairs, 1):
            mutated = plant(original, old, new)
            path.write_text(mutated)
            outcome = _run_tests(runner, work, env)
            print(f"planted {number}/{len(pairs)}: {outcome}", flush=True)
            if outcome != "killed":
                survivors.append(_diff(original, mutated, f"{module}.py", f"planted {number}"))
    finally:
        path.write_text(original)
    return len(pairs), survivors


def _run_mutmut(command: list[str], work: Path, env: dict[str, str]) -> None:
    """Run mutmut, its output shown and kept in ``mutmut.log``; after that crash its worker
    thread keeps the process alive, so a traceback in the log ends it, with its worker
    process and that one's tests (a worker left running would go on mutating the module
    under the next run), and the module is put back from mutmut's ``.bak`` copy."""
    log_path = work / "mutmut.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=work, env=env, stdout=log, stderr=log, start_new_session=True
        )
        while process.poll() is None:
            time.sleep(5)
            if "Traceback" in log_path.read_text(errors="replace"):
                time.sleep(5)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    for backup in (work / "src").rglob("*.py.bak"):
        backup.replace(backup.with_suffix(""))
    print(log_path.read_text(errors="replace")[-3000:], flush=True)


def _statuses(work: Path) -> list[tuple[int, str]]:
    rows = _cache_rows(work, "SELECT id, status FROM Mutant ORDER BY id")
    return [(int(i), str(s)) for i, s in rows]


def _cache_rows(work: Path, query: str, parameters: tuple[str, ...] = ()) -> list[Any]:
    """The rows of ``query`` on mutmut's cache in ``work`` (none when there is no cache)."""
    cache = work / ".mutmut-cache"
    if not cache.exists():
        return []
    db = sqlite3.connect(cache)
    try:
        return db.execute(query, parameters).fetchall()
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="default: all of MODULES")
    parser.add_argument(
        "--resume", action="store_true", help="continue a module's interrupted run in .mutants/"
    )
    parser.add_argument(
        "--planted-only", action="store_true", help="run only the mutants planted by hand"
    )
    args = parser.parse_args(argv)
    chosen = args.modules or list(PLANTED if args.planted_only else MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {' '.join(MODULES)}")
    for module in chosen:
        try:
            check_planted(module)
        except PlantError as error:
            print(f"{module}: {error}; see tests/mutation/planted.py", file=sys.stderr)
            return 2
    results = [
        run_module(m, MODULES[m], resume=args.resume, planted_only=args.planted_only)
        for m in chosen
    ]
    for result in results:
        print(json.dumps(result), flush=True)
    for result in results:
        if result.get("mutants") == 0:  # mutmut could not read the module: nothing was tested
            print(f"{result['module']}: no mutants made; see its mutmut.log", file=sys.stderr)
    passed = all(
        (args.planted_only or (r["mutants"] and r["survived"] == r["timeout"] == 0))
        and r.get("planted", 0) == r.get("planted_killed", 0)
        for r in results
    )
    return 0 if passed else 2


if __name__ == "__main__":
    sys.exit(main())
