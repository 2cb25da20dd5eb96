"""The local dashboard: :func:`create_app` builds the FastAPI application, :func:`serve` runs it.

Pages are rendered on the server from ``web/templates``; the chart on the ticker page draws itself
from ``/api/bars`` with the vendored lightweight-charts. Everything reads the store through
:mod:`stockbrief.api`, read-only, one open per request.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stockbrief import __version__, api
from stockbrief.errors import InputError, NotFoundError, StockbriefError, StoreError
from stockbrief.text import excerpt
from stockbrief.web import chartdata, marketpage, pages, watchlists

STATIC: Final = Path(__file__).parent / "static"

LOOPBACK_HOSTS: Final = ("localhost", "127.0.0.1", "[::1]")
"""Host headers :func:`serve` accepts on a loopback address, against DNS rebinding."""

LIBRARY_STYLE: Final = "'sha256-3pRED1tOXas1FXFoPb9TGCjmYe9XQsmO9OV23khV2nY='"
"""Hash of the one ``<style>`` element lightweight-charts 4.2.3 adds for its attribution logo."""

PAGE_POLICY: Final = (
    "default-src 'self'; script-src 'self'; "
    f"style-src 'self' {LIBRARY_STYLE}; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Content-Security-Policy of every page: no inline script at all, so escaped text stays text."""

STATUS_TITLES: Final = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Body too large",
    414: "Address too long",
    422: "Invalid parameters",
    500: "Server error",
    503: "Store unavailable",
}

COMMON_HEADERS: Final = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
"""Headers of every response."""

MAX_QUERY: Final = 2048
"""Bytes of query string a request may carry: room for any screen expression a person writes
and for dozens of tickers; a longer one is refused with 414 before any route reads the store."""

MAX_PATH: Final = 512
"""Bytes of path a request may carry (a ticker is at most 20 characters)."""

AsOf = Annotated[
    dt.date | None, Query(description="Session date (YYYY-MM-DD); default: the latest stored.")
]


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status, headers={"Content-Security-Policy": PAGE_POLICY})


def _json(data: Any, status: int = 200) -> Response:
    return Response(pages.to_json(data), status, media_type="application/json")


def _error(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    # Messages quote what was asked for (an expression, a ticker): an excerpt is enough.
    message = excerpt(message)
    if _wants_json(request):
        response = _json({"detail": message}, status)
    else:
        title = STATUS_TITLES.get(status, "Error")
        page = pages.render("error.html.j2", status=status, title=title, message=message)
        response = _page(page, status)
    response.headers.update(headers or {})
    return response


def _status(exc: StockbriefError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, InputError):
        return 400
    return 503 if isinstance(exc, StoreError) else 500


async def _on_stockbrief_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StockbriefError)
    return _error(request, _status(exc), str(exc))


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    allow = [m.strip() for m in headers.get("Allow", "").split(",") if m.strip()]
    if "GET" in allow and "HEAD" not in allow:
        headers["Allow"] = ", ".join([*allow, "HEAD"])  # HeadAsGet answers HEAD wherever GET works
    return _error(request, exc.status_code, str(exc.detail), headers)


async def _on_invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _wants_json(request):
        problems = jsonable_encoder(exc.errors())
        for problem in problems:
            if isinstance(problem.get("input"), str):
                problem["input"] = excerpt(problem["input"])
        return _json({"detail": problems}, 422)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}"
        for e in exc.errors()
    )
    return _error(request, 422, problems)


class HeadAsGet:
    """ASGI middleware: refuses over-long addresses at once, and answers HEAD as GET, bodiless.

    A request whose query string is over :data:`MAX_QUERY` bytes or whose path is over
    :data:`MAX_PATH` gets a short 414 before routing, so a huge query never occupies a worker.
    A HEAD request runs as the GET of the same address and gets its status and headers
    (``Content-Length`` included), without the body, on every route, error pages included.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
            send = _without_body(send)
        query = len(scope.get("query_string", b""))
        path = len(scope.get("raw_path") or scope["path"].encode())
        if query > MAX_QUERY:
            message = f"the query is {query:,} bytes long; at most {MAX_QUERY:,} are accepted"
        elif path > MAX_PATH:
            message = f"the path is {path:,} bytes long; at most {MAX_PATH:,} are accepted"
        else:
            await self.app(scope, receive, send)
            return
        refusal = _error(Request(scope), 414, message)
        refusal.headers.update(COMMON_HEADERS)  # set by _common_headers, which it never reaches
        await refusal(scope, receive, send)


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_head


async def _common_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    for name, value in COMMON_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(store: Path, *, allowed_hosts: Sequence[str] | None = None) -> FastAPI:
    """The dashboard over one store file.

    Parameters
    ----------
    store
        The DuckDB store; it must exist (``stockbrief ingest`` creates it). Each request opens it
        read-only through :mod:`stockbrief.api`, so ingesting while serving is not supported.
    allowed_hosts
        Host headers to accept (default: any). :func:`serve` passes :data:`LOOPBACK_HOSTS` when
        it listens on a loopback address, so that a web page cannot reach the dashboard through
        DNS rebinding.

    Raises
    ------
    StoreError
        When there is no store file at ``store``.
    """
    path = Path(store)
    if not path.is_file():
        raise StoreError(f"{path}: no store here; ingest data first")
    app = FastAPI(
        title="stockbrief",
        version=__version__,
        summary="Data-backed market notes: bars, events, briefs and screens of a local store.",
        docs_url=None,  # FastAPI's own pages load their scripts from a CDN: _add_docs serves them
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_docs(app)
    app.add_exception_handler(StockbriefError, _on_stockbrief_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_invalid_request)
    app.middleware("http")(_common_headers)
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(HeadAsGet)  # outermost: before any other middleware reads the request
    _add_pages(app, path)
    _add_api(app, path)
    _add_watchlists(app, path)
    _add_saved_screens(app, path)
    return app


DOCS_ASSETS: Final = "/docs-static"
"""Where the API docs' scripts and styles are served from, beside the pages' ``/static``."""


def _add_docs(app: FastAPI) -> None:
    """The API docs, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, from local files only.

    The scripts come with the ``fastapi-offline`` package (Swagger UI, Apache-2.0; ReDoc, MIT;
    their licence headers are kept in the files), so the docs render with no network at all.
    Swagger UI's online validator is off, and the pages may show no image from elsewhere
    (ReDoc's attribution logo would come from its CDN; its text link stays).
    """
    from importlib.resources import files

    from fastapi.openapi.docs import (
        get_redoc_html,
        get_swagger_ui_html,
        get_swagger_ui_oauth2_redirect_html,
    )

    assets = Path(str(files("fastapi_offline") / "static"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-static")
    schema = app.openapi_url or "/openapi.json"
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    local_images = {"Content-Security-Policy": "img-src 'self' data:"}

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=schema,
            title=f"{app.title} API",
            oauth2_redirect_url=redirect,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers.update(local_images)
        return page

    @app.get(redirect, include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=schema,
            title=f"{app.title} API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        page.headers.update(local_images)
        return page


def _add_pages(app: FastAPI, store: Path) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def market(
        as_of: str | None = None,
        watchlist: str = "",
        sector: Annotated[str, Query(max_length=80)] = "",
        sort: str = "",
        order: str = "",
        page: Annotated[int, Query(ge=1)] = 1,
        per: int = marketpage.DEFAULT_SIZE,
    ) -> HTMLResponse:
        asked = _market_query(as_of, watchlist, sector, sort, order, page, per)
        view = marketpage.market_page(store, asked)
        return _page(pages.render("market.html.j2", page=view))

    @app.get("/ticker", include_in_schema=False)
    def lookup(t: str = "") -> Response:
        raw = t.strip()[:40]  # a ticker has at most 20 characters, a company name a few more
        close = pages.nearest_tickers(store, raw)
        if close and close[0] == raw.upper():
            return RedirectResponse(f"/ticker/{quote(close[0], safe='')}", 303)
        return _not_stored(raw, close)

    @app.get("/ticker/{ticker}", response_class=HTMLResponse, include_in_schema=False)
    def ticker(ticker: str, as_of: str | None = None, lang: pages.Lang = "en") -> Response:
        symbol = pages.ticker_of(ticker)
        try:
            view = pages.ticker_page(store, symbol, pages.date_of(as_of), lang)
        except NotFoundError:
            close = pages.nearest_tickers(store, symbol)
            if symbol in close:
                raise  # stored, but nothing on or before the date asked for
            return _not_stored(symbol, close)
        return _page(pages.render("ticker.html.j2", page=view))

    def _not_stored(raw: str, close: list[str]) -> Response:
        message = f"unknown ticker {excerpt(raw)!r}: no bars stored"
        if not close:
            message += "; the market page lists every stored ticker"
        page = pages.render(
            "error.html.j2", status=404, title="Not found", message=message, suggestions=close
        )
        return _page(page, 404)

    @app.get("/screen", response_class=HTMLResponse, include_in_schema=False)
    def screen(q: str = "", as_of: str = "", sort: str = "", saved: str = "") -> HTMLResponse:
        day = pages.date_of(as_of)
        by, name = sort.strip() or None, saved.strip() or None
        try:
            view = pages.screen_page(store, q, day, sort=by, saved=name)
        except InputError as exc:
            problem = excerpt(str(exc))
            view = pages.screen_page(store, q, day, error=problem, sort=by, saved=name)
            return _page(pages.render("screen.html.j2", page=view), 400)
        return _page(pages.render("screen.html.j2", page=view))


def _market_query(
    as_of: str | None, watchlist: str, sector: str, sort: str, order: str, page: int, per: int
) -> marketpage.Query:
    chosen = watchlists.name_of(watchlist) if watchlist.strip() else None
    return marketpage.Query.of(pages.date_of(as_of), chosen, sector, sort, order, page, per)


def _add_api(app: FastAPI, store: Path) -> None:
    @app.get("/api/tickers", tags=["data"])
    def tickers() -> Response:
        """Every stored ticker with its first and last session and its number of bars."""
        return _json(pages.tickers_json(store))

    @app.get("/api/bars/{ticker}", tags=["data"])
    def bars(
        ticker: str,
        as_of: AsOf = None,
        start: Annotated[
            dt.date | None, Query(alias="from", description="First date (inclusive).")
        ] = None,
        end: Annotated[
            dt.date | None, Query(alias="to", description="Last date (inclusive); as `as_of`.")
        ] = None,
    ) -> Response:
        """Daily bars from ``from`` to ``to`` (or ``as_of``) with the 50- and 200-day averages,
        for the chart.

        Prices are adjusted for the splits known on the last date; averages are null in warm-up
        (they are computed over the whole history, so ``from`` never shortens them).
        """
        if as_of is not None and end is not None and as_of != end:
            raise InputError("give `to` or `as_of`, not two different dates", field="to")
        last = end or as_of
        if start is not None and last is not None and start > last:
            raise InputError(f"`from` {start} is after `to` {last}", field="from")
        return _json(pages.bars_json(store, pages.ticker_of(ticker), last, start))

    @app.get("/api/markers/{ticker}", tags=["data"])
    def markers(ticker: str, as_of: AsOf = None) -> Response:
        """The ticker's events up to ``as_of``, each with a label, what it means and whether it
        marks a rise or a fall: the chart's markers."""
        return _json(chartdata.markers_json(store, pages.ticker_of(ticker), as_of))

    @app.get("/api/compare/{ticker}", tags=["data"])
    def compare(ticker: str, as_of: AsOf = None) -> Response:
        """Adjusted closes of the ticker, its stored peer group and SPY up to ``as_of``."""
        return _json(chartdata.compare_json(store, pages.ticker_of(ticker), as_of))

    @app.get("/api/brief/{ticker}", tags=["briefs"])
    def brief(ticker: str, as_of: AsOf = None, lang: pages.Lang = "en") -> Response:
        """The brief of one session as JSON: facts with sources and formulas, events, verdict
        (with the event-study evidence) and sections."""
        return _json(pages.brief_json(store, pages.ticker_of(ticker), as_of, lang))

    @app.get("/api/events", tags=["data"])
    def events(
        as_of: AsOf = None,
        since: Annotated[dt.date | None, Query(description="First date (inclusive).")] = None,
        ticker: Annotated[list[str] | None, Query(description="Tickers (default: all).")] = None,
    ) -> Response:
        """Events of the stored universe from ``since`` to ``as_of``, computed afresh."""
        symbols = None if ticker is None else list(dict.fromkeys(map(pages.ticker_of, ticker)))
        return _json(pages.events_json(store, symbols, as_of, since))

    @app.get("/api/screen", tags=["screens"])
    def screen(
        q: Annotated[str, Query(description="A screen expression or a preset name.")],
        as_of: AsOf = None,
        sort: Annotated[str | None, Query(description="Column to sort by.")] = None,
        format: Annotated[Literal["json", "csv"], Query(description="json or csv.")] = "json",
    ) -> Response:
        """Tickers whose session on or before ``as_of`` matches; a bad expression gives 400
        with the parser's message, which points at the offending token. ``format=csv`` gives
        the rows as a CSV file."""
        if format == "csv":
            text = pages.screen_csv(store, q, as_of, sort)
            return Response(
                text,
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="screen.csv"'},
            )
        return _json(pages.screen_json(store, q, as_of, sort))

    @app.get("/api/market", tags=["data"])
    def market(
        as_of: AsOf = None,
        watchlist: Annotated[str, Query(description="A stored watchlist's name.")] = "",
        sector: Annotated[str, Query(max_length=80, description="One sector only.")] = "",
        sort: Annotated[str, Query(description="ticker, name, close, change, volume, ...")] = "",
        order: Annotated[Literal["", "asc", "desc"], Query(description="asc or desc.")] = "",
        page: Annotated[int, Query(ge=1, description="1-based; past the end: the last.")] = 1,
        per: Annotated[int, Query(description="Rows a page: 10, 25, 50, 100 or 250.")] = 50,
    ) -> Response:
        """One page of the session's table of every stored ticker (or of a watchlist's, or a
        sector's), sorted on the server: close, change, volume, relative volume, distances to
        the 50- and 200-day averages (fractions), RSI and the day's event kinds."""
        day = None if as_of is None else as_of.isoformat()
        asked = _market_query(day, watchlist, sector, sort, order, page, per)
        return _json(marketpage.market_json(store, asked))

    @app.get("/api/presets", tags=["screens"])
    def presets() -> Response:
        """The named screens: name, expression and what they find."""
        return _json({"presets": [vars(p) for p in pages.presets()]})


MAX_BODY: Final = 64 << 10
"""Bytes a JSON request body may carry (a list of 1,000 tickers takes under 10 KB)."""


async def _json_body(request: Request) -> dict[str, Any]:
    """The body of a write from the dashboard's own pages, refused from anywhere else.

    Against cross-site request forgery: the body must be JSON (a form on another site cannot
    send that without a preflight this server never grants), and a browser's ``Origin`` and
    ``Sec-Fetch-Site`` must say the request comes from this origin.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise InputError("send the change as JSON (Content-Type: application/json)")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    site = request.headers.get("sec-fetch-site", "same-origin")
    if (origin is not None and origin != own) or site not in ("same-origin", "none"):
        raise HTTPException(403, "changes are accepted only from the dashboard's own pages")
    size = int(request.headers.get("content-length") or 0)
    body = await request.body()
    if max(size, len(body)) > MAX_BODY:
        raise HTTPException(413, f"the body is over {MAX_BODY:,} bytes")
    try:
        data = json.loads(body)
    except ValueError:
        raise InputError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object")
    return data


def _add_watchlists(app: FastAPI, store: Path) -> None:
    @app.get("/api/watchlists", tags=["watchlists"])
    def lists() -> Response:
        """Every stored watchlist by name, with its tickers in their order."""
        return _json({"watchlists": watchlists.stored(store)})

    @app.post("/api/watchlists", tags=["watchlists"])
    async def save(request: Request) -> Response:
        """Create or replace a list: ``{"name": "...", "tickers": ["BABA", ...]}`` (JSON, from
        the dashboard's origin). Every ticker must be stored."""
        data = await _json_body(request)
        name, tickers = watchlists.save(store, data.get("name"), data.get("tickers"))
        return _json({"name": name, "tickers": tickers})

    @app.delete("/api/watchlists/{name}", tags=["watchlists"])
    async def delete(name: str, request: Request) -> Response:
        """Remove a list (a JSON request from the dashboard's origin)."""
        await _json_body(request)
        return _json({"deleted": watchlists.delete(store, name)})


def _saved_json(saved: api.SavedScreen) -> dict[str, Any]:
    return {
        "name": saved.name,
        "expression": saved.expression,
        "columns": list(saved.columns),
        "sort": saved.sort,
        "saved_at": saved.saved_at,
    }


def _add_saved_screens(app: FastAPI, store: Path) -> None:
    @app.get("/api/screens", tags=["screens"])
    def saved() -> Response:
        """Every saved screen by name: expression, columns shown (empty: all), sort column."""
        return _json({"screens": [_saved_json(s) for s in api.saved_screens(store=store)]})

    @app.post("/api/screens", tags=["screens"])
    async def save(request: Request) -> Response:
        """Save or replace a screen: ``{"name": "...", "expression": "...", "columns": [...],
        "sort": "..."}`` (JSON, from the dashboard's origin). The expression must parse."""
        data = await _json_body(request)
        columns, sort = data.get("columns") or [], data.get("sort")
        if not isinstance(columns, list):
            raise InputError("columns must be a list of column names", field="columns")
        kept = api.save_screen(
            data.get("name"),  # type: ignore[arg-type]  # checked by save_screen
            data.get("expression"),  # type: ignore[arg-type]
            columns=columns,
            sort=sort,
            store=store,
        )
        return _json(_saved_json(kept))

    @app.delete("/api/screens/{name}", tags=["screens"])
    async def delete(name: str, request: Request) -> Response:
        """Remove a saved screen (a JSON request from the dashboard's origin)."""
        await _json_body(request)
        return _json({"deleted": api.delete_screen(name, store=store)})


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(store: Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the dashboard with uvicorn until interrupted.

    There is no authentication: on an address other than loopback, anyone who can reach it
    reads the whole store, so a warning goes to stderr.
    """
    import uvicorn

    local = is_loopback(host)
    if not local:
        print(
            f"warning: serving on {host}, not a loopback address: anyone who can reach port "
            f"{port} can read the store (there is no authentication)",
            file=sys.stderr,
        )
    app = create_app(store, allowed_hosts=LOOPBACK_HOSTS if local else None)
    uvicorn.run(app, host=host, port=port)
