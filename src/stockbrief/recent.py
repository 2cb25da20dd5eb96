"""The last rows of each ticker that the detectors and screens read, kept as blocks.

An engine state keeps :data:`~stockbrief.detectors.LOOKBACK` rows per ticker, inputs and
indicator outputs. As one ``(n_tickers, LOOKBACK)`` array per column (front-padded with NaN for
a ticker with fewer rows) a daily update reads them as views and moves them on by one column,
where a frame of rows costs a conversion to arrays and a gather of every row each day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief import tape
from stockbrief.detectors import LOOKBACK

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DayArray = npt.NDArray[np.int32]

NO_DAY: Final = np.iinfo(np.int32).min
"""The day of a padding slot (a ticker with fewer rows than the blocks hold)."""

_INTEGER_COLUMNS: Final = ("volume",)


def tail_block(
    values: npt.NDArray[Any], offsets: IntArray, width: int, pad: float
) -> npt.NDArray[Any]:
    """The last ``width`` values of each segment as a ``(segments, width)`` block, oldest
    first, front-padded with ``pad`` for a segment with fewer."""
    positions = offsets[1:, None] - width + np.arange(width, dtype=np.int64)[None, :]
    if not positions.size:
        return np.full(positions.shape, pad, dtype=values.dtype)
    valid = positions >= offsets[:-1, None]
    block: npt.NDArray[Any] = np.where(valid, values[np.clip(positions, 0, None)], pad)
    return block


@dataclass
class Recent:
    """Per column a ``(n_tickers, width)`` block of each ticker's last rows, oldest first.

    Attributes
    ----------
    days
        Each row's date as days since 1970-01-01, :data:`NO_DAY` in padding slots.
    values
        Column name -> its block, NaN in padding slots and where the value is missing.
    kept
        Real rows per ticker (the last ``kept`` slots of its blocks).
    """

    days: DayArray
    values: dict[str, FloatArray]
    kept: IntArray

    @property
    def width(self) -> int:
        return int(self.days.shape[1])

    @classmethod
    def of(
        cls,
        columns: Mapping[str, FloatArray],
        days: DayArray,
        offsets: IntArray,
        width: int = LOOKBACK,
    ) -> Recent:
        """The last ``width`` rows of each segment of contiguous columns."""
        return cls(
            tail_block(days, offsets, width, NO_DAY).astype(np.int32),
            {c: tail_block(v, offsets, width, np.nan) for c, v in columns.items()},
            np.minimum(np.diff(offsets), width),
        )

    @classmethod
    def empty(cls, n: int, columns: Sequence[str], width: int = LOOKBACK) -> Recent:
        """Blocks for ``n`` tickers with no rows yet."""
        return cls(
            np.full((n, width), NO_DAY, np.int32),
            {c: np.full((n, width), np.nan) for c in columns},
            np.zeros(n, dtype=np.int64),
        )

    def take(self, rows: IntArray) -> Recent:
        """The blocks of some tickers, by position."""
        return Recent(
            self.days[rows], {c: v[rows] for c, v in self.values.items()}, self.kept[rows]
        )

    @classmethod
    def concat(cls, parts: Sequence[Recent]) -> Recent:
        """The blocks of disjoint ticker sets, one after the other."""
        columns = parts[0].values
        return cls(
            np.concatenate([p.days for p in parts]),
            {c: np.concatenate([p.values[c] for p in parts]) for c in columns},
            np.concatenate([p.kept for p in parts]),
        )

    def placed(self, where: IntArray, n: int) -> Recent:
        """These tickers' blocks at positions ``where`` among ``n`` (the others empty)."""
        grown = Recent.empty(n, list(self.values), self.width)
        grown.days[where] = self.days
        for c, v in self.values.items():
            grown.values[c][where] = v
        grown.kept[where] = self.kept
        return grown

    def moved(self, rows: IntArray, days: DayArray, today: Mapping[str, FloatArray]) -> Recent:
        """The blocks with one new row for the tickers at ``rows`` (every other ticker keeps
        its blocks): new arrays, the blocks read are never written."""
        everyone = rows.size == self.kept.size  # rows are then 0..n-1, in order

        def step(block: npt.NDArray[Any], new: npt.NDArray[Any]) -> npt.NDArray[Any]:
            if everyone:
                return tape.appended(block, new)
            out = block.copy()
            out[rows, :-1] = block[rows, 1:]
            out[rows, -1] = new
            return out

        kept = self.kept.copy()
        kept[rows] = np.minimum(kept[rows] + 1, self.width)
        return Recent(
            step(self.days, days), {c: step(v, today[c]) for c, v in self.values.items()}, kept
        )

    def replaced(self, rows: IntArray, part: Recent, *, in_place: bool = False) -> Recent:
        """The blocks with those of the tickers at ``rows`` replaced by ``part``'s (in these
        arrays when ``in_place``, else in copies)."""
        out = (
            self
            if in_place
            else Recent(
                self.days.copy(), {c: v.copy() for c, v in self.values.items()}, self.kept.copy()
            )
        )
        out.days[rows] = part.days
        for c, v in out.values.items():
            v[rows] = part.values[c]
        out.kept[rows] = part.kept
        return out

    def equals(self, other: Recent) -> bool:
        """Bit for bit the same rows (NaN equal to NaN)."""
        return (
            np.array_equal(self.kept, other.kept)
            and np.array_equal(self.days, other.days)
            and self.values.keys() == other.values.keys()
            and all(
                np.array_equal(v, other.values[c], equal_nan=True) for c, v in self.values.items()
            )
        )

    def rows(self, tickers: Sequence[str]) -> pl.DataFrame:
        """The kept rows as a frame by ticker and date, missing values null (``volume`` an
        integer column), as a full computation's frame has them."""
        full = bool(np.all(self.kept == self.width))  # the common case: every slot a row
        valid = np.arange(self.width)[None, :] >= (self.width - self.kept)[:, None]

        def cells(block: npt.NDArray[Any]) -> npt.NDArray[Any]:
            return block.ravel() if full else block[valid]

        columns = [
            pl.Series("ticker", tickers, dtype=pl.String).gather(
                np.repeat(np.arange(len(tickers)), self.kept)
            ),
            pl.Series("date", cells(self.days), dtype=pl.Int32).cast(pl.Date),
        ]
        for c, v in self.values.items():
            series = pl.Series(c, cells(v), dtype=pl.Float64).fill_nan(None)
            columns.append(series.cast(pl.Int64) if c in _INTEGER_COLUMNS else series)
        return pl.DataFrame(columns)

    @classmethod
    def from_rows(
        cls, frame: pl.DataFrame, tickers: Sequence[str], width: int = LOOKBACK
    ) -> Recent:
        """Blocks from a frame of rows by ticker and date, for ``tickers`` in order (a ticker
        without rows gets none); each keeps its last ``width`` rows."""
        frame = frame.filter(pl.col("ticker").is_in(list(tickers))).sort("ticker", "date")
        runs = frame["ticker"].rle().struct.unnest()
        offsets = np.zeros(runs.height + 1, dtype=np.int64)
        np.cumsum(runs["len"].to_numpy(), out=offsets[1:])
        names = [c for c in frame.columns if c not in ("ticker", "date")]
        found = cls.of(
            {c: frame[c].cast(pl.Float64).fill_null(np.nan).to_numpy() for c in names},
            frame["date"].to_physical().to_numpy().astype(np.int32),
            offsets,
            width,
        )
        where = np.searchsorted(np.asarray(tickers, dtype=object), runs["value"].to_numpy())
        return found.placed(where.astype(np.int64), len(tickers))

    def to_frame(self, tickers: Sequence[str]) -> pl.DataFrame:
        """The blocks as a frame of fixed-size array columns, one row per ticker, to save."""
        width = self.width
        return pl.DataFrame(
            [
                pl.Series("ticker", tickers, dtype=pl.String),
                pl.Series("kept", self.kept, dtype=pl.Int64),
                pl.Series("date", np.ascontiguousarray(self.days), dtype=pl.Array(pl.Int32, width)),
                *(
                    pl.Series(c, np.ascontiguousarray(v), dtype=pl.Array(pl.Float64, width))
                    for c, v in self.values.items()
                ),
            ]
        )

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> tuple[list[str], Recent]:
        """Tickers and blocks of a frame saved by :meth:`to_frame`, or of rows by ticker and
        date (as states were saved before they kept blocks)."""
        if "kept" not in frame.columns:
            tickers = frame["ticker"].unique().sort().to_list()
            return tickers, cls.from_rows(frame, tickers)
        if not frame["ticker"].is_sorted():
            frame = frame.sort("ticker")
        names = [c for c in frame.columns if c not in ("ticker", "kept", "date")]
        return frame["ticker"].to_list(), cls(
            matrix(frame["date"], np.int32),
            {c: matrix(frame[c], np.float64) for c in names},
            frame["kept"].to_numpy().astype(np.int64),
        )


def matrix(column: pl.Series, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A saved array column as a ``(rows, width)`` array (NaN kept), without a copy where it
    can: an update writes only into arrays of its own, so a loaded state may be read-only."""
    kind = column.dtype
    assert isinstance(kind, pl.Array)
    if column.is_empty():
        return np.empty((0, kind.size), dtype=dtype)
    return np.asarray(column.to_numpy(), dtype=dtype).reshape(column.len(), kind.size)
