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
    rows, priors, predicted, ranks = [], [], [], []
    for k in range(len(priority)):
        done = position[(rank == k) & complete]
        if done.size == 0:
            continue
        finish = panel.days[done + HORIZON]
        rose = (panel.close[done + HORIZON] > panel.close[done]).astype(np.int64)
        by_finish = np.argsort(finish, kind="stable")
        finish, rises = finish[by_finish], np.concatenate([[0], np.cumsum(rose[by_finish])])
        where = lead_position[lead_rank == k]
        where = where[where + HORIZON < ends[owner_of[where]]]
        # Needles in date order keep the binary search cache-friendly.
        where = where[np.argsort(panel.days[where], kind="stable")]
        prior = np.searchsorted(finish, panel.days[where], side="right")
        enough = prior >= MIN_PRIOR
        where, prior = where[enough], prior[enough]
        rows.append(where)
        priors.append(prior.astype(np.int64))
        predicted.append(rises[prior] / prior)
        ranks.append(np.full(where.size, k, dtype=np.int64))
    if rows:
        where, prior = np.concatenate(rows), np.concatenate(priors)
        chance, kind_rank = np.concatenate(predicted), np.concatenate(ranks)
    else:
        where = prior = kind_rank = np.zeros(0, dtype=np.int64)
        chance = np.zeros(0)
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


def _positions(
    panel: _Panel, occurrences: pl.DataFrame, priority: Sequence[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Panel rows and priority ranks of the occurrences of the given kinds, sorted by row then
    rank (one search for all kinds; occurrences off a session of their ticker are ignored, as
    in a study)."""
    rank_of = {kind: i for i, kind in enumerate(priority)}
    found = (
        occurrences.select(pl.col("ticker").cast(pl.String), "date", "kind")
        .filter(pl.col("kind").is_in(list(priority)))
        .with_columns(pl.col("kind").replace_strict(rank_of, return_dtype=pl.Int64).alias("rank"))
    )
    index = pl.DataFrame(
        {"ticker": panel.tickers, "tid": np.arange(panel.tickers.len(), dtype=np.int64)}
    )
    joined = found.join(index, on="ticker", how="inner")
    lengths = np.diff(panel.offsets)
    shift = np.int64(1) << 32
    keys = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths) * shift + panel.days
    wanted = joined["tid"].to_numpy() * shift + _days(joined["date"])
    rank = joined["rank"].to_numpy().astype(np.int64)
    order = np.argsort(wanted, kind="stable")
    wanted, rank = wanted[order], rank[order]
    at = np.searchsorted(keys, wanted)
    hit = at < keys.size
    hit[hit] = keys[at[hit]] == wanted[hit]
    # A kind listed twice for one ticker and day counts once.
    pairs = np.sort(at[hit].astype(np.int64) * len(priority) + rank[hit])
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
