"""Trailing-row blocks that move on by one session without copying their rows.

A daily update moves each ``(n_tickers, width)`` block of kept rows on by one column. Copying
the block costs a write of every kept value each session; a block that is a view into a wider
buffer instead takes the new column in the room after its end, and the block read stays as it
was (nothing before the end is written), so engine states stay values: an older state extended
again finds the room taken and gets a copy.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Final

import numpy as np
import numpy.typing as npt

Block = npt.NDArray[Any]

ROOM: Final = 16
"""Least number of columns a new buffer leaves after a block that has moved before (a quarter
of the width when that is more): a copy every ``ROOM`` sessions at most."""

_ends: dict[int, tuple[weakref.ref[np.ndarray[Any, Any]], int]] = {}
"""Per buffer (by id), the column up to which it is written."""
_lock = threading.Lock()


def appended(block: Block, column: Block) -> Block:
    """``block`` without its first column and with ``column`` after its last.

    Written into the room after the block when the block ends where its buffer is written up
    to; into a new buffer otherwise, with room for later columns if the block has moved before.
    """
    n, width = block.shape
    if not n or not width:
        return block.copy()
    base = block.base
    with _lock:
        end = -1
        if isinstance(base, np.ndarray):
            entry = _ends.get(id(base))
            end = entry[1] if entry is not None and entry[0]() is base else -1
            if entry is not None and _ends_at(block, base, end) and end < base.shape[1]:
                base[:, end] = column
                _ends[id(base)] = (entry[0], end + 1)
                return base[:, end + 1 - width : end + 1]
        # Room only for a block that has moved before: a state loaded, moved once and saved
        # (the daily command) pays no more memory than a copy.
        room = max(ROOM, width // 4) if end >= 0 else 0
        buffer = np.empty((n, width + room), dtype=block.dtype)
        buffer[:, : width - 1] = block[:, 1:]
        buffer[:, width - 1] = column
        key = id(buffer)
        _ends[key] = (weakref.ref(buffer, lambda _: _ends.pop(key, None)), width)
    return buffer[:, :width]


def _ends_at(block: Block, base: np.ndarray[Any, Any], end: int) -> bool:
    """Whether ``block`` is the columns of ``base`` that end at column ``end``."""
    if base.ndim != 2 or block.strides != base.strides or block.shape[0] != base.shape[0]:
        return False
    start = (block.ctypes.data - base.ctypes.data) // block.itemsize
    return bool(start + block.shape[1] == end)
