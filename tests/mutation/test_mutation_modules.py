"""``make mutants`` covers every promise-critical module and names only tests that exist."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutation import run_mutants
from tests.mutation.modules import MODULES
from tests.mutation.planted import PLANTED
from tests.mutation.run_mutants import ROOT

PACKAGE = ROOT / "src" / "wixprint"
CRITICAL_PACKAGES = ("spool", "supervisor")
CRITICAL_MODULES = (
    "actors/intake",
    "actors/fetcher",
    "actors/printer",
    "printing/network",
    "printing/proof",
    "printing/protocol",
    "wix/webhook",
    "health",
)


def test_every_promise_critical_module_is_listed() -> None:
    wanted = set(CRITICAL_MODULES)
    for package in CRITICAL_PACKAGES:
        wanted.update(
            f"{package}/{path.stem}"
            for path in (PACKAGE / package).glob("*.py")
            if path.stem != "__init__"
        )
    assert wanted <= set(MODULES), sorted(wanted - set(MODULES))


def test_each_module_and_its_tests_exist() -> None:
    for module, tests in MODULES.items():
        assert (PACKAGE / f"{module}.py").is_file(), module
        assert tests, module
        for test in tests:
            path, _, name = test.partition("::")  # a file, a folder, or one test of a file
            assert Path(ROOT / path).exists(), test
            if name:
                function = name.split("[")[0]
                assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8"), test


def test_the_supervision_suite_is_the_whole_supervision_directory() -> None:
    """Listed file by file (quick ones first): a new file there must not be left out."""
    listed = MODULES["supervisor/_supervisor"]
    directory = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / "tests/unit/supervisor").glob("test_*.py")
    )
    assert sorted(listed) == directory


def _status(tmp_path: Path, test_text: str) -> int:
    (tmp_path / "test_case.py").write_text(test_text)
    command = [sys.executable, "-m", "tests.mutation.pytest_status", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, str(tmp_path / "test_case.py")], cwd=ROOT, capture_output=True, check=False
    ).returncode


def test_a_mutant_that_breaks_the_import_counts_as_killed(tmp_path: Path) -> None:
    """mutmut takes only exit status 1 for killed; pytest's 2 (collection error) must map to it."""
    assert _status(tmp_path, "raise ValueError('broken import')\n") == 1
    assert _status(tmp_path, "def test_fails() -> None:\n    assert False\n") == 1
    assert _status(tmp_path, "X = 1\n") == 1  # no test ran
    assert _status(tmp_path, "def test_passes() -> None:\n    pass\n") == 0


def test_a_module_mutmut_could_not_read_is_not_a_pass(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """mutmut's parser refused a module (``async with (a, b):``) and made no mutants: the
    runner said 0 survivors and exit status 0, as if the module were fully covered."""

    def unread(
        module: str, tests: tuple[str, ...], *, resume: bool = False, planted_only: bool = False
    ) -> dict[str, object]:
        return {"module": module, "mutants": 0, "killed": 0, "survived": 0, "timeout": 0}

    monkeypatch.setattr(run_mutants, "run_module", unread)
    assert run_mutants.main(["health"]) == 2
    assert "health: no mutants made" in capsys.readouterr().err


def test_every_planted_mutant_applies_once_to_its_module() -> None:
    for module, pairs in PLANTED.items():
        assert module in MODULES
        assert pairs, module
        run_mutants.check_planted(module)


def test_a_planted_text_not_in_its_module_stops_the_run_before_it_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pair written for an older module would plant nothing and count as a survivor (or,
    found twice, plant the wrong place): the runner refuses before any mutmut run."""

    def never(module: str, tests: tuple[str, ...], **_: bool) -> dict[str, object]:
        raise AssertionError("ran although a planted text is missing")

    monkeypatch.setattr(run_mutants, "run_module", never)
    monkeypatch.setitem(PLANTED, "health", (("no such text", "x"),))
    assert run_mutants.main(["health"]) == 2
    assert capsys.readouterr().err == (
        "health: planted text found 0 times, not once: 'no such text';"
        " see tests/mutation/planted.py\n"
    )
    with pytest.raises(run_mutants.PlantError, match="found 2 times"):
        run_mutants.plant("a a", "a", "b")
    assert run_mutants.plant("a b", "a", "c") == "c b"


def test_a_surviving_planted_mutant_is_not_a_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def one_survivor(module: str, tests: tuple[str, ...], **_: bool) -> dict[str, object]:
        return {"module": module, "mutants": 1, "killed": 1, "survived": 0, "timeout": 0}

    monkeypatch.setattr(run_mutants, "run_module", one_survivor)
    assert run_mutants.main(["health"]) == 0
    monkeypatch.setattr(
        run_mutants,
        "run_module",
        lambda *a, **k: {**one_survivor(*a), "planted": 2, "planted_killed": 1},
    )
    assert run_mutants.main(["health"]) == 2


def _tiny_run(work: Path) -> tuple[dict[str, str], str]:
    """A tiny module and its test in ``work``, with mutmut run over it for real: the tests'
    environment and command."""
    (work / "src").mkdir()
    (work / "tests").mkdir()
    (work / "src" / "tiny.py").write_text(
        "def double(x: int) -> int:\n    return x * 2\n\n\nLIMIT = 10\n"
    )
    (work / "tests" / "test_tiny.py").write_text(
        "from tiny import double\n\n\ndef test_double() -> None:\n    assert double(3) == 6\n"
    )
    env = {**os.environ, "PYTHONPATH": str(work / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    runner = f"{sys.executable} -m pytest -x -q -p no:cacheprovider tests/test_tiny.py"
    command = [
        sys.executable, "-m", "mutmut", "run", "--paths-to-mutate", "src/tiny.py",
        "--tests-dir", "tests", "--runner", runner, "--no-progress", "--simple-output",
        "--test-time-base", "60",  # a slow test on a busy machine is no "suspicious" kill
    ]  # fmt: skip
    subprocess.run(command, cwd=work, env=env, capture_output=True, check=False)
    return env, runner


def test_mutants_lost_from_mutmuts_cache_are_found_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """mutmut 2.5.1's crash drops mutants from its cache and leaves records of lines the module
    does not have: the runner runs the dropped ones itself and leaves the empty ones out."""
    env, runner = _tiny_run(tmp_path)
    db = sqlite3.connect(tmp_path / ".mutmut-cache")
    rows = db.execute(
        "SELECT m.id, l.line, m.status FROM Mutant m JOIN Line l ON m.line = l.id ORDER BY m.id"
    ).fetchall()
    assert [(line, status) for _, line, status in rows] == [
        ("    return x * 2", "ok_killed"),
        ("    return x * 2", "ok_killed"),
        ("LIMIT = 10", "bad_survived"),
        ("LIMIT = 10", "bad_survived"),
    ]
    # lose one killed and one surviving mutant; add a record of a line that is not there
    db.execute("DELETE FROM Mutant WHERE id IN (?, ?)", (rows[0][0], rows[2][0]))
    db.execute(
        "INSERT INTO Line (sourcefile, line, line_number) SELECT sourcefile, 'LIMIT = 11', 4"
        " FROM Line LIMIT 1"
    )
    db.execute(
        'INSERT INTO Mutant (line, "index", tested_against_hash, status)'
        " VALUES (last_insert_rowid(), 0, '', 'bad_survived')"
    )
    # a slow run on a busy machine is no timeout (mutmut's limit: 10 times the unmutated run)
    db.execute("UPDATE MiscData SET value = '60' WHERE key = 'baseline_time_elapsed'")
    db.commit()
    db.close()
    monkeypatch.setattr(run_mutants, "_run_mutmut", lambda *_: None)  # it crashed: no more
    result = run_mutants._run_mutmut_over(tmp_path, env, sys.executable, "src/tiny.py", runner)
    assert result == {
        "mutants": 4,
        "killed": 2,
        "survived": 2,
        "timeout": 0,
        "suspicious": 0,
        "untested": 0,
        "lost": 2,
        "lost_killed": 1,
        "empty": 1,
    }
    out = capsys.readouterr().out
    assert "lost 1/2 (line 2): killed" in out
    assert "lost 2/2 (line 5): survived" in out
    assert "+++ src/tiny.py (lost mutant, survived)" in out
    assert (tmp_path / "src" / "tiny.py").read_text().endswith("LIMIT = 10\n")  # put back
