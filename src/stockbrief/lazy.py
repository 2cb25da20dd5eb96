"""Modules loaded on first use, so a command pays only for the libraries it touches.

``stockbrief info`` needs DuckDB and nothing of numba, Jinja or the sentiment model; the
faces import :mod:`stockbrief.api` whole, so its heavy dependencies are bound lazily here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, cast

_compile_notice: list[Callable[[], None]] = []


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, imported on its first attribute access (at once if loaded).

    A proxy rather than :class:`importlib.util.LazyLoader`, whose half-executed module another
    thread can see (a dashboard serves requests on several threads): the first access imports
    under the interpreter's import lock, and every thread then sees the whole module.
    """
    if name in sys.modules:
        return sys.modules[name]
    return cast(ModuleType, _Proxy(name))


class _Proxy:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


@contextmanager
def compile_notice(notify: Callable[[], None]) -> Iterator[None]:
    """Ask for ``notify`` to be called if kernels compile within the block, without importing
    numba: :mod:`stockbrief.kernels` listens when (and only if) it is imported."""
    _compile_notice.append(notify)
    try:
        yield
    finally:
        _compile_notice.remove(notify)


def pending_compile_notice() -> Callable[[], None] | None:
    """The innermost notice asked for by :func:`compile_notice`, if any."""
    return _compile_notice[-1] if _compile_notice else None
