"""Alerts reach real servers on loopback, once each: an SMTP server and a JSON webhook."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stockbrief import alerts
from stockbrief.store import Store

DAY = dt.date(2026, 1, 2)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def webhook() -> Iterator[tuple[int, list[dict[str, object]]]]:
    with webhook_server() as served:
        yield served


@contextmanager
def webhook_server(port: int = 0) -> Iterator[tuple[int, list[dict[str, object]]]]:
    """A JSON webhook receiver on a loopback port (a free one by default), and what it has
    received."""
    received: list[dict[str, object]] = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port, received
    server.shutdown()
    server.server_close()


class Mailbox:
    """An SMTP server on 127.0.0.1 (aiosmtpd), started and stopped by the test."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[bytes] = []
        self._controller: object | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        received = self.received

        class Handler:
            async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
                self, server: object, session: object, envelope: object
            ) -> str:
                received.append(envelope.content)  # type: ignore[attr-defined]
                return "250 OK"

        controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()  # type: ignore[attr-defined]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "alerts.duckdb")
    yield db
    db.close()


def message(tmp_path: Path) -> alerts.Message:
    brief = tmp_path / "BABA-2026-01-02-en.html"
    brief.write_text("<h1>BABA jumped 6.2% to $155.74</h1>", encoding="utf-8")
    body = "BABA jumped 6.2% to $155.74 on above-typical volume\nIt opened with a gap up."
    return alerts.Message("BABA: jumped 6.2%", body, brief)


def test_a_webhook_gets_the_alert_once(
    tmp_path: Path, store: Store, webhook: tuple[int, list[dict[str, object]]]
) -> None:
    port, received = webhook
    url = f"json://127.0.0.1:{port}/hook?token=s3cret"
    first = alerts.deliver(store, "china", "BABA", DAY, [url], message(tmp_path))
    assert [d.outcome for d in first] == ["sent"]
    assert "s3cret" not in first[0].shown
    assert len(received) == 1
    assert received[0]["title"] == "BABA: jumped 6.2%"
    assert "It opened with a gap up." in str(received[0]["message"])
    attached = received[0]["attachments"]
    assert isinstance(attached, list)
    assert attached[0]["filename"] == "BABA-2026-01-02-en.html"
    again = alerts.deliver(store, "china", "BABA", DAY, [url], message(tmp_path))
    assert [d.outcome for d in again] == ["already sent"]
    assert len(received) == 1
    row = store.deliveries(DAY).row(0, named=True)
    assert (row["status"], row["attempts"]) == ("sent", 1)
    assert "s3cret" not in json.dumps(store.deliveries(DAY).to_dicts(), default=str)


def test_a_failed_delivery_is_recorded_and_retried(
    tmp_path: Path, store: Store, mailbox: Mailbox
) -> None:
    url = f"mailto://127.0.0.1:{mailbox.port}?mode=insecure&from=bot@example.com&to=me@example.com"
    failed = alerts.deliver(store, "china", "BABA", DAY, [url], message(tmp_path))
    assert failed[0].outcome == "failed"
    assert "127.0.0.1" in (failed[0].error or "")
    assert store.deliveries(DAY)["status"].to_list() == ["failed"]
    mailbox.start()
    retried = alerts.deliver(store, "china", "BABA", DAY, [url], message(tmp_path))
    assert [(d.outcome, d.attempts) for d in retried] == [("sent", 2)]
    assert len(mailbox.received) == 1
    mail = mailbox.received[0]
    assert b"Subject: BABA: jumped 6.2%" in mail
    assert b"It opened with a gap up." in mail
    assert b'filename="BABA-2026-01-02-en.html"' in mail
    assert store.deliveries(DAY)["status"].to_list() == ["sent"]


def test_a_dry_run_sends_and_records_nothing(
    tmp_path: Path, store: Store, webhook: tuple[int, list[dict[str, object]]]
) -> None:
    port, received = webhook
    url = f"json://127.0.0.1:{port}/hook"
    planned = alerts.deliver(store, "china", "BABA", DAY, [url], message(tmp_path), dry_run=True)
    assert [d.outcome for d in planned] == ["would send"]
    assert received == []
    assert store.deliveries(DAY).is_empty()


def test_an_unknown_url_is_refused() -> None:
    from stockbrief.errors import InputError

    with pytest.raises(InputError, match="not a notification URL"):
        alerts.redacted("nosuchscheme://x")
