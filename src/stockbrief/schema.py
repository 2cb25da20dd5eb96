"""The store's schema as the migrations that build it, in SQL alone.

Kept apart from :mod:`stockbrief.store` so that :mod:`stockbrief.catalog`, which answers
``info`` before Polars loads, knows the schema version it can read from the same list.
"""

from __future__ import annotations

from typing import Final

BAR_HASH: Final = "hash(date, open, high, low, close, volume)"
ACTION_HASH: Final = "hash(date, kind, value)"
"""Row hashes whose per-ticker XOR is a checksum: XOR-ing a row in or out keeps it current."""

MIGRATIONS: list[str] = [
    # 0 -> 1: prices, corporate actions, reference data.
    """
    CREATE TABLE securities (
        ticker VARCHAR NOT NULL, name VARCHAR, exchange VARCHAR, currency VARCHAR,
        sector VARCHAR, industry VARCHAR, peer_group VARCHAR
    );
    CREATE TABLE bars (
        ticker VARCHAR NOT NULL, date DATE NOT NULL,
        open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,
        volume BIGINT NOT NULL
    );
    CREATE TABLE actions (
        ticker VARCHAR NOT NULL, date DATE NOT NULL, kind VARCHAR NOT NULL,
        value DOUBLE NOT NULL CHECK (value > 0)
    );
    """,
    # 1 -> 2: derived events, and what the incremental engine last saw of each ticker.
    """
    CREATE TABLE events (
        ticker VARCHAR NOT NULL, date DATE NOT NULL, kind VARCHAR NOT NULL,
        value DOUBLE, detail VARCHAR
    );
    CREATE TABLE engine_meta (
        ticker VARCHAR NOT NULL, last_date DATE NOT NULL, bars BIGINT NOT NULL,
        actions BIGINT NOT NULL
    );
    """,
    # 2 -> 3: analysts, news and company metrics.
    """
    CREATE TABLE ratings (
        ticker VARCHAR NOT NULL, firm VARCHAR NOT NULL, date DATE NOT NULL, action VARCHAR,
        rating VARCHAR NOT NULL, prior_rating VARCHAR, target DOUBLE, prior_target DOUBLE
    );
    CREATE TABLE consensus (
        ticker VARCHAR NOT NULL, date DATE NOT NULL, source VARCHAR NOT NULL, label VARCHAR,
        strong_buy BIGINT, buy BIGINT, hold BIGINT, sell BIGINT, strong_sell BIGINT,
        target_mean DOUBLE, target_median DOUBLE, target_high DOUBLE, target_low DOUBLE
    );
    CREATE TABLE news (
        id VARCHAR NOT NULL, published_at TIMESTAMPTZ NOT NULL, source VARCHAR,
        headline VARCHAR NOT NULL, body VARCHAR, url VARCHAR, sentiment DOUBLE
    );
    CREATE TABLE news_tickers (id VARCHAR NOT NULL, ticker VARCHAR NOT NULL, role VARCHAR);
    CREATE TABLE kpis (
        ticker VARCHAR NOT NULL, period_end DATE NOT NULL, name VARCHAR NOT NULL,
        value DOUBLE NOT NULL, unit VARCHAR, yoy DOUBLE, source VARCHAR
    );
    """,
    # 3 -> 4: a content checksum, so a replaced bar or action is seen even when counts agree.
    """
    ALTER TABLE engine_meta ADD COLUMN checksum UBIGINT NOT NULL DEFAULT 0;
    """,
    # 4 -> 5: per-ticker counts, date range and checksums of bars and actions, kept by every
    # write, so the engine and `info` never scan the bars to learn what changed.
    f"""
    CREATE TABLE ticker_stats (
        ticker VARCHAR NOT NULL, bars BIGINT NOT NULL, first_date DATE, last_date DATE,
        bars_checksum UBIGINT NOT NULL, actions BIGINT NOT NULL, actions_checksum UBIGINT NOT NULL
    );
    INSERT INTO ticker_stats
    SELECT ticker, coalesce(b.n, 0), b.first_date, b.last_date, coalesce(b.h, 0::UBIGINT),
        coalesce(a.n, 0), coalesce(a.h, 0::UBIGINT)
    FROM (SELECT ticker, count(*) AS n, min(date) AS first_date, max(date) AS last_date,
              bit_xor({BAR_HASH}) AS h FROM bars GROUP BY ticker) b
    FULL JOIN (SELECT ticker, count(*) AS n, bit_xor({ACTION_HASH}) AS h
               FROM actions GROUP BY ticker) a USING (ticker);
    CREATE TABLE universe_evidence (
        valid_for DATE NOT NULL, kind VARCHAR NOT NULL, scope VARCHAR NOT NULL, n BIGINT,
        horizon BIGINT, rose_pct DOUBLE, ci_low DOUBLE, ci_high DOUBLE, base_pct DOUBLE,
        mean DOUBLE, direction VARCHAR, strength VARCHAR
    );
    """,
    # 5 -> 6: events as typed columns instead of a JSON detail, and the parameters each was
    # detected with. Stored events are derived: they are dropped with the engine state, so the
    # next compute is a full one and writes them anew.
    """
    DROP TABLE events;
    CREATE TABLE events (
        ticker VARCHAR NOT NULL, date DATE NOT NULL, kind VARCHAR NOT NULL, value DOUBLE,
        level DOUBLE, observed DOUBLE, sessions INTEGER, label VARCHAR, prev_label VARCHAR,
        params_id INTEGER NOT NULL
    );
    CREATE TABLE event_params (
        id INTEGER NOT NULL, kind VARCHAR NOT NULL, params VARCHAR NOT NULL
    );
    DELETE FROM engine_meta;
    DROP TABLE IF EXISTS engine_history;
    DROP TABLE IF EXISTS engine_kernels;
    DROP TABLE IF EXISTS engine_recent;
    """,
    # 6 -> 7: the price basis of each ticker's bars (see Store.price_basis). Bars stored before
    # were stored as traded.
    """
    CREATE TABLE price_basis (
        ticker VARCHAR NOT NULL,
        basis VARCHAR NOT NULL CHECK (basis IN ('traded', 'adjusted'))
    );
    INSERT INTO price_basis SELECT ticker, 'traded' FROM ticker_stats WHERE bars > 0;
    """,
    # 7 -> 8: when each KPI became known (its release or filing), so an as-of read never
    # shows a figure published after its date. Rows stored before have none: their period end
    # stands, as it did.
    """
    ALTER TABLE kpis ADD COLUMN known_at TIMESTAMPTZ;
    """,
    # 8 -> 9: the security's type (stock, etf, index, fund, ...), which picks a brief's
    # template. Rows stored before have none: a brief then says only what the bars show.
    """
    ALTER TABLE securities ADD COLUMN type VARCHAR;
    """,
    # 9 -> 10: which alert was delivered where, so a rerun of a session sends nothing twice and
    # a failed delivery is retried. ``destination`` is a digest of the notification URL, never
    # the URL, which carries passwords and tokens.
    """
    CREATE TABLE alert_deliveries (
        rule VARCHAR NOT NULL, ticker VARCHAR NOT NULL, session DATE NOT NULL,
        destination VARCHAR NOT NULL,
        status VARCHAR NOT NULL CHECK (status IN ('sent', 'failed')),
        attempts INTEGER NOT NULL, last_attempt TIMESTAMPTZ NOT NULL, error VARCHAR
    );
    """,
    # 10 -> 11: named watchlists and saved screens, edited from the dashboard and used by the
    # daily run.
    """
    CREATE TABLE watchlists (
        name VARCHAR NOT NULL, ticker VARCHAR NOT NULL, position INTEGER NOT NULL
    );
    CREATE TABLE saved_screens (
        name VARCHAR NOT NULL, expression VARCHAR NOT NULL, columns VARCHAR, sort VARCHAR,
        saved_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 11 -> 12: a user's own thesis on a ticker, dated, so a brief quotes only what its writer
    # had written by the brief's date, and quotes it as the user's.
    """
    CREATE TABLE theses (
        ticker VARCHAR NOT NULL, written_on DATE NOT NULL, author VARCHAR, text VARCHAR NOT NULL
    );
    """,
    # 12 -> 13: other names news gives a security (a brand, a short name, a cashtag), matched
    # with its stored name and ticker when feed items are linked to tickers.
    """
    CREATE TABLE aliases (ticker VARCHAR NOT NULL, alias VARCHAR NOT NULL);
    """,
]
"""``MIGRATIONS[i]`` moves a store from schema version ``i`` to ``i + 1``; append, never edit."""

SCHEMA_VERSION: Final = len(MIGRATIONS)
