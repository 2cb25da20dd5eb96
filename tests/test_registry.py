"""Everything public is wired where it must be: the one door re-exports the whole API."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil

import stockbrief
from stockbrief import api


def test_the_package_re_exports_every_public_name_of_the_api() -> None:
    public = {
        name
        for name, value in vars(api).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == api.__name__
    }
    assert public <= set(stockbrief.__all__), sorted(public - set(stockbrief.__all__))
    assert stockbrief.__all__ == sorted(stockbrief.__all__)
    for name in stockbrief.__all__:
        assert getattr(stockbrief, name) is not None


def test_no_module_shadows_a_public_name() -> None:
    """Importing every submodule leaves each door name the API's own, callable."""
    for found in pkgutil.walk_packages(stockbrief.__path__, "stockbrief."):
        if not found.name.endswith("__main__") and ".web" not in found.name:
            importlib.import_module(found.name)
    modules = {m.name.rpartition(".")[2] for m in pkgutil.iter_modules(stockbrief.__path__)}
    assert not modules & set(stockbrief.__all__), sorted(modules & set(stockbrief.__all__))
    for name in ("brief", "events", "indicators", "screen", "doctor"):
        assert getattr(stockbrief, name) is getattr(api, name)
        assert callable(getattr(stockbrief, name))
