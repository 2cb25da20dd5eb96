"""Plausibility checks at ingest: the real broken VIX bar is named and the clean real files raise
nothing; written files with a spike, unrecorded splits, a zero-volume run and stale bars are
each named with file, row and field; each threshold is tested on both of its sides."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from conftest import shared_path
from stockbrief import api, calendar
from stockbrief.errors import InputError
from stockbrief.sources.files import PriceFile
from stockbrief.sources.plausibility import (
    THRESHOLDS,
    Finding,
    check,
    check_incoming,
    scan,
)
from stockbrief.sources.sample import SampleSource

LAST_FINAL = dt.date(2026, 3, 25)
"""The last finished session of the yahoo-30 files (their 2026-03-26 rows are partial)."""

STEP = 0.02
"""Written series alternate log returns of +2% and -2%: a robust sigma of 1.4826 * 2%."""

SIGMA = 1.4826 * STEP


def sessions(n: int, start: dt.date = dt.date(2024, 1, 2)) -> list[dt.date]:
    days = calendar.sessions("XNYS")
    return days.filter(days >= start).head(n).to_list()


def zigzag(n: int, start: float = 50.0, trend: float = 0.0) -> list[float]:
    """Closes whose log returns alternate +STEP and -STEP (plus ``trend`` a session)."""
    return [start * math.exp(STEP * (i % 2) + trend * i) for i in range(n)]


def write_bars(
    path: Path,
    closes: list[float],
    volumes: list[int] | None = None,
    days: list[dt.date] | None = None,
) -> Path:
    """A price file: open at the close, high and low 1% around it."""
    days = days or sessions(len(closes))
    volumes = volumes or [1_000_000] * len(closes)
    lines = ["date,open,high,low,close,volume"]
    lines += [
        f"{d},{c!r},{c * 1.01!r},{c * 0.99!r},{c!r},{v}"
        for d, c, v in zip(days, closes, volumes, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def found(path: Path, **options: object) -> tuple[Finding, ...]:
    """The findings of one file judged on its own, as a first ingest judges it."""
    frame = PriceFile(path, **options).load().frame  # type: ignore[arg-type]
    return check_incoming(frame, None)


def kinds(findings: tuple[Finding, ...]) -> list[tuple[str, dt.date]]:
    return [(f.kind, f.date) for f in findings]


# -- real files ------------------------------------------------------------------------------


def real_files() -> list[Path]:
    return sorted(shared_path("yahoo-30").glob("*.csv")) + sorted(
        shared_path("yahoo-etf-raw").glob("*.csv")
    )


def test_the_real_files_raise_one_finding_the_broken_vix_bar() -> None:
    counts = {}
    vix: tuple[Finding, ...] = ()
    for path in real_files():
        end = LAST_FINAL if path.parent.name == "yahoo-30" else None
        findings = found(path, end=end)
        counts[f"{path.parent.name}/{path.name}"] = len(findings)
        if path.name == "VIX.csv":
            vix = findings
    assert len(counts) == 35
    assert {name: n for name, n in counts.items() if n} == {"yahoo-30/VIX.csv": 1}
    (bar,) = vix
    assert (bar.kind, bar.date, bar.row, bar.field) == ("index_volume", LAST_FINAL, 1312, "volume")
    assert str(bar.file).endswith("yahoo-30/VIX.csv")
    assert bar.line().endswith(
        "VIX.csv, row 1312, field 'volume': VIX 2026-03-25: volume 37,993,457 on VIX, which"
        " reports no volume on its other sessions (an index) (close 154.96 after 26.95): the"
        " bar likely belongs to another instrument"
    )
    assert "stockbrief delete VIX --from 2026-03-25 --to 2026-03-25 --what bars" in bar.hint


def test_the_vix_bar_is_also_a_spike_once_the_next_session_takes_it_back() -> None:
    path = shared_path("yahoo-30", "VIX.csv")
    findings = found(path, ticker="^VIX", allow_unfinished=True)
    assert kinds(findings) == [("index_volume", LAST_FINAL), ("spike", LAST_FINAL)]
    volume, spike = findings
    assert (spike.row, spike.field) == (1312, "close")
    assert "close 154.96 after 26.95 is a +475.0% move" in spike.message
    assert "reverts to 27.17 on 2026-03-26" in spike.message
    assert "volume 37,993,457 on an index (close" in volume.message


def test_vix_s_real_spike_of_august_2024_gave_back_too_little_to_be_a_bad_bar() -> None:
    """^VIX closed at 38.57 on 5 August 2024 after 23.39, and at 27.71 the next day: a real
    move that took back two thirds, short of ``spike_reversion``."""
    path = shared_path("yahoo-30", "VIX.csv")
    bars = PriceFile(path, end=dt.date(2024, 9, 30)).load().frame
    assert check(bars).is_empty()
    looser = dataclasses.replace(THRESHOLDS, spike_reversion=0.6)
    flagged = check(bars, thresholds=looser)
    assert flagged.select("kind", "date").rows() == [("spike", dt.date(2024, 8, 5))]


def test_the_sample_s_splits_are_found_without_its_actions_and_none_with_them() -> None:
    """The embedded sample is Quandl WIKI bars as traded: Apple split 2-for-1 on 2000-06-21 and
    2005-02-28 (volume not doubled in that source), Microsoft on 2003-02-18."""
    sample = SampleSource().load_all()
    bare = scan(sample.bars.frame)
    assert bare.select("ticker", "date", "kind").rows() == [
        ("AAPL", dt.date(2000, 6, 21), "unrecorded_split"),
        ("AAPL", dt.date(2005, 2, 28), "unrecorded_split"),
        ("MSFT", dt.date(2003, 2, 18), "unrecorded_split"),
    ]
    assert all("looks like a 2-for-1 split" in m for m in bare["message"])
    assert "AAPL,2005-02-28,split,2:1" in bare["hint"][1]
    assert scan(sample.bars.frame, splits=sample.actions.frame).is_empty()


# -- written files ---------------------------------------------------------------------------


@pytest.mark.parametrize(("move", "caught"), [(0.25, True), (0.22, False)])
def test_a_spike_beyond_eight_robust_sigmas_that_reverts_is_named(
    tmp_path: Path, move: float, caught: bool
) -> None:
    assert 0.22 < THRESHOLDS.spike_sigmas * SIGMA < 0.25
    closes = zigzag(80)
    closes[60] = closes[59] * math.exp(move)
    findings = found(write_bars(tmp_path / "ABC.csv", closes))
    day = sessions(80)[60]
    assert kinds(findings) == ([("spike", day)] if caught else [])
    if caught:
        (spike,) = findings
        assert (spike.row, spike.field) == (61, "close")
        assert spike.line().startswith(f"{tmp_path / 'ABC.csv'}, row 61, field 'close': ABC {day}")
        assert f"{math.expm1(move):+.1%} move" in spike.message
        assert f"({move / SIGMA:.0f} robust standard deviations" in spike.message


@pytest.mark.parametrize(("back", "caught"), [(0.8, True), (0.7, False)])
def test_a_spike_must_give_back_three_quarters_of_its_move(
    tmp_path: Path, back: float, caught: bool
) -> None:
    closes = zigzag(80)
    # +50% (log) on session 60; from session 61 on the level keeps (1 - back) of it.
    closes[60:] = [c * math.exp(0.5 * (1 - back)) for c in closes[60:]]
    closes[60] = closes[59] * math.exp(0.5)
    assert kinds(found(write_bars(tmp_path / "ABC.csv", closes))) == (
        [("spike", sessions(80)[60])] if caught else []
    )


def test_a_spike_without_history_or_next_session_is_not_judged(tmp_path: Path) -> None:
    closes = zigzag(80)
    closes[10] *= 2.0  # fewer than min_history returns before it
    closes[-1] *= 1.7  # no next session yet (and no split ratio)
    assert found(write_bars(tmp_path / "ABC.csv", closes)) == ()


def split_series(
    ratio: float, volume_factor: float, n: int = 80, at: int = 60
) -> tuple[list[float], list[int]]:
    """A zigzag whose price divides by ``ratio`` (exactly, on session ``at``) and whose volume
    multiplies by ``volume_factor`` from then on."""
    closes = zigzag(n, 60.0)
    volumes = [1_000_000] * n
    for i in range(at, n):
        closes[i] = zigzag(n, 60.0)[i + 1 if i % 2 == at % 2 else i - 1] / ratio
        volumes[i] = round(volumes[i] * volume_factor)
    closes[at] = closes[at - 1] / ratio
    return closes, volumes


def test_unrecorded_two_for_one_and_one_for_ten_splits_are_named(tmp_path: Path) -> None:
    day = sessions(80)[60]
    for name, ratio, text, row in [("TWO", 2, "2-for-1", "2:1"), ("TEN", 0.1, "1-for-10", "1:10")]:
        closes, volumes = split_series(ratio, ratio)
        (split,) = found(write_bars(tmp_path / f"{name}.csv", closes, volumes))
        assert (split.kind, split.date, split.row, split.field) == (
            "unrecorded_split",
            day,
            61,
            "close",
        )
        assert f"looks like a {text} split, and no split is stored on {day}" in split.message
        assert f"volume x{ratio:.2g}" in split.message
        assert (
            f"stockbrief ingest actions FILE, with the row {name},{day},split,{row}" in split.hint
        )


def test_a_split_stored_on_the_day_explains_the_jump(tmp_path: Path) -> None:
    closes, volumes = split_series(2, 2)
    frame = PriceFile(write_bars(tmp_path / "TWO.csv", closes, volumes)).load().frame
    day = sessions(80)[60]
    splits = pl.DataFrame(
        {"ticker": ["TWO"], "date": [day], "kind": ["split"], "value": [2.0]},
    )
    assert check(frame, splits=splits).is_empty()
    assert check(frame, splits=splits, adjusted=["TWO"])["kind"].to_list() == ["unrecorded_split"]


def test_a_halving_on_unchanged_volume_is_no_split_unless_the_ratio_is_exact(
    tmp_path: Path,
) -> None:
    closes, volumes = split_series(1 / 0.55, 1.0)  # x0.55: 2-for-1 missed by 10% (log)
    assert found(write_bars(tmp_path / "A.csv", closes, volumes)) == ()
    closes, volumes = split_series(2.0, 1.0)  # exactly half: a split whose volume was adjusted
    assert kinds(found(write_bars(tmp_path / "B.csv", closes, volumes))) == [
        ("unrecorded_split", sessions(80)[60])
    ]


def test_a_crash_on_a_surge_of_volume_is_news_not_a_split(tmp_path: Path) -> None:
    closes, volumes = split_series(2, 2)
    volumes[60] = 20_000_000  # ten times the sessions after it
    assert found(write_bars(tmp_path / "A.csv", closes, volumes)) == ()


@pytest.mark.parametrize(("zeros", "caught"), [(3, True), (2, False)])
def test_runs_of_zero_volume(tmp_path: Path, zeros: int, caught: bool) -> None:
    volumes = [1_000_000] * 40
    volumes[20 : 20 + zeros] = [0] * zeros
    findings = found(write_bars(tmp_path / "ABC.csv", zigzag(40), volumes))
    days = sessions(40)
    assert kinds(findings) == ([("zero_volume_run", days[20])] if caught else [])
    if caught:
        (run,) = findings
        assert (run.row, run.field, run.last) == (21, "volume", days[22])
        assert f"volume 0 for 3 sessions in a row ({days[20]} to {days[22]})" in run.message


@pytest.mark.parametrize(("repeats", "caught"), [(2, True), (1, False)])
def test_stale_repeated_bars(tmp_path: Path, repeats: int, caught: bool) -> None:
    closes = zigzag(40, trend=0.001)
    closes[21 : 21 + repeats] = [closes[20]] * repeats
    findings = found(write_bars(tmp_path / "ABC.csv", closes))
    days = sessions(40)
    assert kinds(findings) == ([("stale_bars", days[21])] if caught else [])
    if caught:
        (stale,) = findings
        assert (stale.row, stale.field, stale.last) == (22, "close", days[22])
        assert f"for 3 sessions in a row ({days[20]} to {days[22]})" in stale.message


def test_volume_on_a_caret_index_that_reports_volume_is_no_finding(tmp_path: Path) -> None:
    """^GSPC-style indexes report volume every day: only a bar among silent ones is out of
    place."""
    path = write_bars(tmp_path / "SPX.csv", zigzag(40))
    assert found(path, ticker="^SPX") == ()
    volumes = [0] * 40
    volumes[30] = 5_000
    (bar,) = found(write_bars(tmp_path / "VXX.csv", zigzag(40), volumes), ticker="^VXX")
    assert (bar.kind, bar.row, bar.field) == ("index_volume", 31, "volume")
    assert "volume 5,000 on an index" in bar.message


def test_a_new_bar_is_judged_against_the_stored_bars_around_it(tmp_path: Path) -> None:
    """One new VIX bar alone says nothing; next to its stored history it is volume on a series
    that reports none. The session after it reveals the stored bar as a spike."""
    days = sessions(62)
    volumes = [0] * 62
    volumes[60] = 1_000_000
    closes = zigzag(62, 20.0)
    closes[60] = closes[59] * 5
    whole = PriceFile(write_bars(tmp_path / "VIX.csv", closes, volumes, days)).load().frame
    stored = whole.head(60)
    new = whole.slice(60, 1)
    assert check(new).is_empty()
    (bar,) = check(new, history=stored).rows(named=True)
    assert (bar["kind"], bar["date"], bar["row"]) == ("index_volume", days[60], 61)
    later = check(whole.slice(61, 1), history=whole.head(61))
    assert later.select("kind", "date", "file", "row").rows() == [("spike", days[60], None, None)]


# -- ingest ----------------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args], capture_output=True, text=True, cwd=cwd
    )


def stored(path: Path) -> dict[str, pl.DataFrame]:
    """Every bar and the per-ticker counts and checksums, to compare before and after."""
    with api.Store(path) as db:
        return {"bars": db.read("bars"), "fingerprint": db.fingerprint()}


def test_ingest_stores_a_suspicious_bar_and_reports_it(tmp_path: Path) -> None:
    vix = shared_path("yahoo-30", "VIX.csv")
    report = api.ingest("prices", [vix], store=tmp_path / "s.duckdb", end=LAST_FINAL)
    assert report.result.inserted == 1312
    (warning,) = report.warnings
    assert (warning.ticker, warning.date, warning.row, warning.field, warning.kind) == (
        "VIX",
        LAST_FINAL,
        1312,
        "volume",
        "index_volume",
    )
    assert report.summary().endswith("; 1 warning about suspicious bars")
    bars = stored(tmp_path / "s.duckdb")["bars"]
    assert bars.filter(pl.col("date") == LAST_FINAL)["volume"].to_list() == [37_993_457]


def test_strict_refuses_the_file_and_leaves_the_store_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    api.ingest("prices", [shared_path("yahoo-30", "AAPL.csv")], store=path, end=LAST_FINAL)
    before = stored(path)
    vix = shared_path("yahoo-30", "VIX.csv")
    aapl = shared_path("yahoo-30", "AAPL.csv")
    with pytest.raises(InputError) as caught:
        api.ingest("prices", [aapl, vix], store=path, end=LAST_FINAL, strict=True, replace=True)
    error = caught.value
    assert (error.file, error.row, error.field) == (str(vix), 1312, "volume")
    assert str(error).startswith(
        f"{vix}, row 1312, field 'volume': VIX 2026-03-25: volume 37,993,457 on VIX"
    )
    assert "(--strict refuses suspicious bars" in str(error)
    after = stored(path)
    assert all(before[k].equals(after[k]) for k in before)
    assert api.ingest("prices", [aapl], store=path, end=LAST_FINAL, strict=True).warnings == ()
    with pytest.raises(InputError, match="--strict applies to prices only"):
        api.ingest("actions", [aapl], store=path, strict=True)


def test_the_command_line_warns_on_stderr_or_refuses_with_strict(tmp_path: Path) -> None:
    vix = str(shared_path("yahoo-30", "VIX.csv"))
    store = str(tmp_path / "cli.duckdb")
    strict = run(
        "ingest", "prices", vix, "--to", "2026-03-25", "--strict", "--store", store, cwd=tmp_path
    )
    assert strict.returncode == 1
    assert "Traceback" not in strict.stderr
    (line,) = strict.stderr.strip().splitlines()
    assert line.startswith(f"error: {vix}, row 1312, field 'volume': VIX 2026-03-25: volume")
    info = run("info", "--store", store, "--format", "csv", cwd=tmp_path)
    assert "VIX" not in info.stdout

    ok = run("ingest", "prices", vix, "--to", "2026-03-25", "--store", store, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "1,312 new" in ok.stdout
    (warning,) = ok.stderr.strip().splitlines()
    assert warning.startswith(f"warning: {vix}, row 1312, field 'volume': VIX 2026-03-25:")
    assert warning.endswith("; run `stockbrief doctor VIX`")


def test_strict_stores_good_rows_that_reveal_a_stored_bad_bar(tmp_path: Path) -> None:
    """The session after the stored VIX bar shows it was a spike: a warning about the stored
    bar, not a refusal of the new one."""
    path = tmp_path / "s.duckdb"
    vix = shared_path("yahoo-30", "VIX.csv")
    api.ingest("prices", [vix], store=path, end=LAST_FINAL)
    report = api.ingest("prices", [vix], store=path, start=dt.date(2026, 3, 26), strict=True)
    assert report.result.inserted == 1
    (warning,) = report.warnings
    assert (warning.kind, warning.date, warning.file, warning.row) == (
        "spike",
        LAST_FINAL,
        None,
        None,
    )
    assert warning.line().startswith("stored bar, field 'close': VIX 2026-03-25: close 154.96")
