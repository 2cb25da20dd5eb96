"""Modules loaded on first use, so a command pays only for the libraries it touches.

``stockbrief info`` needs DuckDB and nothing of numba, Jinja or the sentiment model; the
faces import :mod:`stockbrief.api` whole, so its heavy dependencies are bound lazily here.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

_compile_notice: list[Callable[[], None]] = []


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, executed on its first attribute access (at once if loaded)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


@contextmanager
def compile_notice(notify: Callable[[], None]) -> Iterator[None]:
    """Ask for ``notify`` to be called if kernels compile within the block, without importing
    numba: :mod:`stockbrief.indicators` listens when (and only if) it is imported."""
    _compile_notice.append(notify)
    try:
        yield
    finally:
        _compile_notice.remove(notify)


def pending_compile_notice() -> Callable[[], None] | None:
    """The innermost notice asked for by :func:`compile_notice`, if any."""
    return _compile_notice[-1] if _compile_notice else None
