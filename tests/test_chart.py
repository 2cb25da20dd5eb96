"""The price chart: what a reader of the brief checks on the picture, and a clean figure."""

from __future__ import annotations

import datetime as dt
import io
import struct

import matplotlib as mpl
import numpy as np
import numpy.typing as npt
import polars as pl
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from stockbrief.notes.chart import FIGSIZE, price_chart

SESSIONS = 180
N = 300
OFFSET = N - SESSIONS
"""Row of the frame that is the first drawn session."""


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    """300 business days of a random walk, with SMA 50/200 null in their warm-up."""
    days = pl.date_range(dt.date(2024, 1, 1), dt.date(2025, 6, 30), "1d", eager=True)
    dates = days.filter(days.dt.weekday() <= 5).head(N)
    rng = np.random.default_rng(20240101)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0005, 0.015, N)))
    open_ = np.r_[100.0, close[:-1]] * (1 + rng.normal(0, 0.004, N))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.006, N)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.006, N)))
    volume = rng.integers(1_000_000, 5_000_000, N)
    frame = pl.DataFrame(
        {"date": dates, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )
    return frame.with_columns(
        pl.col("close").rolling_mean(50).alias("sma_50"),
        pl.col("close").rolling_mean(200).alias("sma_200"),
    )


@pytest.fixture(scope="module")
def events(bars: pl.DataFrame) -> pl.DataFrame:
    """Events inside and outside the window, two on one day, and a kind the chart does not mark."""
    rows = [
        (10, "gap_up"),  # before the window
        (OFFSET + 5, "cross_above_sma_50"),
        (OFFSET + 60, "gap_up"),
        (OFFSET + 60, "volume_surge"),
        (OFFSET + 90, "breakout_failed_sma_200"),
        (OFFSET + 120, "golden_cross"),  # not a marked kind
        (N - 1, "large_move_down"),
    ]
    return pl.DataFrame(
        {
            "date": [bars["date"][i] for i, _ in rows],
            "kind": [kind for _, kind in rows],
            "value": [0.01] * len(rows),
        }
    )


@pytest.fixture(scope="module")
def chart(bars: pl.DataFrame, events: pl.DataFrame) -> Figure:
    return price_chart(bars, events, title="TEST as of 2025-02-24")


def panel(fig: Figure, label: str) -> Axes:
    """The visible axes labelled ``label`` (Price, Volume, ...)."""
    found = [ax for ax in fig.axes if ax.get_visible() and ax.get_ylabel() == label]
    assert len(found) == 1, [ax.get_ylabel() for ax in fig.axes]
    return found[0]


def averages(ax: Axes, prefix: str) -> dict[str, Line2D]:
    return {
        str(ln.get_label()): ln for ln in ax.get_lines() if str(ln.get_label()).startswith(prefix)
    }


def markers(ax: Axes) -> list[tuple[int, float]]:
    """Drawn (session index, price) of every scatter marker on the axes."""
    points = []
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            offsets: npt.NDArray[np.float64] = np.ma.filled(
                np.ma.asarray(coll.get_offsets(), dtype=float), np.nan
            )
            points += [(round(x), y) for x, y in offsets if np.isfinite(x) and np.isfinite(y)]
    return sorted(points)


def png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def test_has_a_price_and_a_volume_panel(chart: Figure) -> None:
    price, volume = panel(chart, "Price"), panel(chart, "Volume")
    assert price.get_position().y0 > volume.get_position().y0
    assert len(volume.patches) == SESSIONS
    assert volume.get_ylim()[0] == 0


def test_sma_lines_are_the_last_sessions_of_the_frame(chart: Figure, bars: pl.DataFrame) -> None:
    lines = averages(panel(chart, "Price"), "SMA")
    assert sorted(lines) == ["SMA 200", "SMA 50"]
    for label, column in [("SMA 50", "sma_50"), ("SMA 200", "sma_200")]:
        expected = bars[column].tail(SESSIONS).cast(pl.Float64).fill_null(np.nan).to_numpy()
        drawn = np.asarray(lines[label].get_ydata(), dtype=float)
        np.testing.assert_array_equal(drawn, expected)
    # 200-day warm-up reaches into the window: a gap, never a value filled from later days.
    assert np.isnan(np.asarray(lines["SMA 200"].get_ydata(), dtype=float)[0])
    legend = panel(chart, "Price").get_legend()
    assert legend is not None
    # The averages, then what the rising and the falling marks in the window stand for.
    assert [t.get_text() for t in legend.get_texts()] == [
        "SMA 50",
        "SMA 200",
        "crossed above an average, volume surge,\ngap up",
        "breakout failed, loss beyond 2.5\u03c3",
    ]


def test_event_markers_sit_above_rises_and_below_falls(chart: Figure, bars: pl.DataFrame) -> None:
    window = bars.tail(SESSIONS)
    drawn = markers(panel(chart, "Price"))
    # In the window and of a marked kind: 60 twice (gap up, volume surge), 5, 90, the last day.
    assert sorted(i for i, _ in drawn) == [5, 60, 60, 90, SESSIONS - 1]
    for i, y in drawn:
        above = y > window["high"][i]
        below = y < window["low"][i]
        assert above if i in (5, 60) else below
    at_60 = sorted(y for i, y in drawn if i == 60)
    assert at_60[0] != at_60[1], "two events on one day must not hide each other"
    lo, hi = panel(chart, "Price").get_ylim()
    assert all(lo < y < hi for _, y in drawn)


@pytest.mark.parametrize("events", [None, pl.DataFrame({"date": [], "kind": [], "value": []})])
def test_no_events_no_markers(bars: pl.DataFrame, events: pl.DataFrame | None) -> None:
    fig = price_chart(bars, events, title="T", sessions=30)
    assert markers(panel(fig, "Price")) == []


def test_as_of_close_is_marked_and_labelled(chart: Figure, bars: pl.DataFrame) -> None:
    close = bars["close"][-1]
    price = panel(chart, "Price")
    assert f"{close:,.2f}" in [t.get_text() for t in price.texts]
    dotted = [
        ln
        for ln in price.get_lines()
        if ln.get_linestyle() == ":"
        and np.asarray(ln.get_ydata(), dtype=float).tolist() == [close, close]
    ]
    assert len(dotted) == 1


def test_png_is_valid_sized_and_reproducible(
    chart: Figure, bars: pl.DataFrame, events: pl.DataFrame
) -> None:
    data = png(chart)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (round(FIGSIZE[0] * 100), round(FIGSIZE[1] * 100))
    again = price_chart(bars, events, title="TEST as of 2025-02-24")
    assert png(again) == data


def test_german_labels_and_numbers(bars: pl.DataFrame, events: pl.DataFrame) -> None:
    fig = price_chart(bars, events, title="TEST", lang="de")
    price = panel(fig, "Kurs")
    panel(fig, "Volumen")
    assert sorted(averages(price, "GD")) == ["GD 200", "GD 50"]
    legend = price.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "GD 50",
        "GD 200",
        "GD nach oben gekreuzt, Volumensprung,\nKurslücke nach oben",
        "Ausbruch gescheitert, Tagesverlust über 2,5\u03c3",
    ]
    close = f"{bars['close'][-1]:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    assert close in [t.get_text() for t in price.texts]


def test_title_with_dollars_is_literal(bars: pl.DataFrame) -> None:
    # Read as mathtext, "$5 to $" would lose its dollars and spaces and the title would shrink;
    # drawn literally it is wider than the same text without the dollars.
    title = "ACME: from $5 to $6, up 20%"
    fig = price_chart(bars, title=title, sessions=20)
    plain = price_chart(bars, title=title.replace("$", ""), sessions=20)
    assert [t.get_text() for t in fig.texts] == [title]
    png(fig)
    width = fig.texts[0].get_window_extent().width
    plain_width = plain.texts[0].get_window_extent().width
    assert width > plain_width


def test_leaves_pyplot_and_rcparams_alone(bars: pl.DataFrame) -> None:
    import matplotlib.pyplot as plt

    before = dict(mpl.rcParams)
    mine = plt.figure()
    try:
        figures = plt.get_fignums()
        fig = price_chart(bars, title="T", sessions=20)
        assert plt.get_fignums() == figures
        assert plt.gcf() is mine
        assert dict(mpl.rcParams) == before
        assert fig.canvas.get_supported_filetypes()["png"]
    finally:
        plt.close(mine)


def test_short_frame_draws_every_session(bars: pl.DataFrame) -> None:
    fig = price_chart(bars.head(40), title="T")
    price = panel(fig, "Price")
    assert len(panel(fig, "Volume").patches) == 40
    lines = averages(price, "SMA")
    assert np.isnan(np.asarray(lines["SMA 200"].get_ydata(), dtype=float)).all()


def test_bad_input_says_what_to_fix(bars: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="missing: sma_200"):
        price_chart(bars.drop("sma_200"), title="T")
    with pytest.raises(ValueError, match="empty frame"):
        price_chart(bars.head(0), title="T")
    with pytest.raises(ValueError, match="at least 1"):
        price_chart(bars, title="T", sessions=0)


def test_candles_span_the_day_and_are_coloured_by_its_direction(
    chart: Figure, bars: pl.DataFrame
) -> None:
    window = bars.tail(SESSIONS)
    price = panel(chart, "Price")
    bodies = price.patches
    assert len(bodies) == SESSIONS
    green, red = mpl.colors.to_rgb("#00b060"), mpl.colors.to_rgb("#fe3032")
    for i in (0, 60, SESSIONS - 1):
        o, c = window["open"][i], window["close"][i]
        body = bodies[i]
        assert body.get_x() < i < body.get_x() + body.get_width()
        assert body.get_y() == pytest.approx(min(o, c))
        assert body.get_y() + body.get_height() == pytest.approx(max(o, c))
        assert mpl.colors.to_rgb(body.get_facecolor()) == (green if c > o else red)
    # Wicks: one segment below and one above each body, together reaching low and high.
    (wicks,) = [c for c in price.collections if not isinstance(c, PathCollection)]
    ends = np.array([seg[:, 1] for seg in wicks.get_segments()])
    np.testing.assert_allclose(ends[:SESSIONS, 0], window["low"].to_numpy())
    np.testing.assert_allclose(ends[SESSIONS:, 1], window["high"].to_numpy())
