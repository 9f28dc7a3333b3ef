"""fewer_collections(): the young-generation threshold is raised for a run and restored after the last one."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from zbsn.core.engine.collector import YOUNG_THRESHOLD, fewer_collections


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_raised_inside_and_restored_after() -> None:
    with fewer_collections():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_runs_restore_only_when_the_last_one_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def second_run() -> None:
        first_in.wait()
        with fewer_collections():
            second_in.set()
            first_out.wait()
            seen.append(gc.get_threshold())  # the first run has ended: still raised for this one

    thread = threading.Thread(target=second_run)
    thread.start()
    with fewer_collections():
        first_in.set()
        second_in.wait()
    first_out.set()
    thread.join()
    assert seen == [(YOUNG_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_the_run_raises() -> None:
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the run failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_already_set_is_kept() -> None:
    gc.set_threshold(50_000, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (50_000, 10, 10)
    assert gc.get_threshold() == (50_000, 10, 10)
