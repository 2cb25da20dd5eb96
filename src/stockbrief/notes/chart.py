"""The price chart of a brief: candlesticks, the two moving averages, volume and the events.

:func:`price_chart` returns a Matplotlib figure and writes nothing; ``render.py`` decides where
and in which format it is saved. The figure lives on its own Agg canvas, outside pyplot's list of
open figures, so building many charts neither leaks figures nor needs a display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from stockbrief.text import strip_controls

if TYPE_CHECKING:
    import datetime as dt

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import Formatter

Lang = Literal["en", "de"]

BAR_COLUMNS: Final = ("date", "open", "high", "low", "close", "volume", "sma_50", "sma_200")
"""Columns :func:`price_chart` reads from the bars frame."""

UP_KINDS: Final = frozenset(
    {
        "gap_up", "new_52w_high", "large_move_up", "volume_surge", "stoch_oversold_cross",
        "sar_flip_up", "obv_divergence_bull", "donchian_breakout_up",
    }
)  # fmt: skip
DOWN_KINDS: Final = frozenset(
    {
        "gap_down", "new_52w_low", "large_move_down", "stoch_overbought_cross", "sar_flip_down",
        "obv_divergence_bear", "donchian_breakout_down",
    }
)  # fmt: skip
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

_MARGINS: Final = {"left": 0.054, "right": 0.10, "top": 0.096, "bottom": 0.108}
"""Figure fractions around the panels; prices are labelled on the right, so the left is narrow."""
_PANEL_RATIO: Final = (3, 1)
"""Heights of the price and the volume panel."""
_TITLE_Y: Final = 1.0 - _MARGINS["top"] / 2
"""Middle of the top margin."""

# Yahoo Finance's look: green up, red down, grey wicks, lighter volume bars, on white with a faint
# grid. Keys of the colour maps are "the day rose".
_CANDLE_COLOR: Final = {True: "#00b060", False: "#fe3032"}
_BODY_ALPHA: Final = 0.9
"""Opacity of a candle body's fill; its edge is opaque."""
_WICK_COLOR: Final = "#606060"
_VOLUME_FACE: Final = {True: "#4dc790", False: "#fd6b6c"}
_VOLUME_EDGE: Final = {True: "#3bbd83", False: "#fd4749"}
_RC: Final[dict[Any, Any]] = {
    "font.size": 10,
    "axes.facecolor": "#ffffff",
    "axes.edgecolor": "#b0b0b0",
    "axes.labelcolor": "#101010",
    "axes.grid": True,
    "axes.grid.axis": "both",
    "grid.color": "#e6e6e6",
    "grid.linestyle": "-",
    "xtick.color": "#101010",
    "ytick.color": "#101010",
    "figure.titlesize": "x-large",
    "figure.titleweight": "bold",
    "path.simplify_threshold": 1.0,
    "agg.path.chunksize": 10000,
}

_WIDTH_SESSIONS: Final = (30, 60, 90, 120, 150, 180, 210, 240)
_CANDLE_WIDTHS: Final = (0.65, 0.575, 0.50, 0.445, 0.435, 0.425, 0.420, 0.415)
_CANDLE_LINEWIDTHS: Final = (1.00, 0.875, 0.75, 0.625, 0.500, 0.438, 0.435, 0.435)
_VOLUME_WIDTHS: Final = (0.98, 0.96, 0.95, 0.925, 0.9, 0.9, 0.875, 0.825)
"""Widths in sessions (bodies, bars) and points (edges, wicks) by how many sessions are drawn."""

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
        ``new_52w_high``, ``large_move_up``, ``volume_surge``, and the rising side of the
        stochastic, SAR, OBV and Donchian signals) get an up triangle above the day's high;
        kinds that mark a fall (``cross_below_*``, ``breakout_failed_*``, ``gap_down``,
        ``new_52w_low``, ``large_move_down`` and the falling side of those signals) a down
        triangle below its low.
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

    # Imported here: matplotlib takes a while to import and only charts need it.
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    words = _WORDS[lang]
    window = frame.select(BAR_COLUMNS).tail(sessions)
    opens, high, low, close, volume = (
        window[c].cast(pl.Float64).to_numpy() for c in ("open", "high", "low", "close", "volume")
    )
    pad = _MARKER_PAD * float(np.nanmax(high) - np.nanmin(low) or abs(np.nanmax(high)) or 1.0)
    # Sessions sit at 0, 1, 2, ... so weekends and holidays leave no gaps; the date formatter
    # maps a position back to its day.
    x = np.arange(window.height, dtype=float)

    # The context keeps the caller's rcParams; the figure is built without pyplot, so it is on no
    # list of open figures and the caller's current figure stays current.
    with mpl.rc_context(_RC):
        fig = Figure(figsize=FIGSIZE)
        FigureCanvasAgg(fig)
        price_ax, volume_ax = _panels(fig)

        _candles(price_ax, x, opens, high, low, close)
        for level in ("sma_50", "sma_200"):
            price_ax.plot(
                x,
                window[level].cast(pl.Float64).fill_null(np.nan).to_numpy(),
                color=_SMA_COLORS[level],
                linewidth=1.4,
                label=f"{words.average} {level.split('_')[1]}",
            )
        labels = _legend_labels(window, events, lang)
        rank = {text: i for i, text in enumerate((labels.get("up"), labels.get("down")), 1)}
        for marker, color, ys in _marker_rows(window, events, high, low, pad):
            side = "up" if marker == "^" else "down"
            price_ax.scatter(
                x,
                ys,
                s=40,
                marker=marker,
                color=color,
                edgecolors="white",
                linewidths=0.4,
                # One legend entry per side, naming the kinds drawn on that side.
                label=labels.pop(side, "_nolegend_"),
            )
        # About a session's width of room either side of the first and last candle.
        room = (x[-1] - x[0]) / len(x) if len(x) > 1 else 0.75
        price_ax.update_datalim(
            ((x[0] - room, float(np.nanmin(low))), (x[-1] + room, float(np.nanmax(high))))
        )
        price_ax.autoscale_view()
        _mark_close(price_ax, float(close[-1]), words)
        price_ax.yaxis.set_major_formatter(_price_formatter(words))
        # The averages, then the rising marks, then the falling ones.
        handles, texts = price_ax.get_legend_handles_labels()
        order = sorted(range(len(texts)), key=lambda i: rank.get(texts[i], 0))
        price_ax.legend(
            [handles[i] for i in order],
            [texts[i] for i in order],
            loc="best",
            fontsize=8,
            framealpha=0.85,
        )

        _volume(volume_ax, x, opens, close, volume)
        volume_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _format_volume(v, words)))
        dates = window["date"].to_list()
        volume_ax.xaxis.set_major_formatter(
            FuncFormatter(lambda v, _: _format_day(v, dates, words.date_format))
        )

        price_ax.set_ylabel(words.price)
        volume_ax.set_ylabel(words.volume)
        # The close tag sits over the price ticks; the axis labels move out beyond it.
        for ax in (price_ax, volume_ax):
            ax.yaxis.set_label_coords(_LABEL_X, 0.5)
        # A stored name is untrusted text: control characters would reach the font as glyphs.
        fig.suptitle(strip_controls(title), y=_TITLE_Y, parse_math=False, usetex=False)
        # Ticks are created when first drawn; drawing now, under the chart's own style, keeps the
        # saved picture independent of the rcParams in force when the caller saves it.
        fig.canvas.draw()
    return fig


def _panels(fig: Figure) -> tuple[Axes, Axes]:
    """Price above volume (3 : 1), sharing the session axis, prices and volumes on the right."""
    left, right, top, bottom = (_MARGINS[k] for k in ("left", "right", "top", "bottom"))
    width, height = 1.0 - left - right, 1.0 - top - bottom
    volume_height = height * _PANEL_RATIO[1] / sum(_PANEL_RATIO)
    price_ax = fig.add_axes((left, bottom + volume_height, width, height - volume_height))
    volume_ax = fig.add_axes((left, bottom, width, volume_height), sharex=price_ax)
    price_ax.tick_params(axis="x", labelbottom=False)
    for ax in (price_ax, volume_ax):
        ax.set_axisbelow(True)
        ax.yaxis.tick_right()
        ax.yaxis.set_label_position("right")
    return price_ax, volume_ax


def _candles(
    ax: Axes, x: FloatArray, opens: FloatArray, high: FloatArray, low: FloatArray, close: FloatArray
) -> None:
    """Wicks from low to body and body to high, bodies green if the day closed above its open."""
    candle_width = _width(len(x), _CANDLE_WIDTHS)
    linewidth = _width(len(x), _CANDLE_LINEWIDTHS)
    body_low, body_high = np.fmin(opens, close), np.fmax(opens, close)
    # Two segments per day, so the wick does not show through the translucent body.
    ax.vlines(
        np.r_[x, x],
        np.r_[low, body_high],
        np.r_[body_low, high],
        colors=_WICK_COLOR,
        linewidths=linewidth,
    )
    from matplotlib.colors import to_rgba

    edges = [_CANDLE_COLOR[bool(u)] for u in opens < close]
    bodies = ax.bar(
        x,
        body_high - body_low,
        width=candle_width,
        bottom=body_low,
        color=[to_rgba(c, _BODY_ALPHA) for c in edges],
        edgecolor=edges,
        linewidth=linewidth,
    )
    # A bar pins the price axis at its bottom; a candle body must not stop the axis margin.
    for body in bodies:
        body.sticky_edges.y.clear()


def _volume(
    ax: Axes, x: FloatArray, opens: FloatArray, close: FloatArray, volume: FloatArray
) -> None:
    """Volume bars from zero, green when the close rose from the day before (yahoo's rule)."""
    up = np.r_[opens[:1] < close[:1], close[:-1] < close[1:]]
    ax.bar(
        x,
        volume,
        width=_width(len(x), _VOLUME_WIDTHS),
        color=[_VOLUME_FACE[bool(u)] for u in up],
        edgecolor=[_VOLUME_EDGE[bool(u)] for u in up],
        linewidth=0.65,
    )
    # Bars measured from zero compare honestly; an index such as ^VIX trades no volume at all.
    finite = volume[np.isfinite(volume)]
    top = 1.1 * float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    ax.set_ylim(0.0, top)


def _width(sessions: int, table: tuple[float, ...]) -> float:
    """A width from a table indexed by 30, 60, ... 240 sessions: narrower when more are drawn."""
    return float(np.interp(sessions, _WIDTH_SESSIONS, table))


def _format_day(position: float, dates: list[dt.date], date_format: str) -> str:
    """The day drawn at a session position; ticks beyond the sessions get no label."""
    i = round(position)
    return dates[i].strftime(date_format) if 0 <= i < len(dates) else ""


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


_EVENT_NAMES: Final[dict[Lang, dict[str, str]]] = {
    "en": {
        "cross_above_sma": "crossed above an average",
        "breakout_confirmed_sma": "breakout held",
        "large_move_up": "gain beyond 2.5\u03c3",
        "volume_surge": "volume surge",
        "gap_up": "gap up",
        "new_52w_high": "new 52-week high",
        "stoch_oversold_cross": "stochastic cross up",
        "sar_flip_up": "SAR below the price",
        "obv_divergence_bull": "bullish OBV divergence",
        "donchian_breakout_up": "Donchian breakout",
        "cross_below_sma": "crossed below an average",
        "breakout_failed_sma": "breakout failed",
        "large_move_down": "loss beyond 2.5\u03c3",
        "gap_down": "gap down",
        "new_52w_low": "new 52-week low",
        "stoch_overbought_cross": "stochastic cross down",
        "sar_flip_down": "SAR above the price",
        "obv_divergence_bear": "bearish OBV divergence",
        "donchian_breakout_down": "Donchian breakdown",
    },
    "de": {
        "cross_above_sma": "GD nach oben gekreuzt",
        "breakout_confirmed_sma": "Ausbruch bestätigt",
        "large_move_up": "Tagesgewinn über 2,5\u03c3",
        "volume_surge": "Volumensprung",
        "gap_up": "Kurslücke nach oben",
        "new_52w_high": "neues 52-Wochen-Hoch",
        "stoch_oversold_cross": "Stochastik kreuzt nach oben",
        "sar_flip_up": "SAR unter dem Kurs",
        "obv_divergence_bull": "positive OBV-Divergenz",
        "donchian_breakout_up": "Donchian-Ausbruch nach oben",
        "cross_below_sma": "GD nach unten gekreuzt",
        "breakout_failed_sma": "Ausbruch gescheitert",
        "large_move_down": "Tagesverlust über 2,5\u03c3",
        "gap_down": "Kurslücke nach unten",
        "new_52w_low": "neues 52-Wochen-Tief",
        "stoch_overbought_cross": "Stochastik kreuzt nach unten",
        "sar_flip_down": "SAR über dem Kurs",
        "obv_divergence_bear": "negative OBV-Divergenz",
        "donchian_breakout_down": "Donchian-Ausbruch nach unten",
    },
}
"""The legend's words for the event kinds a marker stands for (a cross of either average is one
entry: the lines show which), in the order the legend lists them."""
_LEGEND_WIDTH: Final = 44
"""Characters of a legend line before it wraps."""


def _event_stem(kind: str) -> str:
    """``cross_above_sma_200`` -> ``cross_above_sma``; other kinds are their own stem."""
    stem, _, n = kind.rpartition("_")
    return stem if n.isdigit() and stem.endswith("_sma") else kind


def _legend_labels(window: pl.DataFrame, events: pl.DataFrame | None, lang: Lang) -> dict[str, str]:
    """For each side with a marker in the window, the kinds it stands for, in the language:
    a marker is explained by what is drawn, not by every kind that could be."""
    if events is None or events.is_empty():
        return {}
    drawn = (
        events.select(pl.col("date").cast(pl.Date), "kind")
        .with_columns(_kind_side().alias("side"))
        .drop_nulls("side")
        .join(window.select("date"), on="date", how="semi")
    )
    names = _EVENT_NAMES[lang]
    labels = {}
    for side in ("up", "down"):
        stems = {_event_stem(k) for k in drawn.filter(pl.col("side") == side)["kind"].to_list()}
        words = [names[s] for s in names if s in stems]
        words += sorted(s.replace("_", " ") for s in stems if s not in names)
        if words:
            labels[side] = _wrapped(words)
    return labels


def _wrapped(words: list[str]) -> str:
    """Names joined by commas, a new line before a name that would pass the legend's width;
    a name itself is never broken."""
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 2 + len(word) > _LEGEND_WIDTH:
            lines[-1] += ","
            lines.append(word)
        else:
            lines[-1] += ", " + word
    return "\n".join(lines)


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
