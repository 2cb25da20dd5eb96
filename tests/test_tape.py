"""Blocks moved on in place stay values: no block anyone holds ever changes."""

from __future__ import annotations

import itertools

import numpy as np

from stockbrief import tape


def moved(block: np.ndarray, column: np.ndarray) -> np.ndarray:
    return np.concatenate([block[:, 1:], column[:, None]], axis=1)


def test_a_chain_of_sessions_moves_in_place_and_every_block_kept_stays_as_it_was() -> None:
    rng = np.random.default_rng(5)
    block = rng.normal(size=(7, 20))
    held = [(block, block.copy())]
    for _ in range(3 * tape.ROOM + 5):  # past the room of several buffers
        column = rng.normal(size=7)
        after = tape.appended(held[-1][0], column)
        want = moved(held[-1][1], column)
        assert np.array_equal(after, want)
        held.append((after, want))
    assert all(np.array_equal(block, copy) for block, copy in held)
    chained = sum(a.base is b.base for (a, _), (b, _) in itertools.pairwise(held))
    assert chained >= 2 * tape.ROOM  # most sessions wrote into the room, not a copy


def test_a_block_extended_twice_gets_a_copy_the_second_time() -> None:
    loaded = tape.appended(np.arange(12.0).reshape(3, 4), np.ones(3))
    assert loaded.base.shape == (3, 4)  # moved once: a copy with no room, as a command needs
    evening = tape.appended(loaded, np.zeros(3))
    first = tape.appended(evening, np.full(3, 1.0))
    second = tape.appended(evening, np.full(3, 2.0))  # a retried session from the same evening
    assert first.base is evening.base
    assert second.base is not evening.base
    assert np.array_equal(first[:, -1], np.full(3, 1.0))
    assert np.array_equal(second[:, -1], np.full(3, 2.0))
    assert np.array_equal(evening[:, -1], np.zeros(3))
    assert np.array_equal(tape.appended(first, np.full(3, 3.0))[:, :-1], first[:, 1:])


def test_read_only_blocks_from_a_saved_state_are_copied() -> None:
    saved = np.arange(8.0).reshape(2, 4)
    saved.setflags(write=False)
    view = saved[:, :]
    after = tape.appended(view, np.array([9.0, 9.0]))
    assert np.array_equal(after, [[1, 2, 3, 9], [5, 6, 7, 9]])
    assert np.array_equal(saved, np.arange(8.0).reshape(2, 4))
