"""Trading a setup: the equity curve of buying after each occurrence, against buy-and-hold.

A hit rate says how often a setup was followed by a gain; a trader also wants to know what
trading it would have earned after costs, how deep it fell on the way and how it compares with
simply holding the same stocks. :func:`backtest` answers that with no look-ahead: the setup is
known at the close of its session, the position is bought at the next session's open and sold
at the close ``hold`` sessions later.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.errors import InputError
from stockbrief.evidence.core import _non_overlapping
from stockbrief.evidence.inputs import _match, _panel, _require, _whole

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FloatArray = npt.NDArray[np.float64]

SESSIONS_PER_YEAR: Final = 252
"""Sessions in a year, to annualise the Sharpe ratio of daily returns."""

CURVE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "date": pl.Date(),
    "open_positions": pl.Int64(),
    "strategy": pl.Float64(),
    "buy_and_hold": pl.Float64(),
}
"""Columns of :attr:`StrategyResult.curve`: growth of 1 for the strategy and for holding."""


@dataclass(frozen=True)
class StrategyResult:
    """The outcome of :func:`backtest`: per-trade figures, equity curves and their summary."""

    label: str
    hold: int
    cost_bp: float
    trades: pl.DataFrame
    curve: pl.DataFrame
    table: pl.DataFrame

    def summary(self) -> str:
        """A text table: trades, hit rate, mean, max drawdown and Sharpe, beside buy-and-hold."""
        lines = [
            f"Strategy: buy {self.label or 'the setup'} at the next open, sell at the close "
            f"{self.hold} sessions later, {self.cost_bp:g} bp cost each way",
            f"{'':<14} {'trades':>7} {'hit rate':>9} {'mean':>8} {'total':>9} "
            f"{'max drawdown':>13} {'Sharpe':>7}",
        ]
        for row in self.table.iter_rows(named=True):
            trades = f"{row['trades']:,}" if row["trades"] is not None else "-"
            hit = f"{row['hit_rate']:.1%}" if row["hit_rate"] is not None else "-"
            mean = f"{row['mean']:.2%}" if row["mean"] is not None else "-"
            sharpe = f"{row['sharpe']:.2f}" if row["sharpe"] is not None else "n/a"
            lines.append(
                f"{row['name']:<14} {trades:>7} {hit:>9} {mean:>8} {row['total']:>9.1%} "
                f"{row['max_drawdown']:>13.1%} {sharpe:>7}"
            )
        lines.append(
            "Equity: each session the strategy holds an equal weight in every open position "
            "(cash, earning nothing, when none is open); buy-and-hold holds an equal weight in "
            "every stock of the study each session. Hit rate and mean are per trade, after "
            "costs; Sharpe annualises the daily returns' mean over their deviation (x sqrt 252)."
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _max_drawdown(equity: FloatArray) -> float:
    if equity.size == 0:
        return 0.0
    peak = np.maximum.accumulate(np.concatenate([[1.0], equity]))[1:]
    return float((equity / peak - 1.0).min())


def _sharpe(daily: FloatArray) -> float | None:
    sd = float(daily.std(ddof=1)) if daily.size > 1 else 0.0
    return float(daily.mean()) / sd * math.sqrt(SESSIONS_PER_YEAR) if sd > 0 else None


def backtest(
    prices: pl.DataFrame,
    occurrences: pl.DataFrame,
    *,
    hold: int = 20,
    cost_bp: float = 5.0,
    until: dt.date | None = None,
    label: str = "",
) -> StrategyResult:
    """Trade every occurrence of a setup and compare the equity with buy-and-hold.

    Parameters
    ----------
    prices
        ``ticker, date, open, close`` (adjusted, total-return prices), any row order.
    occurrences
        ``ticker, date`` of each setup.
    hold
        Sessions each position is held.
    cost_bp
        Cost of each buy and each sale, in basis points of the traded value.
    until
        As-of date: nothing dated after it is read; a trade counts once it has been sold.

    Notes
    -----
    Occurrence at session ``t``: buy at ``open[t+1]``, sell at ``close[t+hold]``; trade return
    ``close[t+hold] / open[t+1] * (1 - c)**2 - 1`` with ``c = cost_bp / 10,000``. An occurrence
    during a held position of the same ticker is skipped (one position per ticker). Daily
    returns of a position: ``close[t+1] / open[t+1]`` on the first session, close to close
    after, times ``1 - c`` on the first and on the last session; the strategy's daily return is
    the mean over the positions open that session, 0 when none is. Buy-and-hold's is the mean
    close-to-close return of every stock with a price on that session and the one before.
    """
    _require(prices, "prices", ("ticker", "date", "open", "close"), "adjusted open and close")
    hold = _whole(hold, "hold", 1, "a positive whole number of sessions")
    if not isinstance(cost_bp, int | float) or not math.isfinite(cost_bp) or cost_bp < 0:
        raise InputError(f"cost_bp must be a non-negative number, got {cost_bp!r}", field="cost_bp")
    frame = prices.select(
        pl.col("ticker").cast(pl.String), "date", pl.col("open", "close").cast(pl.Float64)
    )
    if until is not None:
        frame = frame.filter(pl.col("date") <= until)
    frame = frame.sort("ticker", "date")
    panel = _panel(frame.select("ticker", "date", "close"), None)
    opens = frame["open"].to_numpy()
    if not (np.isfinite(opens) & (opens > 0)).all():
        raise InputError("prices has a missing or non-positive open; fill or drop it first")
    matched, kind = _match(panel, occurrences, until)
    ends = panel.offsets[1:]
    done = matched.position + hold < ends[matched.ticker]
    position, owner = matched.position[done], matched.ticker[done]
    # A setup on the session of a sale may buy at the next open: no two positions at once.
    kept = _non_overlapping(position, owner, hold)
    position, owner = position[kept], owner[kept]
    c = cost_bp / 10_000
    close = panel.close
    entry = opens[position + 1]
    exit_ = close[position + hold]
    trade = exit_ / entry * (1 - c) ** 2 - 1.0

    sessions, code = np.unique(panel.days, return_inverse=True)
    rows = position[:, None] + np.arange(1, hold + 1)[None, :]
    daily = np.empty(rows.shape)
    daily[:, 0] = close[rows[:, 0]] / entry - 1.0
    if hold > 1:
        daily[:, 1:] = close[rows[:, 1:]] / close[rows[:, :-1]] - 1.0
    daily[:, 0] = (1 + daily[:, 0]) * (1 - c) - 1.0
    daily[:, -1] = (1 + daily[:, -1]) * (1 - c) - 1.0
    where = code[rows].ravel()
    open_count = np.bincount(where, minlength=sessions.size)
    total = np.bincount(where, weights=daily.ravel(), minlength=sessions.size)
    strategy = np.divide(total, open_count, out=np.zeros(sessions.size), where=open_count > 0)

    step = np.full(close.size, np.nan)
    step[1:] = close[1:] / close[:-1] - 1.0
    step[panel.offsets[:-1][panel.offsets[:-1] < close.size]] = np.nan
    known = np.isfinite(step)
    held = np.bincount(code[known], minlength=sessions.size)
    market = np.divide(
        np.bincount(code[known], weights=step[known], minlength=sessions.size),
        held,
        out=np.zeros(sessions.size),
        where=held > 0,
    )
    # The curves start on the first session a trade could be open.
    first = int(code[position + 1].min()) if position.size else sessions.size
    strategy, market = strategy[first:], market[first:]
    equity, holding = np.cumprod(1 + strategy), np.cumprod(1 + market)
    days = pl.Series(sessions[first:], dtype=pl.Int32).cast(pl.Date)
    curve = pl.DataFrame(
        {
            "date": days,
            "open_positions": open_count[first:].astype(np.int64),
            "strategy": equity,
            "buy_and_hold": holding,
        },
        schema=CURVE_SCHEMA,
    )
    n = int(trade.size)
    summary: list[dict[str, Any]] = [
        {
            "name": "strategy",
            "trades": n,
            "hit_rate": float((trade > 0).mean()) if n else None,
            "mean": float(trade.mean()) if n else None,
            "total": float(equity[-1] - 1) if equity.size else 0.0,
            "max_drawdown": _max_drawdown(equity),
            "sharpe": _sharpe(strategy),
        },
        {
            "name": "buy-and-hold",
            "trades": None,
            "hit_rate": None,
            "mean": None,
            "total": float(holding[-1] - 1) if holding.size else 0.0,
            "max_drawdown": _max_drawdown(holding),
            "sharpe": _sharpe(market),
        },
    ]
    trades = pl.DataFrame(
        {
            "ticker": panel.tickers.gather(owner),
            "date": pl.Series(panel.days[position], dtype=pl.Int32).cast(pl.Date),
            "entry": entry,
            "exit": exit_,
            "return": trade,
        }
    )
    return StrategyResult(label or kind, hold, float(cost_bp), trades, curve, pl.DataFrame(summary))


def plot_strategy(result: StrategyResult) -> Figure:
    """Equity of the strategy against buy-and-hold, on its own Agg canvas (nothing shown)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    dates = result.curve["date"].to_list()
    ax.plot(dates, result.curve["strategy"].to_numpy(), color="#1565c0", label="strategy")
    ax.plot(dates, result.curve["buy_and_hold"].to_numpy(), color="#ef6c00", label="buy-and-hold")
    ax.axhline(1.0, color="#37474f", linewidth=0.8)
    ax.set_title(
        f"{result.label or 'setup'}: buy next open, hold {result.hold} sessions, "
        f"{result.cost_bp:g} bp each way",
        fontsize=9,
    )
    ax.set_ylabel("growth of 1")
    ax.legend(fontsize=8)
    return fig
