"""The serving process's garbage collector (``mkfeeds serve``): what a build leaves
alive is kept out of the collector's walks, a rebuild spaces out young collections, and
cyclic garbage is still freed, at the latest after ``FULL_EVERY`` rebuilds. A process-wide
choice of the command, tested here on its own and put back afterwards."""

from __future__ import annotations

import gc
import weakref

import pytest

from mkfeeds.cli import ServingCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def collector():
    thresholds = gc.get_threshold()
    made = ServingCollector()
    yield made
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.collect()


def test_what_is_alive_after_a_build_is_out_of_the_collectors_sight(collector):
    assert gc.get_freeze_count() > 0
    kept = [Node() for _ in range(100)]
    before = gc.get_freeze_count()
    with collector.rebuilding():
        pass
    assert gc.get_freeze_count() >= before + len(kept)


def test_a_rebuild_spaces_out_young_collections_and_puts_the_thresholds_back(collector):
    thresholds = gc.get_threshold()
    with collector.rebuilding():
        assert gc.get_threshold()[0] >= ServingCollector.SPACED
    assert gc.get_threshold() == thresholds
    with pytest.raises(RuntimeError), collector.rebuilding():
        raise RuntimeError("a failed rebuild")
    assert gc.get_threshold() == thresholds


def test_cyclic_garbage_is_freed_within_full_every_rebuilds(collector):
    node = Node()
    alive = weakref.ref(node)
    with collector.rebuilding():
        pass  # the node is frozen with everything else alive now
    del node
    for _ in range(ServingCollector.FULL_EVERY):
        if alive() is None:
            break
        with collector.rebuilding():
            pass
    assert alive() is None


def test_garbage_made_during_a_rebuild_is_freed_when_it_ends(collector):
    with collector.rebuilding():
        node = Node()
        alive = weakref.ref(node)
        del node
    assert alive() is None
