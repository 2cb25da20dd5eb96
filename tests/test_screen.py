"""Screens: the parser, its error messages, evaluation over a universe, and the presets."""

from __future__ import annotations

import contextlib
import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stockbrief import screening as sc
from stockbrief.compute import INPUTS, compute, output_columns
from stockbrief.errors import InputError
from stockbrief.screening import PRESETS, Screen, ScreenError, mask, parse, run

D = [dt.date(2024, 1, 2), dt.date(2024, 1, 3), dt.date(2024, 1, 4), dt.date(2024, 1, 5)]

# Per ticker, per date D[0..3]. Every level is 10; crossings:
#   A crosses above on D2 and below on D3; B below on D1 and above on D3; C above on D1 and below
#   on D3. A ends below the level and B starts above it, so a shift that leaked across tickers
#   would see B cross above on D0 (and C cross below on D0).
CLOSE = {"A": [9.0, 9.0, 11.0, 9.0], "B": [11.0, 9.0, 9.0, 11.0], "C": [8.0, 12.0, 13.0, 8.0]}
REL_VOLUME = {"A": [1.0, 1.0, 2.5, 1.0], "B": [1.0, 3.0, 1.0, 2.0], "C": [1.0, 1.0, 1.0, 4.0]}
RSI: dict[str, list[float | None]] = {
    "A": [50.0, 40.0, 60.0, 25.0],
    "B": [None, 20.0, 30.0, 35.0],
    "C": [70.0, 80.0, 90.0, 10.0],
}


def small() -> pl.DataFrame:
    """3 tickers x 4 sessions, sorted by ticker and date, shaped like compute()'s frame."""
    records: list[dict[str, object]] = []
    for ticker, closes in CLOSE.items():
        for i, close in enumerate(closes):
            records.append(
                {
                    "ticker": ticker,
                    "date": D[i],
                    "open": close,
                    "high": close + 1,
                    "low": close - 1,
                    "close": close,
                    "volume": int(100 * REL_VOLUME[ticker][i]),
                    "sma_200": 10.0,
                    "rel_volume": REL_VOLUME[ticker][i],
                    "rsi_14": RSI[ticker][i],
                }
            )
    return pl.DataFrame(
        records,
        schema={
            "ticker": pl.String,
            "date": pl.Date,
            "open": pl.Float64,
            "high": pl.Float64,
            "low": pl.Float64,
            "close": pl.Float64,
            "volume": pl.Int64,
            "sma_200": pl.Float64,
            "rel_volume": pl.Float64,
            "rsi_14": pl.Float64,
        },
    )


def small_events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticker": ["A", "B", "C", "C"],
            "date": [D[1], D[3], D[3], D[3]],
            "kind": ["gap_up", "gap_up", "volume_surge", "gap_down"],
            "value": [0.02, 0.03, 4.0, -0.02],
            "detail": ["{}"] * 4,
        }
    )


COLUMNS = small().columns
KINDS = ("gap_up", "gap_down", "volume_surge")


def tickers(result: pl.DataFrame) -> list[str]:
    return result["ticker"].to_list()


def matches(expression: str, as_of: dt.date | None = None) -> list[str]:
    """Tickers the expression matches on the session as of ``as_of`` of the small frame."""
    return tickers(run(parse(expression, COLUMNS, KINDS), small(), small_events(), as_of=as_of))


def rows(expression: str) -> list[tuple[str, int]]:
    """(ticker, session index) of every row of the small frame the expression matches."""
    frame = small()
    hit = mask(parse(expression, COLUMNS, KINDS), frame, small_events())
    return [(t, D.index(d)) for t, d in frame.filter(hit).select("ticker", "date").iter_rows()]


# --------------------------------------------------------------------------------------------
# parser
# --------------------------------------------------------------------------------------------


def same(a: str, b: str) -> bool:
    return parse(a, COLUMNS, KINDS).where.meta.eq(parse(b, COLUMNS, KINDS).where)


@pytest.mark.parametrize(
    ("text", "grouped", "other"),
    [
        ("close > 1 + 2 * 3", "close > 1 + (2 * 3)", "close > (1 + 2) * 3"),
        ("close > 10 - 2 - 3", "close > (10 - 2) - 3", "close > 10 - (2 - 3)"),
        ("close > 8 / 2 / 2", "close > (8 / 2) / 2", "close > 8 / (2 / 2)"),
        ("-close * 2 > 1", "(-close) * 2 > 1", "-(close * 2 > 1) == (1 > 2)"),
        (
            "close > 1 or close > 2 and close > 3",
            "close > 1 or (close > 2 and close > 3)",
            "(close > 1 or close > 2) and close > 3",
        ),
        (
            "not close > 1 and close > 2",
            "(not (close > 1)) and close > 2",
            "not (close > 1 and close > 2)",
        ),
        ("close + 1 > 2 * rsi_14", "(close + 1) > (2 * rsi_14)", "close + (1 > 2) * rsi_14"),
    ],
)
def test_precedence_and_parentheses(text: str, grouped: str, other: str) -> None:
    assert same(text, grouped)
    with contextlib.suppress(ScreenError):  # the other grouping may not even be well typed
        assert not same(text, other)


def test_precedence_evaluates_like_arithmetic() -> None:
    # close of A on D2 is 11
    assert matches("close == 1 + 2 * 5", as_of=D[2]) == ["A"]
    assert matches("close == (1 + 2) * 3 + 2 or close == 99", as_of=D[2]) == ["A"]
    assert matches("close == -(-11)", as_of=D[2]) == ["A"]
    assert matches("- - close == 11", as_of=D[2]) == ["A"]
    assert matches("close == 22 / 2", as_of=D[2]) == ["A"]


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("5%", 0.05),
        ("1.1%", 0.011),
        ("2.5", 2.5),
        (".5", 0.5),
        ("1e6", 1e6),
        ("1E-3", 0.001),
        ("2.5e2%", 2.5),
        ("12", 12.0),
        ("7.", 7.0),
    ],
)
def test_number_literals(literal: str, value: float) -> None:
    assert same(f"close > {literal}", f"close > {value!r}")


def test_keywords_are_case_insensitive() -> None:
    assert same(
        "NOT close > 1 AND close > 2 Or close > 3", "not close > 1 and close > 2 or close > 3"
    )


def test_screen_records_columns_kinds_and_lookback() -> None:
    screen = parse("close > sma_200 and crossed_above(sma_200) and rel_volume >= 2")
    assert screen.columns == ("close", "sma_200", "rel_volume")
    assert screen.event_kinds == ()
    assert screen.lookback == 1
    assert parse("rsi_14 < 30").lookback == 0
    assert parse("prev(prev(close)) > close").lookback == 2
    assert parse("crossed_below(prev(sma_50))").lookback == 2
    implicit = parse("crossed_above(sma_50)")
    assert implicit.columns == ("sma_50", "close")
    events = parse("not event(gap_up) and pct(close, sma_50) > 0.03 or event(golden_cross)")
    assert events.event_kinds == ("gap_up", "golden_cross")
    assert events.columns == ("close", "sma_50")


def test_screens_compare_by_text_and_columns() -> None:
    assert parse("close > 1") == parse("close > 1")
    assert parse("close > 1") != parse("close > 2")
    assert isinstance(parse("close > 1").where, pl.Expr)


def caret(error: ScreenError) -> tuple[int, int]:
    """Column (1-based) and width of the caret line under the expression."""
    line = str(error).splitlines()[-1][4:]
    stripped = line.lstrip(" ")
    return len(line) - len(stripped) + 1, len(stripped)


@pytest.mark.parametrize(
    ("text", "message", "position", "width"),
    [
        (
            "close > sma200 and rel_volume > 1",
            "unknown column 'sma200' at position 9; did you mean 'sma_200'?",
            9,
            6,
        ),
        ("Close > 1", "unknown column 'Close' at position 1; did you mean 'close'?", 1, 5),
        ("zzz > 1", "unknown column 'zzz' at position 1; the columns are: close,", 1, 3),
        (
            "gap_up and close > 1",
            "unknown column 'gap_up' at position 1; 'gap_up' is an event kind: write event(gap_up)",
            1,
            6,
        ),
        (
            "(close > 1 and rsi_14 < 3",
            "expected ')' at position 26, found the end of the expression, to close the '('"
            " at position 1",
            26,
            1,
        ),
        ("(close > 1 close", "expected ')' at position 12, found 'close'", 12, 5),
        ("foo(close) > 1", "unknown function 'foo' at position 1; the functions are: abs,", 1, 3),
        (
            "pcnt(close, sma_200) > 1",
            "unknown function 'pcnt' at position 1; did you mean 'pct'",
            1,
            4,
        ),
        ("close(1) > 1", "'close' is a column, not a function at position 1", 1, 5),
        ("pct > 1", "'pct' is a function at position 1; call it as pct(a, b)", 1, 3),
        ("pct(close) > 1", "pct() takes 2 arguments, got 1 at position 1; write pct(a, b)", 1, 10),
        ("abs() > 1", "abs() takes 1 argument, got 0 at position 1", 1, 5),
        (
            "crossed_above(sma_200, close, 1)",
            "crossed_above() takes 1 or 2 arguments, got 3 at position 1",
            1,
            32,
        ),
        ("between(close, 1) ", "between() takes 3 arguments, got 2 at position 1", 1, 17),
        ("pct(close sma_200) > 1", "expected ',' or ')' at position 11, found 'sma_200'", 11, 7),
        (
            "close > (rsi_14 < 30)",
            "cannot compare a condition with a number at position 9",
            9,
            13,
        ),
        ("(close > 1) < (close > 2)", "'<' cannot order conditions at position 13", 13, 1),
        ("1 < close < 3", "comparisons do not chain at position 11", 11, 1),
        (
            "close + (rsi_14 < 30) > 1",
            "'+' needs a number on its right, got a condition at position 9",
            9,
            13,
        ),
        ("-(close > 1)", "'-' needs a number, got a condition at position 2", 2, 11),
        ("abs(close > 1) > 1", "abs() needs a number as its first argument, got a condition", 5, 9),
        (
            "close * 2",
            "the screen must be a condition, got a number at position 1; compare it with",
            1,
            9,
        ),
        ("close and rsi_14 < 3", "'and' needs a condition on its left, got a number", 1, 5),
        ("rsi_14 < 3 or close", "'or' needs a condition on its right, got a number", 15, 5),
        ("not close", "'not' needs a condition, got a number at position 5", 5, 5),
        ("", "empty expression at position 1", 1, 1),
        ("   ", "empty expression at position 4", 4, 1),
        (
            "close >",
            "expected a number, a column, a function or '(' at position 8, found the end",
            8,
            1,
        ),
        ("close > and 1", "expected a number, a column, a function or '(' at position 9", 9, 3),
        ("rsi_14 < 30 rsi_14", "unexpected 'rsi_14' at position 13; expected an operator", 13, 6),
        ("close > 1e", "malformed number '1e' at position 9", 9, 2),
        ("close > 2.5.3", "malformed number '2.5.3' at position 9", 9, 5),
        ("close > 1e999", "number '1e999' is out of range at position 9", 9, 5),
        ("close = 3", "unexpected character '=' at position 7; write '==' to compare", 7, 1),
        ("close > 1 && rsi_14 < 3", "unexpected character '&' at position 11; write 'and'", 11, 1),
        ("close > 1 || rsi_14 < 3", "unexpected character '|' at position 11; write 'or'", 11, 1),
        ("date > 1", "column 'date' is not a number at position 1", 1, 4),
        (
            "event(gap_upp)",
            "unknown event kind 'gap_upp' at position 7; did you mean 'gap_up'? Known kinds:"
            " gap_down, gap_up, volume_surge",
            7,
            7,
        ),
        ("event(zzz)", "unknown event kind 'zzz' at position 7; known kinds: gap_down,", 7, 3),
        ("event(1)", "event() takes an event kind at position 7, found '1'", 7, 1),
        ("event(gap_up, 1)", "event() takes 1 argument at position 13", 13, 1),
        ("event(gap_up", "expected ')' at position 13, found the end of the expression", 13, 1),
    ],
)
def test_error_messages_point_at_the_token(
    text: str, message: str, position: int, width: int
) -> None:
    with pytest.raises(ScreenError) as caught:
        parse(text, COLUMNS, KINDS)
    error = caught.value
    assert error.field == "expression"
    assert error.position == position
    assert error.expression == text
    lines = str(error).splitlines()
    assert lines[0].startswith("field 'expression': ")
    assert message in lines[0]
    assert lines[1] == "    " + text.replace("\t", " ")
    assert caret(error) == (position, width)


def test_error_is_an_input_error() -> None:
    with pytest.raises(InputError, match="did you mean 'sma_200'"):
        parse("close > sma200")
    with pytest.raises(ValueError, match="unknown column"):
        parse("close > sma200")


def test_caret_stays_under_the_token_across_tabs_and_newlines() -> None:
    text = "close >\t1 and\nsma200 > 1"
    with pytest.raises(ScreenError) as caught:
        parse(text, COLUMNS, KINDS)
    assert caught.value.position == 15
    shown, under = str(caught.value).splitlines()[1:]
    assert shown[4:][14:20] == "sma200"
    assert under[4:] == " " * 14 + "^" * 6


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "__import__('os').system('true')",
        "close.__class__",
        "exec('1')",
        "eval(close)",
        "lambda: 1",
        "close if 1 else 2",
        "[close]",
        "'close' > 1",
        "close > 1; import os",
        "close ** 2 > 1",
        "getattr(close, 'real') > 1",
        "{}",
        "close @ 1",
        "1_000 > close",
    ],
)
def test_no_eval_only_clean_errors(text: str) -> None:
    with pytest.raises(ScreenError):
        parse(text, COLUMNS, KINDS)


def test_import_is_an_unknown_function() -> None:
    with pytest.raises(ScreenError, match="unknown function '__import__' at position 1"):
        parse("__import__('os')")


def test_no_chaining_comparisons_hint_between() -> None:
    with pytest.raises(ScreenError, match="between"):
        parse("30 < rsi_14 < 70")
    assert matches("between(rsi_14, 30, 35)") == ["B"]


def test_default_columns_are_bars_and_indicator_outputs() -> None:
    assert (*INPUTS, *output_columns()) == sc.DEFAULT_COLUMNS
    assert set(sc.DEFAULT_EVENT_KINDS) >= {"gap_up", "golden_cross", "consensus_upgrade"}


def test_functions_table_documents_every_function() -> None:
    assert set(sc.FUNCTIONS) == {
        "crossed_above",
        "crossed_below",
        "prev",
        "pct",
        "abs",
        "between",
        "event",
    }
    for name, (signature, meaning) in sc.FUNCTIONS.items():
        assert signature.startswith(f"{name}(")
        assert meaning


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------


def test_crossed_above_does_not_leak_across_tickers() -> None:
    assert rows("crossed_above(sma_200)") == [("A", 2), ("B", 3), ("C", 1)]
    assert rows("crossed_below(sma_200)") == [("A", 3), ("B", 1), ("C", 3)]
    assert rows("crossed_above(close, sma_200)") == rows("crossed_above(sma_200)")
    # The level crossing the close is the close crossing the level the other way.
    assert rows("crossed_above(sma_200, close)") == rows("crossed_below(sma_200)")


def test_prev_is_the_same_tickers_previous_session() -> None:
    assert rows("prev(close) == 9") == [("A", 1), ("A", 2), ("B", 2), ("B", 3)]
    assert rows("prev(prev(close)) == 9") == [("A", 2), ("A", 3), ("B", 3)]
    assert rows("prev(1) == 1") == [(t, i) for t in "ABC" for i in (1, 2, 3)]
    assert rows("prev(crossed_above(sma_200))") == [("A", 3), ("C", 2)]


def test_functions_evaluate() -> None:
    # 12 / 10 - 1 is 0.19999999999999996 in floats, hence 19%.
    assert rows("pct(close, sma_200) >= 19%") == [("C", 1), ("C", 2)]
    assert rows("abs(pct(close, sma_200)) >= 19%") == [("C", 0), ("C", 1), ("C", 2), ("C", 3)]
    assert rows("between(close, 11, 12)") == [("A", 2), ("B", 0), ("B", 3), ("C", 1)]
    assert rows("close / 0 > 1 or close / (sma_200 - 10) < 1") == []  # division by zero: missing


def test_missing_values_never_match() -> None:
    # B's RSI is missing on D0: neither the condition nor its negation matches there.
    assert ("B", 0) not in rows("rsi_14 < 100")
    assert ("B", 0) not in rows("not rsi_14 < 100")
    assert ("B", 0) in rows("rsi_14 < 100 or close > 0")  # unknown or true is true
    assert ("B", 0) not in rows("rsi_14 < 100 and close > 0")


def test_run_returns_the_latest_session_by_default() -> None:
    result = run(parse("crossed_above(sma_200)", COLUMNS, KINDS), small())
    assert tickers(result) == ["B"]
    assert result.columns == ["ticker", "date", "close", "sma_200"]
    assert result.row(0) == ("B", D[3], 11.0, 10.0)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D[3], ["B"]),
        (D[2], ["A"]),
        (D[1], ["C"]),
        (D[0], []),
        (dt.date(2024, 1, 6), ["B"]),  # a Saturday: the Friday session
        (dt.date(2024, 1, 3), ["C"]),
        (dt.date(2023, 12, 31), []),  # before every session
    ],
)
def test_as_of_picks_the_session(as_of: dt.date, expected: list[str]) -> None:
    result = run("crossed_above(sma_200)", small(), as_of=as_of)
    assert tickers(result) == expected
    assert result.columns == ["ticker", "date", "close", "sma_200"]
    if expected:
        assert result["date"].unique().to_list() == [max(d for d in D if d <= as_of)]


def test_tickers_without_a_bar_that_session_are_not_returned() -> None:
    frame = small().filter(~((pl.col("ticker") == "C") & (pl.col("date") == D[2])))
    assert tickers(run("close > 0", frame, as_of=D[2])) == ["A", "B"]
    # C's previous session is then D1 (close 12), not D2 (close 13).
    assert tickers(run("prev(close) == 12", frame)) == ["C"]
    assert tickers(run("prev(close) == 12", small())) == []


def test_run_reads_nothing_after_the_session() -> None:
    frame = small()
    later = frame.with_columns(
        pl.when(pl.col("date") > D[2]).then(pl.lit(-1.0)).otherwise(pl.col(c)).alias(c)
        for c in ("close", "sma_200", "rsi_14")
    )
    for expression in ("crossed_above(sma_200)", "prev(close) < close", "rsi_14 > 0"):
        assert run(expression, frame, as_of=D[2]).equals(run(expression, later, as_of=D[2]))


def test_run_sorts_unsorted_frames() -> None:
    shuffled = small().sample(fraction=1.0, shuffle=True, seed=3)
    for as_of in D:
        expected = run("crossed_above(sma_200)", small(), as_of=as_of)
        assert run("crossed_above(sma_200)", shuffled, as_of=as_of).equals(expected)
    in_order = small().with_columns(mask("crossed_above(sma_200)", small()))
    expected_mask = shuffled.join(in_order, on=["ticker", "date"], maintain_order="left")["match"]
    assert mask("crossed_above(sma_200)", shuffled).equals(expected_mask)
    assert expected_mask.sum() == 3


def test_duplicate_rows_are_an_error() -> None:
    frame = pl.concat([small(), small().head(1)])
    with pytest.raises(ScreenError, match="more than one row for A on 2024-01-02"):
        run("crossed_above(sma_200)", frame)


def test_sort_and_extra_columns() -> None:
    screen = parse("close > 0", COLUMNS, KINDS)
    result = run(screen, small(), sort="rsi_14", columns=["volume"])
    assert result.columns == ["ticker", "date", "close", "volume", "rsi_14"]
    assert tickers(result) == ["B", "A", "C"]  # RSI 35, 25, 10
    assert tickers(run(screen, small(), sort="rsi_14", descending=False)) == ["C", "A", "B"]
    # Missing values go last either way.
    assert tickers(run(screen, small(), as_of=D[0], sort="rsi_14")) == ["C", "A", "B"]
    assert tickers(run(screen, small(), as_of=D[0], sort="rsi_14", descending=False)) == [
        "A",
        "C",
        "B",
    ]
    assert tickers(run(screen, small(), sort="ticker")) == ["C", "B", "A"]
    both = run("rel_volume >= 2", small(), columns=["rsi_14", "close"], sort="rel_volume")
    assert both.columns == ["ticker", "date", "close", "rel_volume", "rsi_14"]
    assert tickers(both) == ["C", "B"]


def test_unknown_sort_or_column_suggests_the_nearest() -> None:
    with pytest.raises(ScreenError, match="unknown column 'rsi14'; did you mean 'rsi_14'") as e:
        run("close > 0", small(), sort="rsi14")
    assert e.value.field == "sort"
    with pytest.raises(ScreenError, match="unknown column 'volum'") as e:
        run("close > 0", small(), columns=["volume", "volum"])
    assert e.value.field == "columns"


def test_screen_columns_must_be_in_the_frame() -> None:
    screen = parse("sma_50 > close")
    with pytest.raises(ScreenError, match="column 'sma_50' used by the screen is not in the frame"):
        run(screen, small())
    with pytest.raises(ScreenError, match="'ticker' holds String, not numbers"):
        run(Screen("x", pl.col("ticker") == "A", ("ticker",)), small())
    with pytest.raises(ScreenError, match="lacks column"):
        run("close > 1", small().drop("ticker"))


def test_event() -> None:
    assert matches("event(gap_up)") == ["B"]
    assert matches("event(gap_up)", as_of=D[1]) == ["A"]
    assert matches("not event(gap_up) and rel_volume >= 2") == ["C"]
    assert matches("event(volume_surge) and event(gap_down)") == ["C"]
    assert matches("prev(event(gap_up))", as_of=D[2]) == ["A"]
    assert rows("event(gap_up) or event(volume_surge)") == [("A", 1), ("B", 3), ("C", 3)]


def test_event_needs_an_events_frame() -> None:
    screen = parse("event(gap_up)", COLUMNS, KINDS)
    with pytest.raises(ScreenError, match=r"tests events \(gap_up\) but no events") as e:
        run(screen, small())
    assert e.value.field == "events"
    with pytest.raises(ScreenError, match="events frame lacks column"):
        run(screen, small(), small_events().drop("kind"))


def test_events_with_no_match_and_empty_events() -> None:
    empty = small_events().clear()
    assert tickers(run("event(gap_up)", small(), empty)) == []
    assert tickers(run("not event(gap_up)", small(), empty)) == ["A", "B", "C"]


def test_a_hand_made_screen_evaluates_the_whole_history() -> None:
    where = (pl.col("close") > pl.col("close").shift(1)) & (
        pl.col("ticker") == pl.col("ticker").shift(1)
    )
    screen = Screen("hand-made", where.fill_null(False), ("close",))
    assert screen.lookback is None
    assert tickers(run(screen, small())) == ["B"]
    assert tickers(run(screen, small(), as_of=D[1])) == ["C"]


def test_mask_is_aligned_and_boolean() -> None:
    frame = small()
    hit = mask("crossed_above(sma_200)", frame)
    assert hit.dtype == pl.Boolean
    assert hit.len() == frame.height
    assert hit.null_count() == 0
    assert hit.name == "match"
    assert mask("1 < 2", frame).to_list() == [True] * frame.height


def test_run_on_an_empty_frame() -> None:
    result = run("crossed_above(sma_200)", small().clear())
    assert result.is_empty()
    assert result.columns == ["ticker", "date", "close", "sma_200"]


# --------------------------------------------------------------------------------------------
# presets
# --------------------------------------------------------------------------------------------

REQUIRED_PRESETS = {
    "breakouts",
    "breakdowns",
    "volume-surge",
    "golden-cross",
    "death-cross",
    "new-highs",
    "new-lows",
    "oversold",
    "overbought",
    "gap-up",
    "gap-down",
    "above-200",
}


def test_every_preset_parses_against_the_default_indicator_columns() -> None:
    assert set(PRESETS) >= REQUIRED_PRESETS
    default = [*INPUTS, *output_columns()]
    for name, (expression, description) in PRESETS.items():
        screen = parse(expression, default, [])
        assert set(screen.columns) <= set(default), name
        assert description, name
        assert sc.preset(name) == screen


def test_preset_definitions() -> None:
    assert PRESETS["oversold"][0] == "rsi_14 <= 30"
    assert parse(PRESETS["breakouts"][0]).columns == ("sma_200", "close", "rel_volume")
    assert ">= 1.5" in PRESETS["breakouts"][0]


def test_unknown_preset_suggests_the_nearest() -> None:
    with pytest.raises(
        ScreenError, match="unknown preset 'golden_cross'; did you mean 'golden-cross'"
    ):
        sc.preset("golden_cross")


def synthetic_bars(n_tickers: int = 12, n_days: int = 320, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    shape = (n_tickers, n_days)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, shape), axis=1))
    open_ = close * np.exp(rng.normal(0, 0.015, shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.01, shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.01, shape)))
    volume = rng.lognormal(13, 0.6, shape).astype(np.int64)
    dates = [dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(n_days)]
    return pl.DataFrame(
        {
            "ticker": np.repeat([f"T{i:02d}" for i in range(n_tickers)], n_days),
            "date": dates * n_tickers,
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        }
    )


@pytest.fixture(scope="module")
def computed() -> tuple[pl.DataFrame, pl.DataFrame]:
    result = compute(synthetic_bars())
    return result.frame, result.events


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        (PRESETS["volume-surge"][0], "volume_surge"),
        (PRESETS["golden-cross"][0], "golden_cross"),
        (PRESETS["death-cross"][0], "death_cross"),
        (PRESETS["new-highs"][0], "new_52w_high"),
        (PRESETS["new-lows"][0], "new_52w_low"),
        (PRESETS["gap-up"][0], "gap_up"),
        (PRESETS["gap-down"][0], "gap_down"),
        ("crossed_above(sma_200)", "cross_above_sma_200"),
        ("crossed_below(sma_200)", "cross_below_sma_200"),
        ("crossed_above(sma_50)", "cross_above_sma_50"),
    ],
)
def test_presets_agree_with_the_event_detectors(
    computed: tuple[pl.DataFrame, pl.DataFrame], expression: str, kind: str
) -> None:
    frame, events = computed
    hit = frame.filter(mask(expression, frame)).select("ticker", "date")
    fired = events.filter(pl.col("kind") == kind).select("ticker", "date")
    assert fired.height > 0, kind
    assert hit.sort("ticker", "date").equals(fired.sort("ticker", "date"))
    assert frame.filter(mask(f"event({kind})", frame, events)).height == fired.height


def test_run_over_a_computed_universe_every_session(
    computed: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    frame, events = computed
    expression = "crossed_above(sma_50) and not event(gap_down) or prev(rsi_14) < 35"
    whole = frame.filter(mask(expression, frame, events))
    for as_of in frame["date"].unique().sort().tail(40):
        result = run(expression, frame, events, as_of=as_of)
        expected = whole.filter(pl.col("date") == as_of)
        assert tickers(result) == expected["ticker"].to_list()


# --------------------------------------------------------------------------------------------
# random expressions
# --------------------------------------------------------------------------------------------

NUMERIC = ["close", "open", "volume", "sma_200", "rel_volume", "rsi_14"]
literals = st.one_of(
    st.integers(0, 1000).map(str),
    st.floats(0, 1000, allow_nan=False).map(lambda x: f"{x:.3g}".replace("inf", "1")),
    st.integers(0, 100).map(lambda x: f"{x}%"),
    st.sampled_from(["1e6", "2.5", ".5", "1e-3", "0"]),
)
numbers = st.recursive(
    st.one_of(st.sampled_from(NUMERIC), literals),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(" ".join),
        inner.map(lambda x: f"-{x}"),
        inner.map(lambda x: f"({x})"),
        inner.map(lambda x: f"abs({x})"),
        inner.map(lambda x: f"prev({x})"),
        st.tuples(inner, inner).map(lambda t: f"pct({t[0]}, {t[1]})"),
    ),
    max_leaves=6,
)
comparisons = st.tuples(numbers, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), numbers)
conditions = st.recursive(
    st.one_of(
        comparisons.map(" ".join),
        numbers.map(lambda x: f"crossed_above({x})"),
        st.tuples(numbers, numbers).map(lambda t: f"crossed_below({t[0]}, {t[1]})"),
        st.tuples(numbers, numbers, numbers).map(lambda t: f"between({t[0]}, {t[1]}, {t[2]})"),
        st.sampled_from(KINDS).map(lambda k: f"event({k})"),
    ),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["and", "or", "AND"]), inner).map(" ".join),
        inner.map(lambda x: f"not {x}"),
        inner.map(lambda x: f"({x})"),
        inner.map(lambda x: f"prev({x})"),
        st.tuples(inner, st.sampled_from(["==", "!="]), inner).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
    ),
    max_leaves=5,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions)
def test_random_valid_expressions_give_boolean_masks(text: str) -> None:
    frame, events = small(), small_events()
    screen = parse(text, COLUMNS, KINDS)
    hit = mask(screen, frame, events)
    assert hit.dtype == pl.Boolean
    assert hit.len() == frame.height
    assert hit.null_count() == 0
    # A row never matches a condition and its negation.
    negated = mask(parse(f"not ({text})", COLUMNS, KINDS), frame, events)
    assert not (hit & negated).any()
    # run() gives the rows of the mask on each session.
    for as_of in D:
        expected = frame.filter(hit & (pl.col("date") == as_of))["ticker"].to_list()
        assert tickers(run(screen, frame, events, as_of=as_of)) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcloseprv_()<>=!&|+-*/%.,0123456789 'e", max_size=30))
def test_random_text_parses_or_raises_a_screen_error(text: str) -> None:
    position: int | None = None
    try:
        screen = parse(text, COLUMNS, KINDS)
    except ScreenError as error:
        position = error.position if error.position is not None else -1
    if position is None:
        assert mask(screen, small(), small_events()).len() == small().height
    else:
        assert 1 <= position <= len(text) + 1


def test_nesting_and_length_limits_are_clean_errors() -> None:
    deepest = "close > " + "abs((" * (sc.MAX_NESTING // 2) + "1" + "))" * (sc.MAX_NESTING // 2)
    assert mask(parse(deepest, COLUMNS, KINDS), small()).all()
    with pytest.raises(ScreenError, match="nests more than 40 levels deep"):
        parse(deepest.replace("> abs", "> -abs"), COLUMNS, KINDS)
    with pytest.raises(ScreenError, match="nests more than 40 levels deep at position 49"):
        parse("close > " + "(" * 200 + "1" + ")" * 200, COLUMNS, KINDS)
    with pytest.raises(ScreenError, match="nests more than 40 levels deep"):
        parse("not " * 100 + "close > 1", COLUMNS, KINDS)
    longest = "close > " + " + ".join(["1"] * 499)
    assert parse(longest, COLUMNS, KINDS).columns == ("close",)
    with pytest.raises(ScreenError, match="too long: more than 1000 tokens"):
        parse(longest + " + 1", COLUMNS, KINDS)
