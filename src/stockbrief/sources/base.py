"""The contract every source follows: query -> fetch_raw -> parse.

Only ``fetch_raw`` does I/O (a file read, an HTTP call); ``parse`` is a pure function of the raw
payload, so providers are tested on stored payloads and files on in-memory tables.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, TypeVar

import polars as pl

Raw = TypeVar("Raw")


@dataclass(frozen=True)
class Parsed:
    """Validated rows of one model schema, and how many rows a requested filter removed.

    The frame keeps two provenance columns, ``_file`` and ``_row`` (1-based data row, header
    excluded), so that later checks such as store conflicts can still name the offending line.
    """

    frame: pl.DataFrame
    filtered: int = 0


class Source(ABC, Generic[Raw]):
    """A place data comes from.

    Subclasses implement :meth:`fetch_raw` (all I/O, nothing else) and :meth:`parse` (no I/O,
    raises :class:`stockbrief.errors.InputError` naming file, row and field on bad input).
    """

    @abstractmethod
    def fetch_raw(self) -> Raw:
        """Read or download the payload exactly as the source provides it."""

    @abstractmethod
    def parse(self, raw: Raw) -> Parsed:
        """Turn the payload into validated rows of a model schema."""

    def load(self) -> Parsed:
        """Fetch and parse."""
        return self.parse(self.fetch_raw())
