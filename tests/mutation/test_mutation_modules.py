"""``make mutants`` covers every promise-critical module and names only tests that exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutation import run_mutants
from tests.mutation.run_mutants import MODULES, ROOT

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
            assert Path(ROOT / test).exists(), test


def test_the_supervision_suite_is_the_whole_supervision_directory() -> None:
    """Listed file by file (quick ones first): a new file there must not be left out."""
    listed = run_mutants.MODULES["supervisor/_supervisor"]
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

    def unread(module: str, tests: tuple[str, ...], *, resume: bool = False) -> dict[str, object]:
        return {"module": module, "mutants": 0, "killed": 0, "survived": 0, "timeout": 0}

    monkeypatch.setattr(run_mutants, "run_module", unread)
    assert run_mutants.main(["health"]) == 2
    assert "health: no mutants made" in capsys.readouterr().err
