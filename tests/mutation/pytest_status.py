"""mutmut's test command: pytest, with every failure reported as exit status 1.

mutmut 2.5.1 counts a mutant as killed only when the test command exits with 1
(``returncode != 1`` is "survived"), but pytest exits with 2 when a test module cannot be
imported (a mutant that breaks the import of the module under test), 4 on a usage error and
5 when no test ran. Each of those is a killed mutant, not a survivor.

    python -m tests.mutation.pytest_status [pytest arguments]
"""

from __future__ import annotations

import sys

import pytest


def main(argv: list[str]) -> int:
    return 0 if pytest.main(argv) == pytest.ExitCode.OK else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
