"""The price chart of a brief: candlesticks, the two moving averages, volume and the events.

:func:`price_chart` returns a Matplotlib figure and writes nothing; ``render.py`` decides where
and in which format it is saved. The figure lives on its own Agg canvas, outside pyplot's list of
open figures, so building many charts neither leaks figures nor needs a display.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.text import strip_controls

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import Formatter

Lang = Literal["en", "de"]

BAR_COLUMNS: Final = ("date", "open", "high", "low", "close", "volume", "sma_50", "sma_200")
"""Columns :func:`price_chart` reads from the bars frame."""

UP_KINDS: Final = frozenset({"gap_up", "new_52w_high", "large_move_up", "volume_surge"})
DOWN_KINDS: Final = frozenset({"gap_down", "new_52w_low", "large_move_down"})
UP_PREFIXES: Final = ("cross_above_", "breakout_confirmed_")
DOWN_PREFIXES: Final = ("cross_below_", "breakout_failed_")
"""Event kinds drawn above the high (up) or below the low (down); other kinds are not drawn."""

FIGSIZE: Final = (11.0, 7.0)
"""Inches; at the default 100 dpi a saved chart is 1100 x 700 pixels."""


@dataclass(frozen=True)
class _Words:
    price: str
    volume: str
    average: str
    date_format: str
    decimal: str
    thousands: str
    volume_units: tuple[str, str, str]


_WORDS: Final[dict[Lang, _Words]] = {
    "en": _Words("Price", "Volume", "SMA", "%Y-%m-%d", ".", ",", ("B", "M", "K")),
    # "GD": gleitender Durchschnitt, the usual German label of a moving average on charts.
    "de": _Words(
        "Kurs", "Volumen", "GD", "%d.%m.%Y", ",", ".", ("\xa0Mrd.", "\xa0Mio.", "\xa0Tsd.")
    ),
}

_SMA_COLORS: Final = {"sma_50": "#1565c0", "sma_200": "#ef6c00"}
_UP_COLOR: Final = "#1b7a3a"
_DOWN_COLOR: Final = "#c62828"
_CLOSE_COLOR: Final = "#37474f"
_MARKER_PAD: Final = 0.025
"""Gap between a bar and its event marker, as a fraction of the window's price range."""
_MARKER_STEP: Final = 1.4
"""Spacing of markers stacked on one day, in multiples of the pad."""

_PADDING: Final = {"left": 0.3, "right": 1.0, "top": 0.8, "bottom": 0.6}
"""Multipliers of mplfinance's margins (0.18 left, 0.10 right, 0.12 top, 0.18 bottom)."""
_TITLE_Y: Final = 1.0 - 0.12 * 0.8 / 2
"""Middle of the top margin."""

_LABEL_X: Final = 1.085
"""Where the y-axis labels sit, in axes widths: right of the ticks and the close tag."""

FloatArray = npt.NDArray[np.float64]


def price_chart(
    frame: pl.DataFrame,
    events: pl.DataFrame | None = None,
    *,
    title: str,
    sessions: int = 180,
    lang: Lang = "en",
) -> Figure:
    """Candlestick chart of the last sessions of one ticker, with averages, volume and events.

    A reader of a brief checks its claims against the picture: "closed above the 200-day
    average", "on more than double the typical volume", "a new 52-week high". The chart therefore
    shows exactly the columns the facts are computed from and marks the same events the text
    reports, on the same days.

    Parameters
    ----------
    frame
        One ticker's bars with indicators, sorted by date: ``date`` (``pl.Date``), ``open``,
        ``high``, ``low``, ``close``, ``volume``, ``sma_50``, ``sma_200`` (null in warm-up).
        The last row is the as-of day.
    events
        Events of that ticker (``date``, ``kind``, ``value``; further columns are ignored), or
        None. Kinds that mark a rise (``cross_above_*``, ``breakout_confirmed_*``, ``gap_up``,
        ``new_52w_high``, ``large_move_up``, ``volume_surge``) get an up triangle above the
        day's high; kinds that mark a fall (``cross_below_*``, ``breakout_failed_*``,
        ``gap_down``, ``new_52w_low``, ``large_move_down``) a down triangle below its low.
        Other kinds, and events outside the drawn sessions, are not drawn.
    title
        Shown verbatim above the chart; ``$`` and backslashes are not read as mathtext.
    sessions
        How many of the last rows to draw (all rows if the frame is shorter).
    lang
        Language of the axis labels, the legend ("SMA 50" / "GD 50"), dates and numbers.

    Returns
    -------
    matplotlib.figure.Figure
        Price panel (candles, "SMA 50" and "SMA 200" lines with a legend, event markers, and a
        dotted line labelled with the as-of close) above a volume panel. The figure has an Agg
        canvas and is not registered with pyplot: save it with ``fig.savefig``; closing it is
        not needed.

    Raises
    ------
    ValueError
        If ``frame`` is empty or lacks a column, or ``sessions`` is less than 1.

    Notes
    -----
    The averages are drawn as given (``sma_N`` is the mean of the N closes up to and including
    the day); warm-up nulls leave gaps, never values filled from later days. Sessions are drawn
    side by side without gaps for weekends and holidays. Nothing dated after the last row is
    read, so the chart as of a day is the same whatever is stored later. Rendering is
    deterministic: the same inputs give the same PNG bytes when saved with
    ``metadata={"Software": None}``; global rcParams are left as they were.
    """
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"price_chart needs the columns {', '.join(BAR_COLUMNS)}; missing: "
            f"{', '.join(missing)}. Pass the computed frame of one ticker (bars with indicators)."
        )
    if frame.is_empty():
        raise ValueError("price_chart got an empty frame: there is no session to draw.")
    if sessions < 1:
        raise ValueError(f"sessions must be at least 1, got {sessions}.")

    # Imported here: matplotlib and mplfinance take a second to import and only charts need them.
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    import mplfinance as mpf
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import FuncFormatter

    words = _WORDS[lang]
    window = frame.select(BAR_COLUMNS).tail(sessions)
    bars = (
        window.select(
            pl.col("date").cast(pl.Datetime("ns")),
            *(pl.col(c).cast(pl.Float64).alias(c.capitalize()) for c in BAR_COLUMNS[1:6]),
        )
        .to_pandas()
        .set_index("date")
    )
    high = window["high"].cast(pl.Float64).to_numpy()
    low = window["low"].cast(pl.Float64).to_numpy()
    pad = _MARKER_PAD * float(np.nanmax(high) - np.nanmin(low) or abs(np.nanmax(high)) or 1.0)

    addplots: list[Any] = [
        mpf.make_addplot(
            window[level].cast(pl.Float64).to_numpy(),
            type="line",
            color=_SMA_COLORS[level],
            width=1.4,
            label=f"{words.average} {level.split('_')[1]}",
            secondary_y=False,
        )
        for level in ("sma_50", "sma_200")
    ]
    for marker, color, ys in _marker_rows(window, events, high, low, pad):
        addplots.append(
            mpf.make_addplot(
                ys,
                type="scatter",
                marker=marker,
                markersize=40,
                color=color,
                edgecolors="white",
                linewidths=0.4,
                secondary_y=False,
            )
        )

    # mplfinance applies its style by editing the global rcParams and creates the figure with
    # pyplot; the context restores the caller's rcParams, and closing our own figure right away
    # takes it off pyplot's list (no leak, no "too many figures" warning, the caller's current
    # figure stays current).
    with mpl.rc_context(), warnings.catch_warnings():
        # An index such as ^VIX trades no volume: mplfinance then warns about a flat volume
        # axis, which is set to start at zero below anyway.
        warnings.filterwarnings("ignore", message="Attempting to set identical low and high")
        fig: Figure
        axes: list[Axes]
        fig, axes = mpf.plot(
            bars,
            type="candle",
            style=_style(mpf),
            volume=True,
            addplot=addplots,
            panel_ratios=(3, 1),
            figsize=FIGSIZE,
            # Prices are labelled on the right, so the left margin can be narrow.
            scale_padding=_PADDING,
            ylabel=words.price,
            ylabel_lower=words.volume,
            datetime_format=words.date_format,
            # Volume ticks get their own "2.5M" labels below instead of a 10^6 axis label.
            volume_exponent=0,
            xrotation=0,
            returnfig=True,
            # The caller chose how many sessions to draw; mplfinance would warn above 599.
            warn_too_much_data=len(bars) + 1,
        )
        plt.close(fig)
        FigureCanvasAgg(fig)
        price_ax, volume_ax = axes[0], axes[2]
        _mark_close(price_ax, float(window["close"][-1]), words)
        price_ax.yaxis.set_major_formatter(_price_formatter(words))
        # mplfinance starts the volume axis just under the smallest volume, which exaggerates
        # differences; bars measured from zero compare honestly.
        volume_ax.set_ylim(bottom=0)
        volume_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _format_volume(v, words)))
        # The close tag sits over the price ticks; the axis labels move out beyond it.
        for ax in (price_ax, volume_ax):
            ax.yaxis.set_label_coords(_LABEL_X, 0.5)
        if price_ax.get_legend() is not None:
            price_ax.legend(loc="best", fontsize=9, framealpha=0.85)
        # A stored name is untrusted text: control characters would reach the font as glyphs.
        fig.suptitle(strip_controls(title), y=_TITLE_Y, parse_math=False, usetex=False)
        # Ticks are created when first drawn; drawing now, under the chart's own style, keeps the
        # saved picture independent of the rcParams in force when the caller saves it.
        fig.canvas.draw()
    return fig


def _style(mpf: Any) -> Any:
    """Yahoo's look (green up, red down, lighter volume bars) on white with a faint grid."""
    return mpf.make_mpf_style(
        base_mpf_style="yahoo",
        gridcolor="#e6e6e6",
        facecolor="#ffffff",
        rc={"font.size": 10, "axes.edgecolor": "#b0b0b0", "figure.titleweight": "bold"},
    )


def _kind_side() -> pl.Expr:
    kind = pl.col("kind")
    up = kind.is_in(list(UP_KINDS)) | pl.any_horizontal(
        kind.str.starts_with(p) for p in UP_PREFIXES
    )
    down = kind.is_in(list(DOWN_KINDS)) | pl.any_horizontal(
        kind.str.starts_with(p) for p in DOWN_PREFIXES
    )
    return pl.when(up).then(pl.lit("up")).when(down).then(pl.lit("down"))


def _marker_rows(
    window: pl.DataFrame,
    events: pl.DataFrame | None,
    high: FloatArray,
    low: FloatArray,
    pad: float,
) -> list[tuple[str, str, FloatArray]]:
    """One full-length series per (side, stack level): NaN except where a marker goes.

    Several events on one day are stacked away from the bar instead of drawn on top of each
    other, so each event stays visible and countable.
    """
    if events is None or events.is_empty():
        return []
    days = window.select("date").with_row_index("i")
    placed = (
        events.select(pl.col("date").cast(pl.Date), "kind")
        .with_columns(_kind_side().alias("side"))
        .drop_nulls("side")
        .join(days, on="date", how="inner")
        .sort("i", "side", "kind")
        .with_columns(pl.int_range(pl.len()).over("i", "side").alias("level"))
    )
    rows = []
    for (side, level), group in sorted(placed.group_by("side", "level"), key=_group_key):
        ys = np.full(window.height, np.nan)
        i = group["i"].to_numpy()
        offset = pad * (1.0 + _MARKER_STEP * int(level))
        if side == "up":
            ys[i] = high[i] + offset
            rows.append(("^", _UP_COLOR, ys))
        else:
            ys[i] = low[i] - offset
            rows.append(("v", _DOWN_COLOR, ys))
    return rows


def _group_key(item: tuple[tuple[Any, ...], pl.DataFrame]) -> tuple[str, int]:
    side, level = item[0]
    return str(side), int(level)


def _localize(text: str, words: _Words) -> str:
    """Swap the separators of a number formatted the English way."""
    return text.replace(",", "\0").replace(".", words.decimal).replace("\0", words.thousands)


def _format_price(value: float, words: _Words) -> str:
    digits = 2 if abs(value) >= 1 else 4
    return _localize(f"{value:,.{digits}f}", words)


def _format_volume(value: float, words: _Words) -> str:
    """Share counts in thousands, millions or billions: "2.5M" / "2,5 Mio."."""
    for scale, unit in zip((1e9, 1e6, 1e3), words.volume_units, strict=True):
        if abs(value) >= scale:
            return _localize(f"{value / scale:.3g}", words) + unit
    return _localize(f"{value:.3g}", words)


def _price_formatter(words: _Words) -> Formatter:
    """Matplotlib's tick choice of decimals, with the language's decimal separator.

    ``axes.formatter.use_locale`` would read the process locale, which differs between machines
    and would make the picture depend on where it was drawn.
    """
    from matplotlib.ticker import ScalarFormatter

    class _Formatter(ScalarFormatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return _localize(super().__call__(x, pos), words)

    return _Formatter(useOffset=False)


def _mark_close(ax: Axes, close: float, words: _Words) -> None:
    """Dotted line at the as-of close, with its value in a tag on the price axis."""
    ax.axhline(close, color=_CLOSE_COLOR, linestyle=":", linewidth=1.0, zorder=1.5, gid="as_of")
    ax.annotate(
        _format_price(close, words),
        xy=(1.0, close),
        xycoords=ax.get_yaxis_transform(),
        xytext=(3, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=9,
        color="white",
        fontweight="bold",
        bbox={"boxstyle": "square,pad=0.25", "facecolor": _CLOSE_COLOR, "edgecolor": "none"},
        annotation_clip=False,
        gid="as_of_close",
        parse_math=False,
    )
