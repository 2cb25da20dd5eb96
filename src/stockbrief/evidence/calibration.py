"""Calibration of the verdicts: were the stated odds of a gain right as often as they claimed?

A brief states, from the event study of its leading setup, the share of past occurrences
followed by a gain over :data:`HORIZON` sessions. :func:`calibrate` replays that statement on
every past day: for each ticker's leading setup on day ``D`` it takes the hit rate of the
setup's earlier occurrences (all tickers) whose window had closed by ``D`` (so nothing after
``D`` is read), and later checks whether that ticker's price rose over the next ``HORIZON``
sessions. Binning the stated probabilities gives the reliability table (predicted against
observed), and the Brier score sums up the error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.errors import InputError
from stockbrief.evidence.inputs import _days, _Panel, _panel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HORIZON: Final = 20
"""Sessions over which a verdict's gain is judged, as in the brief."""

MIN_PRIOR: Final = 30
"""Earlier completed occurrences a setup needs before its hit rate is stated as odds."""

BINS: Final = 10
"""Equal-width probability bins of the reliability table."""

VERDICT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "ticker": pl.String(),
    "date": pl.Date(),
    "kind": pl.String(),
    "prior_n": pl.Int64(),
    "predicted": pl.Float64(),
    "outcome": pl.Int64(),
}
"""Columns of :attr:`CalibrationResult.verdicts`, one row per replayed verdict."""

TABLE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "bin_low": pl.Float64(),
    "bin_high": pl.Float64(),
    "n": pl.Int64(),
    "predicted": pl.Float64(),
    "observed": pl.Float64(),
}


@dataclass(frozen=True)
class CalibrationResult:
    """Every replayed verdict, the reliability table and the Brier score."""

    verdicts: pl.DataFrame
    """``ticker, date, kind, prior_n, predicted, outcome`` (outcome 1 when the price rose), in
    the brief's order of kinds, then by date and ticker."""
    table: pl.DataFrame
    brier: float | None
    base_brier: float | None
    """Brier score of stating the overall share of gains on every verdict (a reference)."""

    def summary(self) -> str:
        """The reliability table and the Brier scores, with the method."""
        n = self.verdicts.height
        lines = [
            f"Calibration of stated odds of a gain over {HORIZON} sessions: {n:,} verdicts",
            f"{'stated':>13} {'verdicts':>9} {'predicted':>10} {'observed':>9}",
        ]
        for row in self.table.iter_rows(named=True):
            lines.append(
                f"{row['bin_low']:>5.0%} - {row['bin_high']:<5.0%} {row['n']:>9,} "
                f"{row['predicted']:>10.1%} {row['observed']:>9.1%}"
            )
        if self.brier is not None and self.base_brier is not None:
            lines.append(
                f"Brier score {self.brier:.4f} (stating the overall share of gains every time: "
                f"{self.base_brier:.4f}; lower is better)"
            )
        lines.append(
            "Method: each session D, each ticker's leading setup (first in the brief's order) "
            f"is stated at the hit rate of that setup's earlier occurrences over all tickers "
            f"whose {HORIZON}-session window closed on or before D (at least {MIN_PRIOR} of "
            "them; overlapping windows kept); the outcome is whether the ticker's close "
            f"{HORIZON} sessions later was higher. Only verdicts whose outcome is known count."
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def calibrate(
    prices: pl.DataFrame, occurrences: pl.DataFrame, priority: Sequence[str]
) -> CalibrationResult:
    """Replay the verdicts of every past day and measure how often they came true.

    Parameters
    ----------
    prices
        ``ticker, date, close`` (total-return closes) of the universe.
    occurrences
        ``ticker, date, kind`` of the setups.
    priority
        Setup kinds in the order a brief leads with them; other kinds are ignored.

    Notes
    -----
    For setup ``k`` and an occurrence at date ``D``: ``predicted = rises / n`` over the
    occurrences of ``k`` at sessions ``t`` with ``date(t + HORIZON) <= D``, found by binary
    search on their completion dates, so no verdict reads a later price. ``outcome =
    close[t+HORIZON] > close[t]``. Brier score: mean of ``(predicted - outcome)**2``.
    """
    priority = list(dict.fromkeys(priority))  # a kind listed twice keeps its first place
    if len(priority) > 1 << _RANK_BITS:
        raise InputError(
            f"priority lists {len(priority)} setup kinds; calibrate at most {1 << _RANK_BITS}",
            field="priority",
        )
    panel = _panel(prices, None)
    ends = panel.offsets[1:]
    position, rank = _positions(panel, occurrences, priority)
    # One verdict per ticker and day: the setup the brief would lead with (the rows come
    # sorted by position, then rank).
    first = np.ones(position.size, dtype=np.bool_)
    first[1:] = position[1:] != position[:-1]
    lead_position, lead_rank = position[first], rank[first]
    owner_of = np.repeat(np.arange(panel.offsets.size - 1), np.diff(panel.offsets))
    complete = position + HORIZON < ends[owner_of[position]]
    known = lead_position + HORIZON < ends[owner_of[lead_position]]
    where, kind_rank = _by_kind_and_date(panel, lead_position[known], lead_rank[known])
    prior, chance = _stated(panel, position[complete], rank[complete], where, kind_rank)
    enough = prior >= MIN_PRIOR
    where, kind_rank = where[enough], kind_rank[enough]
    prior, chance = prior[enough], chance[enough]
    verdicts = pl.DataFrame(
        {
            "ticker": panel.tickers.gather(owner_of[where]),
            "date": pl.Series(panel.days[where], dtype=pl.Int32).cast(pl.Date),
            "kind": pl.Series(list(priority), dtype=pl.String).gather(kind_rank),
            "prior_n": prior,
            "predicted": chance,
            "outcome": (panel.close[where + HORIZON] > panel.close[where]).astype(np.int64),
        },
        schema=VERDICT_SCHEMA,
    )
    return CalibrationResult(verdicts, *_reliability(verdicts))


_ROW_BITS: Final = 40
_DAY_BITS: Final = 18
_RANK_BITS: Final = 5
"""Bits of a packed sort key: panel row (up to 2**40 rows), day since the panel's first (up to
700 years) and, above them, the setup's rank (up to 32 kinds)."""


def _by_kind_and_date(
    panel: _Panel, where: npt.NDArray[np.int64], rank: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rows and ranks in the order verdicts are reported: by rank, then date, then row (so
    ticker). One plain sort of packed (rank, day, row) keys, several times faster than a
    stable argsort."""
    day = panel.days[where].astype(np.int64) - (panel.days.min() if panel.days.size else 0)
    keys = np.sort((rank << (_ROW_BITS + _DAY_BITS)) | (day << _ROW_BITS) | where)
    return keys & ((np.int64(1) << _ROW_BITS) - 1), keys >> (_ROW_BITS + _DAY_BITS)


def _stated(
    panel: _Panel,
    done: npt.NDArray[np.int64],
    done_rank: npt.NDArray[np.int64],
    where: npt.NDArray[np.int64],
    where_rank: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """For verdicts at rows ``where`` on setups ``where_rank``: how many earlier occurrences of
    the same setup had completed by the verdict's date, and the share of them that rose.

    One sort of the completed occurrences by packed (setup, completion date, rose) keys and one
    binary search of every verdict's (setup, date) key, so the cost does not grow with the
    number of setups; ``where`` sorted by (setup, date) keeps the search cache-friendly.
    """
    origin = np.int64(panel.days.min()) if panel.days.size else np.int64(0)
    shift = np.int64(1) << (_DAY_BITS + 1)
    finish = panel.days[done + HORIZON].astype(np.int64) - origin
    rose = (panel.close[done + HORIZON] > panel.close[done]).astype(np.int64)
    keys = np.sort(done_rank * shift + (finish << 1) + rose)
    rises = np.concatenate([[0], np.cumsum(keys & 1, dtype=np.int64)])
    kinds = int(where_rank.max(initial=-1)) + 1
    starts = np.searchsorted(keys, np.arange(kinds, dtype=np.int64) * shift)[where_rank]
    day = panel.days[where].astype(np.int64) - origin
    ends = np.searchsorted(keys, where_rank * shift + (day << 1) + 1, side="right")
    prior = (ends - starts).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        chance: npt.NDArray[np.float64] = (rises[ends] - rises[starts]) / prior
    return prior, chance


def _positions(
    panel: _Panel, occurrences: pl.DataFrame, priority: Sequence[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Panel rows and priority ranks of the occurrences of the given kinds, sorted by row then
    rank (one search for all kinds; occurrences off a session of their ticker are ignored, as
    in a study)."""
    # Enum codes number tickers and kinds as the panel and ``priority`` do: no string join.
    joined = (
        occurrences.lazy()
        .select(pl.col("ticker").cast(pl.String), "date", pl.col("kind").cast(pl.String))
        .filter(
            pl.col("kind").is_in(list(priority)) & pl.col("ticker").is_in(panel.tickers.implode())
        )
        .select(
            pl.col("ticker").cast(pl.Enum(panel.tickers.to_list())).to_physical().alias("tid"),
            "date",
            pl.col("kind").cast(pl.Enum(list(priority))).to_physical().alias("rank"),
        )
        .collect()
    )
    lengths = np.diff(panel.offsets)
    shift = np.int64(1) << 32
    keys = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths) * shift + panel.days
    wanted = joined["tid"].to_numpy().astype(np.int64) * shift + _days(joined["date"])
    # Sorted needles keep the search cache-friendly; the rank rides in the low bits of the key.
    width = max(len(priority) - 1, 1).bit_length()
    packed = np.sort((wanted << width) | joined["rank"].to_numpy().astype(np.int64))
    wanted, rank = packed >> width, packed & ((1 << width) - 1)
    at = np.searchsorted(keys, wanted)
    hit = at < keys.size
    hit[hit] = keys[at[hit]] == wanted[hit]
    # Needles sorted by (ticker, day, rank) land on ascending rows, so the pairs come sorted by
    # row then rank; a kind listed twice for one ticker and day counts once.
    pairs = at[hit].astype(np.int64) * len(priority) + rank[hit]
    pairs = pairs[np.concatenate([[True], np.diff(pairs) != 0])] if pairs.size else pairs
    return pairs // len(priority), pairs % len(priority)


def _reliability(verdicts: pl.DataFrame) -> tuple[pl.DataFrame, float | None, float | None]:
    if verdicts.is_empty():
        return pl.DataFrame(schema=TABLE_SCHEMA), None, None
    p = verdicts["predicted"].to_numpy()
    y = verdicts["outcome"].to_numpy().astype(np.float64)
    index = np.minimum((p * BINS).astype(np.int64), BINS - 1)
    rows = []
    for b in range(BINS):
        inside = index == b
        if inside.any():
            rows.append(
                (b / BINS, (b + 1) / BINS, int(inside.sum()), p[inside].mean(), y[inside].mean())
            )
    table = pl.DataFrame(rows, schema=TABLE_SCHEMA, orient="row")
    brier = float(((p - y) ** 2).mean())
    base = float(((y.mean() - y) ** 2).mean())
    return table, brier, base


MIN_BIN: Final = 30
"""Replayed verdicts a bin needs before a brief quotes how often its stated odds came true."""


def track_record(result: CalibrationResult, stated: float) -> dict[str, float | int] | None:
    """How often past verdicts that stated odds like ``stated`` came true.

    Returns the reliability-table row of the bin holding ``stated`` (``bin_low``, ``bin_high``,
    ``n``, ``predicted``, ``observed``) and the Brier scores, or None when that bin holds fewer
    than :data:`MIN_BIN` verdicts (or ``stated`` is not a probability), so a brief never quotes a
    record of a handful of cases.
    """
    if not 0.0 <= stated <= 1.0 or result.table.is_empty():
        return None
    low = min(int(stated * BINS), BINS - 1) / BINS
    row = result.table.filter(pl.col("bin_low") == low)
    if row.is_empty() or row["n"][0] < MIN_BIN:
        return None
    found: dict[str, float | int] = row.row(0, named=True)
    if result.brier is not None and result.base_brier is not None:
        found.update(brier=result.brier, base_brier=result.base_brier)
    return found


def plot_reliability(result: CalibrationResult) -> Figure:
    """Reliability diagram: observed share of gains against the stated odds, per bin."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(5.5, 5.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#90a4ae", linestyle="--", label="perfectly calibrated")
    table = result.table
    ax.plot(
        table["predicted"].to_numpy(),
        table["observed"].to_numpy(),
        "o-",
        color="#1565c0",
        label="verdicts",
    )
    for row in table.iter_rows(named=True):
        ax.annotate(f"{row['n']:,}", (row["predicted"], row["observed"]), fontsize=7)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("stated odds of a gain")
    ax.set_ylabel("observed share of gains")
    brier = f", Brier {result.brier:.4f}" if result.brier is not None else ""
    ax.set_title(f"Calibration over {HORIZON} sessions{brier}", fontsize=9)
    ax.legend(fontsize=8)
    return fig
