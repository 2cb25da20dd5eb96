"""The API docs render in a real browser with no network: every script and style is local."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install -e '.[web]')")

from fastapi.testclient import TestClient

from helpers import good_rows, serving, write_csv
from stockbrief import api
from stockbrief.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces beside the request filter below: no host name but loopback resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    path = folder / "docs.duckdb"
    api.ingest("prices", [write_csv(folder / "ABC.csv", good_rows())], store=path)
    return path


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, stopped afterwards."""
    with serving(store) as (host, port):
        yield f"http://{host}:{port}"


def test_docs_pages_name_only_local_assets(store: Path) -> None:
    with TestClient(create_app(store)) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            assert "http://" not in html
            assert "https://" not in html
            assert "/docs-static/" in html
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            got = client.get(f"/docs-static/{asset}")
            assert got.status_code == 200
            assert len(got.content) > 100_000


def operations(server: str) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the app's OpenAPI schema."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server}/openapi.json", timeout=10) as answer:
        schema = json.load(answer)
    return [(m.upper(), p) for p, ops in schema["paths"].items() for m in ops]


def test_docs_render_offline_in_chromium(server: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expected = operations(server)
    assert ("GET", "/api/bars/{ticker}") in expected
    blocked: list[str] = []
    refused: list[str] = []  # by the page's own Content-Security-Policy, before any request
    problems: list[str] = []

    def on_failed(request: Any) -> None:
        if "csp" in (request.failure or "").lower():  # net::ERR_BLOCKED_BY_CSP
            refused.append(request.url)
        elif request.url not in blocked:
            problems.append(f"failed {request.url}: {request.failure}")

    def loopback_only(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", loopback_only)
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", on_failed)

            page.goto(f"{server}/docs", wait_until="networkidle")
            page.wait_for_selector(".opblock")
            shown = [
                (
                    block.locator(".opblock-summary-method").inner_text().strip(),
                    # Swagger UI breaks long paths with zero-width spaces.
                    block.locator(".opblock-summary-path").inner_text().replace("\u200b", ""),
                )
                for block in page.locator(".opblock").all()
            ]
            shown = [(method, path.strip()) for method, path in shown]
            assert sorted(shown) == sorted(expected)
            assert "stockbrief" in page.locator(".info .title").inner_text()

            page.goto(f"{server}/redoc", wait_until="networkidle")
            page.wait_for_selector("[data-section-id^='tag/'], [data-section-id^='operation/']")
            text = page.locator("body").inner_text()
            for _, path in expected:
                assert path in text
        finally:
            browser.close()
    assert blocked == []  # nothing asked for beyond the loopback server
    assert set(refused) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}  # ReDoc's attribution
    assert problems == []
