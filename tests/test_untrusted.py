"""Stored text from files is shown, never obeyed: in Markdown, HTML and on the terminal.

News headlines, sources and links, security names and sectors, firm names and KPI names and units
are ingested with HTML, Markdown links and images, ANSI and OSC escapes and Rich markup in them.
Each medium must show the words and nothing else: a Markdown brief (rendered with markdown-it, as
a reader's viewer would) has no tag, link, image, table or extra heading; the HTML brief is
escaped; the terminal gets no escape sequence and prints Rich markup literally; JSON keeps the
stored text exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from stockbrief import api
from stockbrief.notes import render
from stockbrief.text import excerpt, markdown_text, strip_controls, terminal_text

DAY = dt.date(2026, 1, 2)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
JS_LINK = "[click](javascript:alert(3))"
PIXEL = "![](http://evil/pixel.png)"
SGR = "\x1b[31m"
OSC8 = "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"
OSC52 = "\x1b]52;c;aGFja2Vk\x07"
MARKUP = "[bold red]x[/]"
PIPE = "| col |"


def hostile(word: str) -> str:
    """``word`` wrapped in every construct a medium could obey, starting as a heading."""
    return f"# {word} {SCRIPT} {IMG} {JS_LINK} {PIXEL} {SGR}red{OSC8} {OSC52}{MARKUP} {PIPE}"


NAME = hostile("Alibaba")
HEADLINE = hostile("Baidu spins off Kunlunxin")
OWN_HEADLINE = hostile("Alibaba rallies")
SOURCE = hostile("Wire")
FIRM = hostile("Jefferies")
KPI = hostile("Cloud revenue")
UNIT = f"CNY {SGR}{MARKUP}"
READABLE = ("alert(1)", "click", "red", "link", MARKUP, PIPE)
"""What must still be read in every medium: the words, including those that look like syntax."""

TERMINAL_ESCAPES = ("\x1b", "\x07", "\x9b", "\x9d")
MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
"""A CommonMark viewer with raw HTML on and GitHub's tables, as the most permissive reader."""


def _write_json(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BABA, BIDU and JD with real prices, and every text field of theirs poisoned."""
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    folder = tmp_path_factory.mktemp("untrusted")
    path = folder / "u.duckdb"
    api.ingest("prices", [prices / f"{t}.csv" for t in ("BABA", "BIDU", "JD")], store=path, end=DAY)
    security = {"exchange": "XNYS", "currency": "USD", "industry": "Internet Retail"}
    api.ingest(
        "securities",
        [
            _write_json(
                folder / "securities.json",
                [
                    {
                        "ticker": "BABA",
                        "name": NAME,
                        "sector": hostile("Retail"),
                        "peer_group": "china",
                        **security,
                    },
                    {"ticker": "BIDU", "name": "Baidu", "peer_group": "china", **security},
                    {"ticker": "JD", "name": "JD.com", "peer_group": "china", **security},
                ],
            )
        ],
        store=path,
    )
    ratings = [
        {"ticker": "BABA", "firm": FIRM, "date": "2026-01-02", "rating": "Buy", "target": 230},
        {"ticker": "BABA", "firm": "Nomura", "date": "2026-01-02", "rating": "Buy", "target": 215},
        {"ticker": "BABA", "firm": "Citi", "date": "2025-12-15", "rating": "Hold", "target": 170},
    ]
    api.ingest("ratings", [_write_json(folder / "ratings.json", ratings)], store=path)
    kpis = [
        {
            "ticker": "BABA",
            "period_end": "2025-09-30",
            "name": KPI,
            "value": 39824000000,
            "unit": UNIT,
            "yoy": 0.34,
            "source": SOURCE,
        }
    ]
    api.ingest("kpis", [_write_json(folder / "kpis.json", kpis)], store=path)
    news = [
        {
            "published_at": "2026-01-01T12:00:00Z",
            "source": SOURCE,
            "headline": HEADLINE,
            "url": "javascript:alert(4)",
            "tickers": ["BIDU"],
        },
        {
            "published_at": "2026-01-02T09:00:00Z",
            "source": SOURCE,
            "headline": OWN_HEADLINE,
            "url": "http://evil/story",
            "tickers": ["BABA"],
        },
    ]
    lines = "".join(json.dumps(item) + "\n" for item in news)
    (folder / "news.jsonl").write_text(lines, encoding="utf-8")
    api.ingest("news", [folder / "news.jsonl"], store=path)
    return path


def run(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    """``stockbrief ARGS --store STORE`` as a user runs it, on a wide screen (no wrapping)."""
    env = {**os.environ, "COLUMNS": "1000", "TERM": "xterm-256color"}
    return subprocess.run(
        [sys.executable, "-m", "stockbrief", *args, "--store", str(store)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


# -- the functions ------------------------------------------------------------------------------


def test_terminal_escapes_are_stripped_and_the_words_kept() -> None:
    text = f"{SGR}red\x1b[0m {OSC8} {OSC52}copied \x9b31mc1\x9dtitle\x9c tab\tand\nline\r"
    assert strip_controls(text) == "red link copied c1 tab\tand\nline"
    assert strip_controls("\x1bPq#0;2;0;0;0\x1b\\sixel \x1b(B\x1b7kept\x7f\x00") == "sixel kept"
    assert strip_controls("unterminated \x1b]0;title") == "unterminated "
    shown = terminal_text(f"{MARKUP} {SGR}red")
    assert (shown.plain, shown.spans) == ("[bold red]x[/] red", [])


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (SCRIPT, "alert(1)"),
        ("<scr<script>ipt>alert(1)</script>", "alert(1)"),
        (f"a {IMG}b", "a b"),
        ('<a href="javascript:x()" title="a>b">t</a>', "t"),
        (f"{JS_LINK} now", "click now"),
        (f"{PIXEL}Pixel", "Pixel"),
        ("<javascript:alert(1)> <https://ok.example/a>", "https://ok.example/a"),
        (MARKUP, r"\[bold red\]x\[/\]"),
        (PIPE, r"\| col \|"),
        ("# heading", r"\# heading"),
        ("1. first", r"1\. first"),
        ("- item", r"\- item"),
        ("> quote", r"\> quote"),
        ("`code` *em* ~~gone~~", r"\`code\` \*em\* \~\~gone\~\~"),
        ("cross_above_sma_200 _em_", r"cross_above_sma_200 \_em\_"),
        ("P/E < 10 and > 5, AT&T", "P/E < 10 and > 5, AT&T"),
        ("Stock #1 ##", r"Stock #1 \##"),
        ("two\nlines\r\n# here", "two lines # here"),
        ("155,74\xa0$", "155,74\xa0$"),
    ],
)
def test_markdown_text(raw: str, escaped: str) -> None:
    assert markdown_text(raw) == escaped


def test_excerpt_keeps_the_caret_under_the_token() -> None:
    expression = "close > " + " + ".join(["close"] * 400) + " + sma200"
    caret = expression.index("sma200")
    message = f"unknown column 'sma200'\n    {expression}\n    {' ' * caret}^^^^^^"
    short = excerpt(message)
    problem, line, pointer = short.split("\n")
    assert problem == "unknown column 'sma200'"
    assert max(len(line), len(pointer)) <= 120
    assert line.startswith("    \N{HORIZONTAL ELLIPSIS}")
    assert line.endswith("close + close + sma200")
    assert line[pointer.index("^") :].startswith("sma200")
    assert pointer.strip() == "^^^^^^"
    assert excerpt("short\n    close > sma200\n            ^^^^^^") == (
        "short\n    close > sma200\n            ^^^^^^"
    )
    long = excerpt("x" * 5000 + "\n" + "\n".join("line" for _ in range(20)))
    assert len(long) < 6 * 121 + 2
    assert long.endswith("\N{HORIZONTAL ELLIPSIS}")


# -- briefs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "de"])
def test_markdown_brief_shows_the_words_and_obeys_none(store: Path, lang: str) -> None:
    note = api.brief("BABA", as_of=DAY, lang=lang, store=store)
    text = render.markdown(note)
    for raw in ("<script", "<img", "javascript:", "http://evil", "![", *TERMINAL_ESCAPES):
        assert raw not in text, raw
    assert MARKUP not in text  # escaped: \[bold red\]x\[/\]
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert len(headings) == 1 + len(note.sections)
    assert headings[0].startswith(r"# \# Alibaba alert(1)")

    page = MD.render(text)
    for tag in ("<script", "<img", "<a ", "<table", "<code", "<del", "<s>"):
        assert tag not in page, tag
    assert page.count("<h1>") == 1
    assert page.count("<h2>") == len(note.sections)
    assert page.count("<h1>") + page.count("<h2>") == page.count("<h")  # no other heading
    for words in ("Alibaba", "Baidu spins off Kunlunxin", "Jefferies", "Cloud revenue", "Wire"):
        assert words in page, words
    for words in READABLE:
        assert words in page, words
    milestones = next(s for s in note.sections if s.key == "milestones")
    opening = "\u201e" if lang == "de" else ""  # German quotes a name it does not translate
    # The narrative keeps the name as given; Markdown shows it as a paragraph, not a heading.
    assert milestones.text.startswith(f"{opening}# Cloud revenue")
    assert f"<p>{opening}# Cloud revenue alert(1)" in page


def test_html_brief_escapes_every_stored_text(store: Path) -> None:
    note = api.brief("BABA", as_of=DAY, store=store)
    page = render.html(note, chart=False)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert 'href="javascript' not in page
    for raw in TERMINAL_ESCAPES:
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert f"<h1>{'# Alibaba &lt;script&gt;'}" in page
    assert MARKUP in page


def test_json_brief_keeps_the_stored_text(store: Path) -> None:
    data = json.loads(render.render(api.brief("BABA", as_of=DAY, store=store), "json"))
    news = {item["headline"] for item in data["facts"]["news"]["value"]}
    assert {HEADLINE, OWN_HEADLINE} <= news
    assert data["facts"]["kpis"]["value"][0]["name"] == KPI
    assert data["facts"]["top_targets"]["value"][0]["firm"] == FIRM


# -- the terminal -------------------------------------------------------------------------------


def _assert_terminal_safe(shown: subprocess.CompletedProcess[str]) -> None:
    assert shown.returncode == 0, shown.stderr
    for raw in TERMINAL_ESCAPES:
        assert raw not in shown.stdout, repr(raw)
        assert raw not in shown.stderr, repr(raw)


def test_news_and_consensus_print_the_words_literally(store: Path) -> None:
    news = run("news", "BABA", "--as-of", "2026-01-02", store=store)
    _assert_terminal_safe(news)
    for line in (HEADLINE, OWN_HEADLINE):
        assert strip_controls(line) in news.stdout  # markup and tags as written, escapes gone
    consensus = run("consensus", "BABA", "--as-of", "2026-01-02", store=store)
    _assert_terminal_safe(consensus)
    assert f"  {strip_controls(FIRM)}: Buy, target 230.00 (2026-01-02)" in consensus.stdout


def test_info_brief_and_errors_on_the_terminal(store: Path, tmp_path: Path) -> None:
    info = run("info", store=store)
    _assert_terminal_safe(info)
    assert "3 tickers" in info.stdout
    printed = run("brief", "BABA", "--as-of", "2026-01-02", "--lang", "de", store=store)
    _assert_terminal_safe(printed)
    assert printed.stdout.startswith(r"# \# Alibaba alert(1)")
    bars = tmp_path / "bars.csv"
    bars.write_text(
        f"ticker,date,open,high,low,close,volume\nEV{SGR}IL{OSC52},2026-01-02,10,12,9,11,2000\n",
        encoding="utf-8",
    )
    refused = run("ingest", "prices", str(bars), store=tmp_path / "refused.duckdb")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "field 'ticker'" in refused.stderr
    for raw in TERMINAL_ESCAPES:
        assert raw not in refused.stderr, repr(raw)


def test_the_chart_draws_a_poisoned_name_without_control_glyphs(store: Path) -> None:
    """Control characters in a stored name never reach the font (matplotlib warned per glyph)."""
    import warnings

    note = api.brief("BABA", as_of=DAY, store=store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = render.chart_png(note)
    assert png.startswith(b"\x89PNG")
