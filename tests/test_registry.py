"""Everything public is wired where it must be: the one door re-exports the whole API."""

from __future__ import annotations

import importlib.util
import inspect

import stockbrief
from stockbrief import api


def test_the_package_re_exports_every_public_name_of_the_api() -> None:
    public = {
        name
        for name, value in vars(api).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == api.__name__
        # A subpackage of the same name would shadow the function: those stay in api.
        and importlib.util.find_spec(f"stockbrief.{name}") is None
    }
    assert public <= set(stockbrief.__all__), sorted(public - set(stockbrief.__all__))
    assert stockbrief.__all__ == sorted(stockbrief.__all__)
    for name in stockbrief.__all__:
        assert getattr(stockbrief, name) is not None
