"""Reading other people's notes: recall and precision per claim kind on tests/corpus.

Run: ``python -m benchmarks.claims``. Builds a store of the real yahoo-30 bars (as the provider
adjusted them), checks every note of ``tests/corpus`` against it and compares with the notes'
hand-labelled claims. Targets: recall at least 95%, no false "contradicted", no false alarm;
it also times ``check`` per note (a brief is computed for each).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from stockbrief import api
from stockbrief.store import Store

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
YAHOO = ROOT.parent / "shared" / "data" / "yahoo-30"
LAST = dt.date(2026, 3, 25)


def _same(stated: Any, labelled: Any) -> bool:
    if isinstance(stated, str) or isinstance(labelled, str):
        return str(stated) == str(labelled)
    return abs(float(stated) - float(labelled)) <= 1e-9 * max(1.0, abs(float(labelled)))


def main() -> None:
    if not YAHOO.is_dir():
        print(f"skipped: {YAHOO} not found")
        return
    notes = sorted(CORPUS.glob("*.json"))
    stats: dict[str, Counter[str]] = {}
    alarms: list[str] = []
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "claims.duckdb"
        with Store(store) as db:
            api.ingest("securities", [CORPUS / "securities.csv"], store=db)
            files = sorted(p for p in YAHOO.glob("*.csv") if p.stem != "VIX")
            api.ingest("prices", files, store=db, end=LAST, basis="adjusted")
        for path in notes:
            meta = json.loads(path.read_text())
            text = path.with_suffix(".txt").read_text(encoding="utf-8")
            start = time.perf_counter()
            found = api.check(
                text,
                meta["ticker"],
                as_of=dt.date.fromisoformat(meta["as_of"]),
                store=store,
                lang=meta.get("lang", "auto"),
            )
            times.append(time.perf_counter() - start)
            left = list(found)
            for want in meta["claims"]:
                counter = stats.setdefault(want["kind"], Counter())
                counter["labelled"] += 1
                match = next(
                    (c for c in left if c.kind == want["kind"] and _same(c.stated, want["stated"])),
                    None,
                )
                if match is None:
                    continue
                left.remove(match)
                counter["found"] += 1
                counter["right"] += match.verdict == want["verdict"]
                if want["verdict"] == "holds" and match.verdict in ("off", "contradicted"):
                    alarms.append(f"{path.stem}: {match.kind} {match.written!r} {match.verdict}")
            for extra in left:
                stats.setdefault(extra.kind, Counter())["extra"] += 1
                if extra.verdict in ("off", "contradicted"):
                    alarms.append(f"{path.stem}: unlabelled {extra.kind} {extra.written!r}")
    total = sum(c["labelled"] for c in stats.values())
    found_n = sum(c["found"] for c in stats.values())
    right = sum(c["right"] for c in stats.values())
    extra = sum(c["extra"] for c in stats.values())
    print(f"{len(notes)} notes, {total} labelled claims")
    print(f"{'kind':26} {'labelled':>8} {'recall':>7} {'right':>7} {'precision':>9}")
    for kind, c in sorted(stats.items()):
        recall = c["found"] / c["labelled"] if c["labelled"] else float("nan")
        shown = c["found"] + c["extra"]
        precision = c["found"] / shown if shown else float("nan")
        print(f"{kind:26} {c['labelled']:8} {recall:7.1%} {c['right']:7} {precision:9.1%}")
    print(
        f"recall {found_n / total:.1%} (target 95%), read right {right / total:.1%},"
        f" precision {found_n / (found_n + extra):.1%}, false alarms {len(alarms)} (target 0)"
    )
    for line in alarms:
        print("  ", line)
    print(
        f"check per note: median {statistics.median(times) * 1000:.0f} ms,"
        f" max {max(times) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
