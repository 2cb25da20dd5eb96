"""Alerts through Apprise (e-mail, chat, webhooks: one URL syntax), each sent exactly once.

Every (rule, ticker, session, destination) is recorded in ``alert_deliveries``: a rerun of the
same session skips what went out and retries what failed. A destination is stored as a digest
of its URL and shown redacted, since URLs carry passwords and tokens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from stockbrief.errors import InputError
from stockbrief.store import Store

Outcome = Literal["sent", "failed", "already sent", "would send"]


@dataclass(frozen=True)
class Message:
    """What one alert says: a title, a plain-text body and, optionally, the brief attached."""

    title: str
    body: str
    attachment: Path | None = None


@dataclass(frozen=True)
class Delivery:
    """One attempt's outcome, with the destination redacted for printing."""

    rule: str
    ticker: str
    session: dt.date
    destination: str
    shown: str
    outcome: Outcome
    attempts: int = 0
    error: str | None = None


def destination_key(url: str) -> str:
    """A digest that tells destinations apart without storing the URL (it holds secrets)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


@contextmanager
def _apprise() -> Iterator[Any]:
    # Apprise's e-mail plugin imports the deprecated imghdr module; that is its business.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*imghdr.*", DeprecationWarning)
        import apprise

        yield apprise


def redacted(url: str) -> str:
    """The URL as Apprise prints it with passwords and tokens masked; refused when unknown."""
    with _apprise() as apprise:
        instance = apprise.Apprise.instantiate(url)
    if not instance:
        raise InputError(
            "not a notification URL Apprise knows (see https://github.com/caronc/apprise/wiki)",
            field="notify",
        )
    shown: str = instance.url(privacy=True)
    return shown.split("?", 1)[0]


def _send(url: str, message: Message) -> str | None:
    """Send to one destination; ``None`` when it went out, else the reason it did not."""
    with _apprise() as apprise:
        sender = apprise.Apprise()
        sender.add(url)
        attach = apprise.AppriseAttachment(str(message.attachment)) if message.attachment else None
        with apprise.LogCapture(level=logging.WARNING) as logs:
            ok = sender.notify(
                body=message.body,
                title=message.title,
                attach=attach,
                body_format=apprise.NotifyFormat.TEXT,
            )
    if ok:
        return None
    lines = [line.split(" - WARNING - ", 1)[-1] for line in logs.getvalue().splitlines()]
    return next((line for line in lines if line.strip()), "the destination refused it")


def deliver(
    db: Store,
    rule: str,
    ticker: str,
    session: dt.date,
    urls: Sequence[str],
    message: Message,
    *,
    dry_run: bool = False,
) -> list[Delivery]:
    """Send one alert to each destination that has not had it yet, recording each attempt.

    A destination with a ``sent`` row for this rule, ticker and session is skipped; a ``failed``
    one is tried again. ``dry_run`` sends and records nothing and says what would go.
    """
    stored = db.deliveries(session)
    done = {(r["rule"], r["ticker"], r["destination"]): r for r in stored.iter_rows(named=True)}
    results: list[Delivery] = []
    for url in urls:
        key = destination_key(url)
        shown = redacted(url)
        before = done.get((rule, ticker, key))
        attempts = int(before["attempts"]) if before else 0
        if before and before["status"] == "sent":
            results.append(Delivery(rule, ticker, session, key, shown, "already sent", attempts))
            continue
        if dry_run:
            results.append(Delivery(rule, ticker, session, key, shown, "would send", attempts))
            continue
        error = _send(url, message)
        db.record_delivery(rule, ticker, session, key, sent=error is None, error=error)
        outcome: Outcome = "sent" if error is None else "failed"
        results.append(Delivery(rule, ticker, session, key, shown, outcome, attempts + 1, error))
    return results
