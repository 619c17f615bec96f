"""``make mutants`` covers every promise-critical module and names only tests that exist."""

from __future__ import annotations

from pathlib import Path

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
