"""The dashboard under requests no page sends: huge queries, long bad expressions, HEAD.

Every test talks to a real uvicorn server on a loopback port over a raw socket, so what is
checked is what a client receives: status line, headers and the exact bytes of the body.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.routing import APIRoute
from starlette.routing import Route

from helpers import serving
from stockbrief import api
from stockbrief.web import create_app
from stockbrief.web.app import MAX_QUERY

GET_TARGETS = {
    "/": "/?as_of=2026-01-02",
    "/ticker": "/ticker?t=baba",
    "/ticker/{ticker}": "/ticker/BABA?as_of=2026-01-02",
    "/screen": "/screen?q=close+%3E+sma_200&as_of=2026-01-02",
    "/api/tickers": "/api/tickers",
    "/api/bars/{ticker}": "/api/bars/JD?as_of=2026-01-02",
    "/api/brief/{ticker}": "/api/brief/BABA?as_of=2026-01-02&lang=de",
    "/api/events": "/api/events?since=2026-01-02&as_of=2026-01-02",
    "/api/screen": "/api/screen?q=volume-surge",
    "/api/presets": "/api/presets",
    "/api/markers/{ticker}": "/api/markers/BABA?as_of=2026-01-02",
    "/api/compare/{ticker}": "/api/compare/BABA?as_of=2026-01-02",
    "/api/watchlists": "/api/watchlists",
    "/api/screens": "/api/screens",
    "/api/market": "/api/market?sort=change&per=10&page=2",
    "/openapi.json": "/openapi.json",
    "/docs": "/docs",
    "/docs/oauth2-redirect": "/docs/oauth2-redirect",
    "/redoc": "/redoc",
}
"""One address for every GET route of the app; a test checks that none is missing."""

ERROR_TARGETS = (
    "/ticker/NOPE",  # 404 page
    "/api/bars/NOPE",  # 404 JSON
    "/no/such/page",
    "/screen?q=close+%3E+sma200",  # 400 page
    "/api/screen?q=close+%3E+sma200",  # 400 JSON
    "/api/events?as_of=tomorrow",  # 422 JSON
    "/static/style.css",
    "/static/missing.css",
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BABA and JD with real prices up to the last finished session."""
    from conftest import shared_path

    prices = shared_path("yahoo-30")
    path = tmp_path_factory.mktemp("limits") / "limits.duckdb"
    api.ingest(
        "prices",
        [prices / f"{t}.csv" for t in ("BABA", "JD")],
        store=path,
        end=dt.date(2026, 3, 25),
    )
    return path


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[tuple[str, int]]:
    """The app under uvicorn on a free loopback port, stopped afterwards."""
    with serving(store) as address:
        yield address


def fetch(
    server: tuple[str, int], method: str, target: str
) -> tuple[int, dict[str, str], bytes, float]:
    """One request on its own connection: status, headers (lower-case names), body, seconds."""
    start = time.perf_counter()
    with socket.create_connection(server, timeout=60) as conn:
        conn.sendall(
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    elapsed = time.perf_counter() - start
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body, elapsed


def message_of(page: bytes) -> str:
    """The text of an error page's message, unescaped."""
    found = re.search(r'<pre class="message">(.*?)</pre>', page.decode("utf-8"), re.DOTALL)
    assert found, page[:300]
    return html.unescape(found.group(1))


def test_a_60_kb_query_is_refused_at_once(server: tuple[str, int]) -> None:
    query = "&".join(["ticker=BABA"] * 5_000)
    assert len(query) > 59_000
    status, headers, body, seconds = fetch(server, "GET", f"/api/events?{query}")
    assert status == 414
    assert seconds < 1.0
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert body == b'{"detail": "the query is 59,999 bytes long; at most 2,048 are accepted"}'
    page_status, page_headers, page, _ = fetch(server, "GET", f"/screen?q={'x' * 60_000}")
    assert page_status == 414
    assert page_headers["content-type"].startswith("text/html")
    assert message_of(page) == "the query is 60,002 bytes long; at most 2,048 are accepted"
    assert b"xxxxxxxxxx" not in page
    long_path, _, _, _ = fetch(server, "GET", "/ticker/" + "A" * 600)
    assert long_path == 414


def test_queries_within_the_limit_are_answered(server: tuple[str, int]) -> None:
    tickers = "&".join(["ticker=JD", "ticker=BABA"] * 80)
    target = f"/api/events?since=2026-01-02&as_of=2026-01-02&{tickers}"
    assert len(target.partition("?")[2]) <= MAX_QUERY
    status, _, body, seconds = fetch(server, "GET", target)
    assert status == 200
    assert seconds < 10
    # gap_up, large_move_up and sar_flip_up, not 80 times each
    assert body.count(b'"ticker": "BABA"') == 3


def test_error_pages_show_a_short_escaped_excerpt(server: tuple[str, int]) -> None:
    expression = "close > 0 and " + " and ".join(["close > 0"] * 70) + " and sma200 <b>x</b>"
    assert 1_000 < len(expression) < len(quote(expression)) < MAX_QUERY
    status, _, page, _ = fetch(server, "GET", f"/screen?q={quote(expression)}")
    assert status == 400
    assert b"<b>x</b>" not in page
    problem, line, pointer = message_of(page).split("\n")
    assert problem.startswith("field 'expression': unknown column 'sma200'")
    assert max(len(line), len(pointer)) <= 120
    assert line.startswith("    \N{HORIZONTAL ELLIPSIS}")
    assert line.endswith("close > 0 and sma200 <b>x</b>")
    assert line[pointer.index("^") :].startswith("sma200")
    status, _, body, _ = fetch(server, "GET", f"/api/screen?q={quote(expression)}")
    assert status == 400
    assert len(body) < 400
    assert b"sma200 <b>x</b>" in body
    status, _, body, _ = fetch(server, "GET", f"/api/events?as_of={'9' * 1_500}")
    assert status == 422
    assert len(body) < 600


def test_every_get_route_has_an_address_here(store: Path) -> None:
    routes = {
        r.path
        for r in create_app(store).routes
        if isinstance(r, APIRoute | Route) and "GET" in (r.methods or ())
    }
    assert routes == set(GET_TARGETS)


@pytest.mark.parametrize("target", [*GET_TARGETS.values(), *ERROR_TARGETS])
def test_head_answers_as_get_without_a_body(server: tuple[str, int], target: str) -> None:
    got_status, got_headers, got_body, _ = fetch(server, "GET", target)
    status, headers, body, _ = fetch(server, "HEAD", target)
    assert status == got_status
    assert status != 405
    assert body == b""
    got_headers.pop("date", None)
    headers.pop("date", None)
    if "content-length" in got_headers:
        assert int(got_headers["content-length"]) == len(got_body)
    assert headers == got_headers


def test_405_names_head_among_the_allowed_methods(server: tuple[str, int]) -> None:
    status, headers, _, _ = fetch(server, "POST", "/api/tickers")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"
