"""Where the chaos suite's seeds come from: a fixed list in ``make test``, one given seed to
replay, a fresh random one only when asked (``make chaos``)."""

from __future__ import annotations

from tests.crash.conftest import QUICK_SEEDS, RANDOM_ENV, SEED_ENV, chaos_seeds


def test_make_test_runs_the_fixed_list_every_time() -> None:
    assert chaos_seeds({}) == chaos_seeds({}) == list(QUICK_SEEDS)
    assert chaos_seeds({SEED_ENV: "", RANDOM_ENV: ""}) == list(QUICK_SEEDS)
    assert len(QUICK_SEEDS) >= 2


def test_a_given_seed_replays_alone_even_in_random_mode() -> None:
    assert chaos_seeds({SEED_ENV: "4711"}) == [4711]
    assert chaos_seeds({SEED_ENV: " 4711 ", RANDOM_ENV: "1"}) == [4711]


def test_random_seeds_only_when_asked() -> None:
    drawn = {chaos_seeds({RANDOM_ENV: "1"})[0] for _ in range(5)}
    assert len(drawn) > 1
    assert all(0 <= s < 2**31 for s in drawn)
