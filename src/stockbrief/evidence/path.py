"""The average path after a setup, and the study's figure."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from stockbrief.errors import InputError
from stockbrief.evidence.core import _non_overlapping
from stockbrief.evidence.explain import StudyResult, _pct
from stockbrief.evidence.inputs import _horizons, _match, _overlap, _panel
from stockbrief.evidence.rules import PATH_SCHEMA, Overlap

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# --------------------------------------------------------------------------------------------
# Average path and plot


def average_path(
    source: StudyResult | tuple[pl.DataFrame, pl.DataFrame],
    max_horizon: int | None = None,
    *,
    until: dt.date | None = None,
    overlap: Overlap | None = None,
) -> pl.DataFrame:
    """Mean cumulative return at each session after the occurrences, for a plot of the path.

    Parameters
    ----------
    source
        A :class:`StudyResult` (its prices, occurrences, as-of date and overlap rule are used)
        or a ``(prices, occurrences)`` pair as :func:`study` takes them.
    max_horizon
        Last session offset; default the study's longest horizon (required for a pair).
    until, overlap
        As in :func:`study` (overlap default ``"skip"``); only for a ``(prices, occurrences)``
        pair, since a result keeps its own.

    Returns
    -------
    polars.DataFrame
        ``offset, n, mean, median, hit_rate`` for offsets ``1 .. max_horizon``.

    Notes
    -----
    The path at offset ``k`` is the mean of ``close[t+k] / close[t] - 1`` over one fixed set of
    occurrences: those whose ``max_horizon`` window completed on or before the as-of date,
    thinned by the overlap rule with ``h = max_horizon``, so every offset averages the same
    occurrences (``n`` is constant).
    """
    if isinstance(source, StudyResult):
        if until is not None or overlap is not None:
            raise InputError(
                "until and overlap come from the study; pass them to study(), not here"
            )
        if source._inputs is None:
            raise InputError("this StudyResult carries no inputs; pass (prices, occurrences)")
        panel, matched = source._inputs
        chosen_overlap = source.overlap
        horizon = max(source.horizons) if max_horizon is None else max_horizon
    else:
        if max_horizon is None:
            raise InputError("max_horizon is required with (prices, occurrences)")
        prices, occurrences = source
        panel = _panel(prices, until)
        matched, _ = _match(panel, occurrences, until)
        chosen_overlap = _overlap(overlap or "skip")
        horizon = max_horizon
    (horizon,) = _horizons([horizon])
    completed = matched.position + horizon < panel.offsets[1:][matched.ticker]
    position, owner = matched.position[completed], matched.ticker[completed]
    if chosen_overlap == "skip":
        position = position[_non_overlapping(position, owner, horizon)]
    start = panel.close[position]
    rows: list[tuple[int, int, float | None, float | None, float | None]] = []
    for k in range(1, horizon + 1):
        path = panel.close[position + k] / start - 1.0
        if path.size:
            rows.append(
                (k, path.size, float(path.mean()), float(np.median(path)), float((path > 0).mean()))
            )
        else:
            rows.append((k, 0, None, None, None))
    return pl.DataFrame(rows, schema=PATH_SCHEMA, orient="row")


def plot(result: StudyResult, path: pl.DataFrame | None = None) -> Figure:
    """Histogram of forward returns per horizon, and the average path after the setup.

    Parameters
    ----------
    result
        A study.
    path
        Output of :func:`average_path`; computed from ``result`` when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        On its own Agg canvas, outside pyplot; nothing is written or shown.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    if path is None:
        path = average_path(result)
    k = len(result.horizons)
    fig = Figure(figsize=(3.6 * max(k, 2), 7.0), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, k)
    title = "Event study" + (f": {result.label}" if result.label else "")
    fig.suptitle(title)
    percent = PercentFormatter(1.0, decimals=0)
    for i, h in enumerate(result.horizons):
        ax = fig.add_subplot(grid[0, i])
        row = result.row(h)
        values = result.returns.filter(pl.col("horizon") == h)["forward_return"].to_numpy()
        if values.size:
            ax.hist(values, bins=min(50, max(10, values.size // 20)), color="#90a4ae")
            ax.axvline(float(values.mean()), color="#1565c0", label="setup mean")
        if row["base_mean"] is not None:
            ax.axvline(row["base_mean"], color="#ef6c00", linestyle="--", label="all days mean")
        ax.axvline(0.0, color="#37474f", linewidth=0.8)
        ax.xaxis.set_major_formatter(percent)
        ax.set_title(f"{h} sessions: n={row['n']:,}, rose {_pct(row['hit_rate'], 0)}", fontsize=9)
        ax.set_xlabel("forward return")
        if i == 0:
            ax.set_ylabel("occurrences")
            ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[1, :])
    ax.plot(path["offset"].to_numpy(), path["mean"].to_numpy(), color="#1565c0", label="mean")
    ax.plot(
        path["offset"].to_numpy(),
        path["median"].to_numpy(),
        color="#1565c0",
        linestyle=":",
        label="median",
    )
    bases = result.table.filter(pl.col("base_mean").is_not_null())
    ax.plot(
        bases["horizon"].to_numpy(),
        bases["base_mean"].to_numpy(),
        "o",
        color="#ef6c00",
        label="all days (base rate)",
    )
    ax.axhline(0.0, color="#37474f", linewidth=0.8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    n = int(path["n"][0]) if path.height else 0
    ax.set_title(f"Average path after the setup (n={n:,})", fontsize=9)
    ax.set_xlabel("sessions after the occurrence")
    ax.set_ylabel("cumulative return")
    ax.legend(fontsize=7)
    return fig
