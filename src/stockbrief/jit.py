"""numba kernels handed to numba on their first call, so importing them costs nothing.

Importing numba and loading stockbrief's cached kernels takes most of a second, more than the
whole daily update of 5,000 tickers. Modules of kernels (:mod:`stockbrief.kernels`,
:mod:`stockbrief.detectors`) mark their functions with :func:`step` and :func:`kernel`, which
only register them; the first call of any kernel imports numba, jits every registered function
and puts the compiled dispatchers where the plain functions were, in every stockbrief module
that holds them. numba resolves a kernel's globals when it compiles it (at that first call),
so the kernels see each other's compiled versions, and later calls go to numba directly.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from stockbrief.lazy import pending_compile_notice

_F = TypeVar("_F", bound=Callable[..., Any])

# error_model="numpy": a division by zero yields inf/nan as in C and Polars instead of raising;
# no fastmath, so every operation keeps TA-Lib's order and rounding.
_STEP: dict[str, Any] = {"inline": "always", "error_model": "numpy"}
_KERNEL: dict[str, Any] = {"parallel": True, "cache": True, "error_model": "numpy"}

_pending: list[tuple[Callable[..., Any], dict[str, Any]]] = []
_launchers: dict[Callable[..., Any], Callable[..., Any]] = {}
_lock = threading.Lock()
_mode = threading.local()
_PLAIN_NUMBA = types.SimpleNamespace(prange=range)
"""What the kernels ask of numba, when they run as plain Python: ``prange`` is ``range``."""


def step(func: _F) -> _F:
    """An inlined numba function that kernels call (registered; plain Python until then)."""
    _pending.append((func, _STEP))
    return func


def kernel(func: _F) -> _F:
    """A parallel, disk-cached numba kernel, compiled (or loaded) on its first call."""
    _pending.append((func, _KERNEL))

    @functools.wraps(func)
    def launch(*args: Any) -> Any:
        if _pending and getattr(_mode, "plain", False):
            func.__globals__.setdefault("numba", _PLAIN_NUMBA)
            return func(*args)
        compile_all()
        return func.__globals__[func.__name__](*args)

    _launchers[func] = launch
    return cast(_F, launch)


@contextmanager
def interpreted() -> Iterator[None]:
    """Within the block, kernels not yet compiled run as plain Python, the same operations in
    the same order (numba keeps IEEE arithmetic without fastmath), for work so small that
    loading numba would cost more than the work: a new listing's daily row."""
    before = getattr(_mode, "plain", False)
    _mode.plain = True
    try:
        yield
    finally:
        _mode.plain = before


def compiled() -> bool:
    """Whether numba has taken the registered functions (numba is then imported)."""
    return not _pending


def compile_all() -> None:
    """Hand every registered function to numba, replacing it wherever a module holds it."""
    if not _pending:
        return
    with _lock:
        if not _pending:
            return
        import numba

        _listen()
        swaps: dict[int, Any] = {}
        for func, options in _pending:
            dispatcher = numba.njit(**options)(func)
            swaps[id(func)] = dispatcher
            launcher = _launchers.get(func)
            if launcher is not None:
                swaps[id(launcher)] = dispatcher
            func.__globals__["numba"] = numba
        for module in list(sys.modules.values()):
            if not getattr(module, "__name__", "").startswith("stockbrief"):
                continue
            names = vars(module)
            for name, value in list(names.items()):
                if id(value) in swaps:
                    names[name] = swaps[id(value)]
        _pending.clear()


def _listen() -> None:
    """Tell the face that asked (:func:`stockbrief.lazy.compile_notice`) when a kernel starts
    compiling: numba broadcasts ``numba:compile`` only after its disk cache missed."""
    from numba.core import event

    told: weakref.WeakSet[Callable[[], None]] = weakref.WeakSet()

    class FirstCompile(event.Listener):
        def on_start(self, ev: event.Event) -> None:
            notify = pending_compile_notice()
            module: str = ev.data["dispatcher"].py_func.__module__
            if notify is None or notify in told or not module.startswith("stockbrief"):
                return
            told.add(notify)
            notify()

        def on_end(self, ev: event.Event) -> None:
            """Nothing: the notice is given when compiling starts."""

    register = cast(Callable[[str, Any], None], event.register)
    register("numba:compile", FirstCompile())
