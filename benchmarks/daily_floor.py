"""The least a daily ``compute`` pays before computing anything, on the same store.

Run by :mod:`benchmarks.store` on the evening store with the new session ingested, as
``python benchmarks/daily_floor.py --store PATH``. With numpy and DuckDB alone it does the
store work no engine can skip: open the file for writing, read each ticker's bars after its
last computed date, append one event row per new bar (the real run adds about as many), move
the fingerprint's last dates forward, commit and close. No indicator, no state file, no Polars,
no stockbrief import: the time this takes beyond interpreter start is what any implementation of
the daily path pays on this machine, so a target below it cannot be met by the code.
"""

import argparse
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    path = parser.parse_args().store

    import duckdb  # its fetchnumpy imports numpy, as the engine needs it

    con = duckdb.connect(path)
    new = con.execute(
        """
        SELECT b.ticker, b.date, b.open, b.high, b.low, b.close, b.volume
        FROM bars b JOIN engine_meta m ON b.ticker = m.ticker AND b.date > m.last_date
        ORDER BY b.ticker, b.date
        """
    ).fetchnumpy()
    rows = len(new["ticker"])
    if rows == 0:
        sys.exit("no bars after the computed dates: ingest a session first")
    events = con.execute("SELECT * FROM events LIMIT ?", [rows]).fetchnumpy()
    latest = {"ticker": new["ticker"], "date": new["date"]}
    con.execute("BEGIN")
    con.register("new_events", events)
    con.execute("INSERT INTO events SELECT * FROM new_events")
    con.register("latest", latest)
    con.execute(
        """
        UPDATE engine_meta SET last_date = l.last_date
        FROM (SELECT ticker, max(date) AS last_date FROM latest GROUP BY ticker) l
        WHERE engine_meta.ticker = l.ticker
        """
    )
    con.execute("COMMIT")
    con.close()
    print(f"{rows:,} new bars read, {len(events['ticker']):,} event rows written")


if __name__ == "__main__":
    main()
