"""German names for what a brief prints in English by construction: fact names, formulas, KPI
names and units.

Facts are named and explained in English where they are made (``facts.py``); a German reader of
the facts table or of a KPI sentence should not meet ``rel_volume`` or "downloads". What has no
entry here is printed as ingested, so an unknown metric keeps its own name rather than a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Final

from stockbrief.notes.facts import Fact

FACT_LABELS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "close": "close",
        "open": "open",
        "high": "high",
        "low": "low",
        "prev_close": "previous close",
        "change_1d": "change on the day",
        "gap_1d": "opening gap",
        "volume": "volume",
        "typical_volume": "typical volume",
        "rel_volume": "relative volume",
        "sma_50": "50-day average",
        "sma_200": "200-day average",
        "pct_vs_sma_50": "close against the 50-day average",
        "pct_vs_sma_200": "close against the 200-day average",
        "sessions_above_sma_50": "closes in a row above the 50-day average",
        "sessions_above_sma_200": "closes in a row above the 200-day average",
        "high_52w": "52-week high",
        "low_52w": "52-week low",
        "pct_from_high_52w": "close against the 52-week high",
        "rsi_14": "RSI (14)",
        "atr_14": "ATR (14)",
        "volatility_60": "volatility (60 days)",
        "last_cross_sma_50": "last cross of the 50-day average",
        "last_cross_sma_50_direction": "direction of that cross",
        "last_cross_sma_200": "last cross of the 200-day average",
        "last_cross_sma_200_direction": "direction of that cross",
        "events_today": "events of the day",
        "consensus_label": "analysts' consensus",
        "consensus_score": "consensus score",
        "consensus_firms": "firms in the consensus",
        "consensus_source": "source of the consensus",
        "target_mean": "average price target",
        "target_high": "highest price target",
        "upside": "upside to the average target",
        "top_targets": "highest targets",
        "news": "news",
        "peer_returns": "peers' moves",
        "peer_group_return": "peer group's move",
        "sector_tailwind": "sector tailwind",
        "kpis": "company metrics",
        "market_cap": "market capitalisation",
        "consensus_date": "date of the consensus",
        "suspect_bar": "suspicious bar",
        "suspect_bar_date": "session of the suspicious bar",
        "price_basis": "price basis",
        "instrument": "instrument",
        "move_sigma": "move in standard deviations",
        "move_rank": "rank of the move in the stored history",
        "move_record_since": "last larger move",
        "history_start": "first stored session",
        "market_return": "market benchmark's move",
        "market_ticker": "market benchmark",
        "breadth_stocks": "stored stocks traded on the day",
        "breadth_rose": "stored stocks that rose",
        "breadth_fell": "stored stocks that fell",
        "breadth_with_sma_200": "stored stocks with a 200-day average",
        "breadth_above_sma_200": "share closing above their 200-day average",
        "pivots_week": "classic pivot points of the week",
        "swing_levels": "support and resistance from swings",
        "round_below": "round number below",
        "round_above": "round number above",
        "level_above": "level to watch above",
        "level_above_kind": "what it is",
        "level_above_touches": "swings at it",
        "level_above_last_touch": "its latest swing",
        "level_below": "level to watch below",
        "level_below_kind": "what it is",
        "level_below_touches": "swings at it",
        "level_below_last_touch": "its latest swing",
        "rating_summary": "technical rating (TradingView method)",
        "rating_label": "technical rating in words",
        "rating_ma": "moving-average rating",
        "rating_ma_label": "moving-average rating in words",
        "rating_oscillators": "oscillator rating",
        "rating_oscillators_label": "oscillator rating in words",
        "rating_ma_votes": "moving-average votes",
        "rating_oscillator_votes": "oscillator votes",
    },
    "de": {
        "close": "Schlusskurs",
        "open": "Eröffnungskurs",
        "high": "Tageshoch",
        "low": "Tagestief",
        "prev_close": "Schlusskurs des Vortags",
        "change_1d": "Veränderung zum Vortag",
        "gap_1d": "Eröffnungslücke",
        "volume": "Handelsvolumen",
        "typical_volume": "übliches Volumen",
        "rel_volume": "relatives Volumen",
        "sma_50": "50-Tage-Durchschnitt",
        "sma_200": "200-Tage-Durchschnitt",
        "pct_vs_sma_50": "Abstand zum 50-Tage-Durchschnitt",
        "pct_vs_sma_200": "Abstand zum 200-Tage-Durchschnitt",
        "sessions_above_sma_50": "Schlusskurse in Folge über dem 50-Tage-Durchschnitt",
        "sessions_above_sma_200": "Schlusskurse in Folge über dem 200-Tage-Durchschnitt",
        "high_52w": "52-Wochen-Hoch",
        "low_52w": "52-Wochen-Tief",
        "pct_from_high_52w": "Abstand zum 52-Wochen-Hoch",
        "rsi_14": "RSI (14)",
        "atr_14": "ATR (14)",
        "volatility_60": "Volatilität (60 Tage)",
        "last_cross_sma_50": "letztes Kreuzen des 50-Tage-Durchschnitts",
        "last_cross_sma_50_direction": "Richtung dieses Kreuzens",
        "last_cross_sma_200": "letztes Kreuzen des 200-Tage-Durchschnitts",
        "last_cross_sma_200_direction": "Richtung dieses Kreuzens",
        "events_today": "Ereignisse des Tages",
        "consensus_label": "Analystenkonsens",
        "consensus_score": "Konsenswert",
        "consensus_firms": "Häuser im Konsens",
        "consensus_source": "Quelle des Konsenses",
        "target_mean": "durchschnittliches Kursziel",
        "target_high": "höchstes Kursziel",
        "upside": "Potenzial bis zum durchschnittlichen Kursziel",
        "top_targets": "höchste Kursziele",
        "news": "Nachrichten",
        "peer_returns": "Kursveränderungen der Wettbewerber",
        "peer_group_return": "Veränderung der Vergleichsgruppe",
        "sector_tailwind": "Rückenwind aus dem Sektor",
        "kpis": "Unternehmenskennzahlen",
        "market_cap": "Börsenwert (Marktkapitalisierung)",
        "consensus_date": "Stand des Konsenses",
        "suspect_bar": "verdächtiger Kurs",
        "suspect_bar_date": "Tag des verdächtigen Kurses",
        "price_basis": "Kursbasis",
        "instrument": "Instrument",
        "move_sigma": "Bewegung in Standardabweichungen",
        "move_rank": "Rang der Bewegung in der gespeicherten Historie",
        "move_record_since": "letzte größere Bewegung",
        "history_start": "erster gespeicherter Handelstag",
        "market_return": "Veränderung des Vergleichswerts",
        "market_ticker": "Vergleichswert",
        "breadth_stocks": "am Tag gehandelte erfasste Aktien",
        "breadth_rose": "erfasste Aktien im Plus",
        "breadth_fell": "erfasste Aktien im Minus",
        "breadth_with_sma_200": "erfasste Aktien mit 200-Tage-Durchschnitt",
        "breadth_above_sma_200": "Anteil über dem 200-Tage-Durchschnitt",
        "pivots_week": "klassische Pivot-Punkte der Woche",
        "swing_levels": "Unterstützungen und Widerstände aus Wendepunkten",
        "round_below": "runde Marke darunter",
        "round_above": "runde Marke darüber",
        "level_above": "entscheidende Marke darüber",
        "level_above_kind": "Art der Marke",
        "level_above_touches": "Wendepunkte an der Marke",
        "level_above_last_touch": "letzter Wendepunkt an der Marke",
        "level_below": "entscheidende Marke darunter",
        "level_below_kind": "Art der Marke",
        "level_below_touches": "Wendepunkte an der Marke",
        "level_below_last_touch": "letzter Wendepunkt an der Marke",
        "rating_summary": "technisches Rating (Methode von TradingView)",
        "rating_label": "Einstufung des technischen Ratings",
        "rating_ma": "Rating der gleitenden Durchschnitte",
        "rating_ma_label": "Einstufung der gleitenden Durchschnitte",
        "rating_oscillators": "Rating der Oszillatoren",
        "rating_oscillators_label": "Einstufung der Oszillatoren",
        "rating_ma_votes": "Signale der gleitenden Durchschnitte",
        "rating_oscillator_votes": "Signale der Oszillatoren",
    },
}
"""What each fact is called in the facts table."""

_ADJUSTED = "Kurse vom Anbieter um Splits und Dividenden bereinigt"
_SPLITS = "Kurse um die am Stichtag bekannten Splits bereinigt"

FORMULAS_DE: Final[dict[str, str]] = {
    "close": "Schlusskurs am {day}; {basis}",
    "open": "Eröffnungskurs am {day}",
    "high": "Tageshoch am {day}",
    "low": "Tagestief am {day}",
    "prev_close": "Schlusskurs des vorangegangenen Handelstags",
    "change_1d": "Schlusskurs / Schlusskurs des Vortags \u2212 1",
    "gap_1d": "Eröffnungskurs / Schlusskurs des Vortags \u2212 1",
    "volume": "am {day} gehandelte Stücke",
    "typical_volume": "mittleres Volumen der 50 Handelstage vor dem Tag",
    "rel_volume": "Volumen / übliches Volumen (Mittel der 50 Handelstage vor dem Tag)",
    "sma_50": "Mittel der 50 Schlusskurse bis einschließlich des Tages",
    "sma_200": "Mittel der 200 Schlusskurse bis einschließlich des Tages",
    "pct_vs_sma_50": "Schlusskurs / 50-Tage-Durchschnitt \u2212 1",
    "pct_vs_sma_200": "Schlusskurs / 200-Tage-Durchschnitt \u2212 1",
    "sessions_above_sma_50": "Schlusskurse in Folge über dem 50-Tage-Durchschnitt bis zum Tag",
    "sessions_above_sma_200": "Schlusskurse in Folge über dem 200-Tage-Durchschnitt bis zum Tag",
    "high_52w": "höchstes Tageshoch der letzten 252 Handelstage, der Tag eingeschlossen",
    "low_52w": "tiefstes Tagestief der letzten 252 Handelstage, der Tag eingeschlossen",
    "pct_from_high_52w": "Schlusskurs / 52-Wochen-Hoch \u2212 1",
    "rsi_14": "RSI nach Wilder über 14 Handelstage",
    "atr_14": "durchschnittliche wahre Spanne nach Wilder, 14 Handelstage",
    "volatility_60": "Standardabweichung der letzten 60 Tagesrenditen",
    "last_cross_sma_50": "letzter Handelstag, an dem der Schlusskurs den 50-Tage-Durchschnitt"
    " kreuzte",
    "last_cross_sma_200": "letzter Handelstag, an dem der Schlusskurs den 200-Tage-Durchschnitt"
    " kreuzte",
    "last_cross_sma_50_direction": "Richtung dieses Kreuzens",
    "last_cross_sma_200_direction": "Richtung dieses Kreuzens",
    "events_today": "Ereignisse, die die Detektoren am Tag melden",
    "consensus_score": "mittlere Bewertung der Häuser",
    "consensus_firms": "Häuser im Konsens",
    "consensus_source": "Einzelbewertungen (ratings) oder Zusammenfassung eines Anbieters",
    "target_mean": "durchschnittliches Kursziel",
    "target_high": "höchstes Kursziel",
    "upside": "durchschnittliches Kursziel / Schlusskurs \u2212 1",
    "top_targets": "höchste letzte Kursziele je Haus",
    "news": "Nachrichten über den Wert oder seine Vergleichsgruppe, neueste zuerst; Ton = VADER"
    " compound mit Finanzbegriffen",
    "peer_returns": "Schlusskurs / Schlusskurs des Vortags \u2212 1 der Wettbewerber am Tag",
    "peer_group_return": "Mittel der Tagesrenditen der Wettbewerber",
    "sector_tailwind": "positive Nachrichten der Wettbewerber und steigende Vergleichsgruppe"
    " am Tag",
    "kpis": "letzter Wert jeder Unternehmenskennzahl für bis zum Tag abgelaufene Zeiträume",
    "suspect_bar": "von den Prüfungen von „stockbrief doctor“ an den bis zum Tag gespeicherten"
    " Kursen gemeldet",
    "suspect_bar_date": "Handelstag des gemeldeten Kurses",
    "consensus_date": "Datum der Zusammenfassung des Anbieters oder der jüngsten Bewertung im"
    " Konsens",
    "market_cap": "Aktien im Umlauf (letzte am {day} bekannte Meldung, um spätere Splits"
    " bereinigt) \u00d7 Schlusskurs vom {day}",
    "price_basis": "traded: Kurse wie gehandelt, beim Lesen um die am Tag bekannten Splits"
    " bereinigt; adjusted: vom Anbieter um Splits und Dividenden bereinigt",
    "instrument": "Art des Wertpapiers: gespeichert ({stored}) oder aus den Daten geschlossen",
    "move_sigma": "Tagesrendite / Standardabweichung der Tagesrenditen der 60 Handelstage davor",
    "move_rank": "Rang der Tagesrendite unter allen gespeicherten Tagesrenditen bis zum Tag",
    "move_record_since": "letzter Handelstag vor dem Tag mit einer größeren Bewegung in dieselbe"
    " Richtung",
    "history_start": "erster gespeicherter Handelstag des Werts",
    "market_return": "Schlusskurs des Vergleichswerts / Schlusskurs des Vortags \u2212 1",
    "market_ticker": "der Vergleichswert des Markts",
    "breadth_stocks": "erfasste Aktien (keine ETFs, Fonds oder Indizes) mit einem Kurs am Tag"
    " und einem davor",
    "breadth_rose": "davon mit Schlusskurs über dem des Vortags",
    "breadth_fell": "davon mit Schlusskurs unter dem des Vortags",
    "breadth_with_sma_200": "davon Aktien mit 200 Schlusskursen bis zum Tag",
    "breadth_above_sma_200": "Anteil davon mit Schlusskurs über dem Mittel der 200 Schlusskurse"
    " bis zum Tag; {basis}",
    "pivots_week": "klassische Pivot-Punkte der Woche aus Hoch, Tief und Schluss der Vorwoche:"
    " P = (H + T + S) / 3, R1 = 2P \u2212 T, S1 = 2P \u2212 H, R2 = P + (H \u2212 T),"
    " S2 = P \u2212 (H \u2212 T)",
    "swing_levels": "Wendepunkte: ein Hoch über (Tief unter) den 5 Handelstagen davor, von den"
    " 5 danach nicht übertroffen, in den 252 Handelstagen bis zum Tag; Wendepunkte innerhalb"
    " von 1,5 % des tiefsten bilden eine Marke (Mittel ihrer Kurse), ab 2 Wendepunkten",
    "round_below": "runde Marke am oder unter dem Schlusskurs",
    "round_above": "runde Marke über dem Schlusskurs",
    "level_above": "nächste Marke über dem Schlusskurs (Widerstand): Durchschnitte,"
    " 52-Wochen-Extreme und Wendemarken bis 10 % Abstand, sonst klassische Pivot-Punkte der"
    " Vorwoche und runde Marken",
    "level_below": "nächste Marke am oder unter dem Schlusskurs (Unterstützung): Durchschnitte,"
    " 52-Wochen-Extreme und Wendemarken bis 10 % Abstand, sonst klassische Pivot-Punkte der"
    " Vorwoche und runde Marken",
    "level_above_kind": "Art der Marke",
    "level_below_kind": "Art der Marke",
    "level_above_touches": "Wendepunkte, die die Marke bilden",
    "level_below_touches": "Wendepunkte, die die Marke bilden",
    "level_above_last_touch": "letzter Wendepunkt der Marke",
    "level_below_last_touch": "letzter Wendepunkt der Marke",
    "rating_summary": "Mittel aus dem Rating der gleitenden Durchschnitte und dem der"
    " Oszillatoren, von \u22121 bis 1 (Methode der Technical Ratings von TradingView; eine"
    " Gegenprobe, nicht das Fazit)",
    "rating_label": "Einstufung des technischen Ratings: starker Verkauf unter \u22120,5,"
    " Verkaufen ab \u22120,5 bis unter \u22120,1, neutral von \u22120,1 bis 0,1, Kaufen über"
    " 0,1 bis 0,5, starker Kauf über 0,5",
    "rating_ma": "Mittel der Signale von 15 gleitenden Durchschnitten (Kaufen 1, neutral 0,"
    " Verkaufen \u22121)",
    "rating_ma_label": "Einstufung nach denselben Schwellen wie das technische Rating",
    "rating_oscillators": "Mittel der Signale von 11 Oszillatoren (Kaufen 1, neutral 0,"
    " Verkaufen \u22121)",
    "rating_oscillators_label": "Einstufung nach denselben Schwellen wie das technische Rating",
    "rating_ma_votes": "Indikator, sein Wert am Tag, sein Signal: Jeder Durchschnitt signalisiert"
    " Kaufen, wenn er unter dem Schlusskurs liegt, Verkaufen, wenn er darüber liegt; SMA und EMA"
    " über 10, 20, 30, 50, 100 und 200 Schlusskurse (EMA mit dem SMA als Startwert),"
    " Ichimoku-Basislinie (Mitte aus höchstem Hoch und tiefstem Tief von 26 Handelstagen),"
    " VWMA (20) und Hull-MA (9); ein Indikator ohne Wert am Tag zählt nicht mit",
    "rating_oscillator_votes": "Indikator, sein Wert am Tag, sein Signal: RSI (14): Kaufen unter"
    " 30 und steigend, Verkaufen über 70 und fallend; Stochastik (14, 3, 3): Kaufen, wenn %K und"
    " %D unter 20 liegen und %K über %D, Verkaufen, wenn beide über 80 liegen und %K unter %D;"
    " CCI (20): Kaufen unter \u2212100 und steigend, Verkaufen über 100 und fallend; ADX (14):"
    " Kaufen über 20 und steigend bei +DI über \u2212DI, Verkaufen ebenso bei +DI unter \u2212DI;"
    " Awesome Oscillator: Kaufen, wenn er die Nulllinie nach oben kreuzt oder über ihr eine"
    " Untertasse bildet, Verkaufen umgekehrt; Momentum (10): Kaufen steigend, Verkaufen fallend;"
    " MACD (12, 26, 9): Kaufen über der Signallinie, Verkaufen darunter; Stochastik-RSI: Kaufen"
    " im Abwärtstrend, wenn K und D unter 20 liegen und K über D, Verkaufen im Aufwärtstrend,"
    " wenn beide über 80 liegen und K unter D; Williams %R (14): Kaufen unter \u221280 und"
    " steigend, Verkaufen über \u221220 und fallend; Bull Bear Power (13): Kaufen im"
    " Aufwärtstrend, wenn die Bear Power unter null liegt und steigt, Verkaufen im Abwärtstrend,"
    " wenn die Bull Power über null liegt und fällt; Ultimate Oscillator (7, 14, 28): Kaufen über"
    " 70, Verkaufen unter 30; Aufwärtstrend = Schlusskurs über seinem SMA (50); steigend und"
    " fallend gegenüber dem Vortag",
}
"""German formulas by fact name; a fact without one keeps its English formula."""

KPI_TERMS: Final[dict[str, str]] = {
    "revenue": "Umsatz",
    "net revenue": "Nettoumsatz",
    "net income": "Nettogewinn",
    "operating income": "operatives Ergebnis",
    "gross margin": "Bruttomarge",
    "operating margin": "operative Marge",
    "free cash flow": "freier Cashflow",
    "eps": "Gewinn je Aktie",
    "diluted eps": "verwässerter Gewinn je Aktie",
    "earnings per share": "Gewinn je Aktie",
    "cumulative downloads": "kumulierte Downloads",
    "downloads": "Downloads",
    "monthly active users": "monatlich aktive Nutzer",
    "daily active users": "täglich aktive Nutzer",
    "active users": "aktive Nutzer",
    "users": "Nutzer",
    "subscribers": "Abonnenten",
    "customers": "Kunden",
    "deliveries": "Auslieferungen",
    "vehicles delivered": "ausgelieferte Fahrzeuge",
    "employees": "Beschäftigte",
    "shares outstanding": "Aktien im Umlauf",
}
"""German names of common company metrics, matched whole or at the end of an ingested name
("Cloud Intelligence Group revenue" becomes "Umsatz (Cloud Intelligence Group)")."""

UNIT_TERMS: Final[dict[str, str]] = {
    "downloads": "Downloads",
    "users": "Nutzer",
    "subscribers": "Abonnenten",
    "customers": "Kunden",
    "shares": "Aktien",
    "units": "Einheiten",
    "vehicles": "Fahrzeuge",
    "deliveries": "Auslieferungen",
    "employees": "Beschäftigte",
    "percent": "Prozent",
    "stores": "Filialen",
}
"""German units; a currency code or an unknown unit is printed as ingested."""


TEXT_VALUES_DE: Final[dict[str, str]] = {
    "a price spike that reverses": "ein Kursausschlag, der sich umkehrt",
    "a jump like an unrecorded split": "ein Sprung wie bei einem nicht erfassten Aktiensplit",
    "volume on an index that reports none on its other days": "Umsatz bei einem Index, der an"
    " seinen übrigen Tagen keinen meldet",
    "a run of sessions without volume": "eine Folge von Handelstagen ohne Umsatz",
    "a run of unchanged bars": "eine Folge unveränderter Kurse",
    "missing sessions": "fehlende Handelstage",
    "a stored split the prices do not show": "ein gespeicherter Split, den die Kurse nicht zeigen",
    "above": "darüber",
    "below": "darunter",
    "traded": "wie gehandelt",
    "adjusted": "vom Anbieter bereinigt",
    "ratings": "Einzelbewertungen",
    "stock": "Aktie",
    "etf": "börsengehandelter Fonds",
    "fund": "Fonds",
    "index": "Index",
    "adr": "ADR",
    "reit": "REIT",
    "peer": "Wettbewerber",
    "subject": "Wert selbst",
    "sma_50": "50-Tage-Durchschnitt",
    "sma_200": "200-Tage-Durchschnitt",
    "high_52w": "52-Wochen-Hoch",
    "low_52w": "52-Wochen-Tief",
    "swing_high": "Wendemarke aus Hochs",
    "swing_low": "Wendemarke aus Tiefs",
    "swing": "Wendemarke aus Hochs und Tiefs",
    "round": "runde Marke",
    "pivot_week_p": "Pivot-Punkt der Vorwoche",
    "pivot_week_r1": "Pivot-Widerstand R1 der Vorwoche",
    "pivot_week_r2": "Pivot-Widerstand R2 der Vorwoche",
    "pivot_week_s1": "Pivot-Unterstützung S1 der Vorwoche",
    "pivot_week_s2": "Pivot-Unterstützung S2 der Vorwoche",
    "buy": "Kaufen",
    "sell": "Verkaufen",
    "neutral": "neutral",
    "strong buy": "starker Kauf",
    "strong sell": "starker Verkauf",
    "Ichimoku base line (9, 26, 52, 26)": "Ichimoku-Basislinie (9, 26, 52, 26)",
    "Hull MA (9)": "Hull-MA (9)",
    "Stochastic %K (14, 3, 3)": "Stochastik %K (14, 3, 3)",
    "Stochastic RSI K (3, 3, 14, 14)": "Stochastik-RSI K (3, 3, 14, 14)",
}
"""German for the words a text fact holds (a direction, a price basis, a security type)."""


def text_value(value: str, lang: str) -> str:
    """A text fact's value in ``lang``; names and labels as published stay as they are."""
    return TEXT_VALUES_DE.get(value, value) if lang == "de" else value


def fact_label(name: str, lang: str) -> str:
    """The facts table's name of a fact in ``lang`` (the fact's own name when it has none)."""
    return FACT_LABELS.get(lang, {}).get(name, name)


def formula(fact: Fact, lang: str, day: Callable[[dt.date], str]) -> str:
    """The formula of a fact in ``lang``; English is the fact's own, German from the table."""
    if lang == "de" and fact.name == "consensus_label":
        return _consensus_formula(fact, day)
    template = FORMULAS_DE.get(fact.name) if lang == "de" else None
    if template is None:
        return fact.formula
    basis = _ADJUSTED if "adjusted by the provider" in fact.formula else _SPLITS
    as_of = fact.source.end
    stored = "securities" if fact.source.table == "securities" else "nicht gespeichert"
    return template.format(day=day(as_of) if as_of else "", basis=basis, stored=stored)


def _consensus_formula(fact: Fact, day: Callable[[dt.date], str]) -> str:
    """The consensus method in German: the scheme over the firms' ratings, or a summary."""
    if fact.source.table == "ratings":
        scheme = fact.formula.split(" scheme", 1)[0]
        return (
            f"Schema {scheme}: jeweils letzte Einstufung jedes Hauses im Zeitraum, bewertet von"
            " Sell 1 bis Strong Buy 4; Kursziel = Mittel der letzten Kursziele je Haus"
        )
    published = f" vom {day(fact.source.end)}" if fact.source.end else ""
    return f"Zusammenfassung eines Anbieters{published} (siehe Quelle des Konsenses)"


_BREAKDOWN_NAMES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "revenue_segment": "{member} segment revenue",
        "revenue_region": "Revenue in {member}",
        "revenue_product": "{member} revenue",
        "quarterly_revenue_segment": "Quarterly {member} segment revenue",
        "quarterly_revenue_region": "Quarterly revenue in {member}",
        "quarterly_revenue_product": "Quarterly {member} revenue",
    },
    "de": {
        "revenue_segment": "Umsatz im Segment „{member}“",
        "revenue_region": "Umsatz in der Region „{member}“",
        "revenue_product": "Umsatz mit „{member}“",
        "quarterly_revenue_segment": "Quartalsumsatz im Segment „{member}“",
        "quarterly_revenue_region": "Quartalsumsatz in der Region „{member}“",
        "quarterly_revenue_product": "Quartalsumsatz mit „{member}“",
    },
}
"""How a filing's revenue breakdown (``revenue_segment:Americas``) reads in a note; the member
keeps the filer's own label."""


_PERIODS_DE: Final = {"annual": "im Geschäftsjahr", "quarterly": "im Quartal"}
"""The period word a provider puts before a metric ("Quarterly revenue"), in German after it."""


def kpi_name(name: str, lang: str) -> str:
    """A company metric's name in ``lang``: translated when the glossary knows it, else as
    ingested (in quotes in German, so it reads as the company's own name)."""
    axis, colon, member = name.partition(":")
    names = _BREAKDOWN_NAMES["de" if lang == "de" else "en"]
    if colon and axis in names and member.strip():
        return names[axis].format(member=member.strip())
    if lang != "de":
        return name
    period, _, rest = name.strip().partition(" ")
    within = _PERIODS_DE.get(period.lower())
    if within and rest:
        return f"{kpi_name(rest, lang)} {within}"
    lowered = name.lower().strip()
    if lowered in KPI_TERMS:
        return KPI_TERMS[lowered]
    for term in sorted(KPI_TERMS, key=len, reverse=True):
        if lowered.endswith(" " + term):
            rest = name[: len(name) - len(term)].strip()
            return f"{KPI_TERMS[term]} ({rest})"
    return f"„{name}“"


def kpi_unit(unit: str | None, name: str, lang: str) -> str:
    """The unit printed after a metric's value: empty when the name already says it (no
    "600 million downloads downloads"), translated in German when the glossary knows it."""
    if not unit:
        return ""
    if re.search(rf"\b{re.escape(unit.lower())}\b", name.lower()):
        return ""
    if lang == "de":
        return UNIT_TERMS.get(unit.lower(), unit)
    return unit
