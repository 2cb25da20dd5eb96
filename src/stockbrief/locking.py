"""One writer or many readers of a store, across processes, with writers served first.

DuckDB lets one process write a file or several read it, never both, and it fails at once
instead of waiting. So every stockbrief process takes a lock on a file beside the store before
it connects: readers share it, a writer has it alone, and both wait (a bounded time, saying so)
instead of failing. A writer first closes a gate that new readers pass through, so a dashboard
under steady traffic cannot starve the daily run: the readers already inside finish, the
writer goes, then the readers waiting at the gate go on.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stockbrief.errors import StoreError

log = logging.getLogger("stockbrief.store")

WRITER_WAIT: Final = 300.0
"""Seconds a writer waits for readers and other writers (``STOCKBRIEF_LOCK_WAIT`` overrides)."""
READER_WAIT: Final = 60.0
"""Seconds a reader waits for a writer (``STOCKBRIEF_READ_WAIT`` overrides)."""
POLL: Final = 0.05


@dataclass
class _Held:
    holders: int
    files: list[int]


_held: dict[Path, _Held] = {}
"""Locks this process holds, by store: nested opens and a server's threads share them."""
_registry = threading.Lock()


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "")
    try:
        return float(text) if text else default
    except ValueError:
        raise StoreError(f"{variable}={text!r} is not a number of seconds") from None


@dataclass
class StoreLock:
    """The lock of one store file, held from :meth:`acquire` to :meth:`release`."""

    path: Path
    shared: bool
    _holding: bool = False

    def acquire(self) -> StoreLock:
        """Wait for the store, then hold it (shared for a reader, alone for a writer); threads
        and nested opens of this process join the hold it already has.

        Raises
        ------
        StoreError
            When the wait runs out, naming who holds the store and what to do.
        """
        with _registry:
            return self._acquire()

    def _acquire(self) -> StoreLock:
        key = self.path.resolve()
        if key in _held:
            _held[key].holders += 1
            self._holding = True
            return self
        if self.shared:
            wait = _seconds("STOCKBRIEF_READ_WAIT", READER_WAIT)
        else:
            wait = _seconds("STOCKBRIEF_LOCK_WAIT", WRITER_WAIT)
        deadline = time.monotonic() + wait
        gate = self._open(".gate")
        data = self._open(".lock")
        try:
            if self.shared:
                self._take(gate, fcntl.LOCK_SH, deadline, "a writer is updating it")
                try:
                    self._take(data, fcntl.LOCK_SH, deadline, "a writer is updating it")
                finally:
                    fcntl.flock(gate, fcntl.LOCK_UN)
                os.close(gate)
                files = [data]
            else:
                self._take(gate, fcntl.LOCK_EX, deadline, "another writer is updating it")
                self._take(data, fcntl.LOCK_EX, deadline, "readers (a dashboard?) are reading it")
                files = [data, gate]
        except BaseException:
            for fd in (gate, data):
                with contextlib.suppress(OSError):
                    os.close(fd)
            raise
        _held[key] = _Held(1, files)
        self._holding = True
        return self

    def release(self) -> None:
        """Let others in (the last nested holder in this process releases the file)."""
        with _registry:
            if not self._holding:
                return
            self._holding = False
            key = self.path.resolve()
            held = _held[key]
            held.holders -= 1
            if held.holders:
                return
            del _held[key]
            for fd in held.files:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _open(self, suffix: str) -> int:
        name = self.path.with_name(self.path.name + suffix)
        try:
            return os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if self.shared:
                # A reader of a store in a read-only folder takes no lock: no writer can be there.
                return os.open(os.devnull, os.O_RDONLY)
            raise StoreError(
                f"{name}: cannot create the store's lock file: {exc.strerror}"
            ) from None

    def _take(self, fd: int, mode: int, deadline: float, why: str) -> None:
        said = False
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            now = time.monotonic()
            if now >= deadline:
                raise StoreError(
                    f"{self.path}: the store is busy ({why}) and stayed so; try again when that "
                    "command has finished, or raise STOCKBRIEF_LOCK_WAIT / STOCKBRIEF_READ_WAIT"
                )
            if not said:
                log.warning("%s: waiting, %s", self.path, why)
                said = True
            time.sleep(min(POLL, deadline - now))
