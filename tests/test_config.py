"""The settings file: where it is found, and errors that name the file, table and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stockbrief import config
from stockbrief.errors import InputError, NotFoundError

GOOD = """
[[alert]]
name = "china"
watchlist = "watch.txt"
notify = ["json://127.0.0.1:9/hook"]

[[alert]]
name = "breakouts-de"
watchlist = "tech"
rule = "breakouts"
lang = "de"
format = "md"
notify = "mailto://127.0.0.1:25?mode=insecure&from=a@example.com&to=b@example.com"
"""


def test_alert_tables_are_read_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "stockbrief.toml"
    path.write_text(GOOD)
    read = config.load(path)
    first, second = read.alerts
    assert (first.name, first.rule, first.lang, first.format) == (
        "china",
        config.NOTABLE_RULE,
        "en",
        "html",
    )
    assert first.notify == ("json://127.0.0.1:9/hook",)
    assert (second.watchlist, second.rule, second.lang, second.format) == (
        "tech",
        "breakouts",
        "de",
        "md",
    )
    assert second.notify[0].startswith("mailto://")


def test_the_file_is_found_by_option_then_environment_then_beside_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "s.duckdb"
    monkeypatch.delenv("STOCKBRIEF_CONFIG", raising=False)
    assert config.config_path(None, store) == (tmp_path / "stockbrief.toml", False)
    monkeypatch.setenv("STOCKBRIEF_CONFIG", str(tmp_path / "env.toml"))
    assert config.config_path(None, store) == (tmp_path / "env.toml", True)
    assert config.config_path(tmp_path / "x.toml", store) == (tmp_path / "x.toml", True)
    assert config.load(tmp_path / "absent.toml", required=False).alerts == ()
    with pytest.raises(NotFoundError, match=r"absent\.toml: no such settings file"):
        config.load(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[alert]]\nwatchlist = 'w'\nnotify = ['json://x']\n", "field 'alert[1].name'"),
        ("[[alert]]\nname = 'a'\nwatchlist = 'w'\n", "field 'alert[1].notify'"),
        (
            "[[alert]]\nname = 'a'\nwatchlist = 'w'\nnotify = ['json://x']\nlang = 'fr'\n",
            "field 'alert[1].lang': 'fr' is not one of en, de",
        ),
        (
            "[[alert]]\nname = 'a'\nwatchlist = 'w'\nnotify = ['json://x']\nformat = 'doc'\n",
            "field 'alert[1].format'",
        ),
        (
            "[[alert]]\nname = 'a'\nwatchlist = 'w'\nnotify = ['json://x']\nrules = 'x'\n",
            "field 'alert[1].rules': unknown key 'rules'",
        ),
        ("[provider]\norder = ['yahoo']\n", "unknown table [provider]; the known ones are [alert]"),
        ("[[alert]\n", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_file_table_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        config.load(path)
    assert str(caught.value).startswith(str(path))


def test_two_alerts_with_one_name_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.toml"
    rule = "[[alert]]\nname = 'a'\nwatchlist = 'w'\nnotify = ['json://x']\n"
    path.write_text(rule + rule)
    with pytest.raises(InputError, match=r"alert\[2\]\.name.*a second alert named 'a'"):
        config.load(path)


PROVIDERS = """
[providers]
prices = ["yahoo"]
kpis = ["edgar", "yahoo"]
news = ["yahoo", "feeds"]
feeds = ["https://news.example.com/markets.rss"]
sec_user_agent = "Jane Doe jane@example.com"
sec_requests_per_second = 5
yahoo_pause_seconds = 1.5
"""


def test_the_providers_table_gives_an_order_per_kind_of_data(tmp_path: Path) -> None:
    path = tmp_path / "stockbrief.toml"
    path.write_text(PROVIDERS)
    plan = config.load(path).providers
    assert plan is not None
    assert (plan.prices, plan.kpis, plan.news) == (("yahoo",), ("sec", "yahoo"), ("yahoo", "feeds"))
    assert plan.feeds == ("https://news.example.com/markets.rss",)
    assert plan.sec_user_agent == "Jane Doe jane@example.com"
    assert (plan.sec_requests_per_second, plan.yahoo_pause_seconds) == (5.0, 1.5)
    assert plan.downloads == ("yahoo", "sec")
    assert config.load(tmp_path / "none.toml", required=False).providers is None


def test_a_providers_table_may_leave_out_what_it_does_not_change(tmp_path: Path) -> None:
    path = tmp_path / "stockbrief.toml"
    path.write_text("[providers]\nkpis = 'sec'\n")
    plan = config.load(path).providers
    assert plan == config.Providers(kpis=("sec",))
    assert plan.downloads == ("yahoo", "sec")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prices = ['sec']", "field 'providers.prices': 'sec' does not offer prices; use yahoo"),
        ("kpis = ['bloomberg']", "field 'providers.kpis': 'bloomberg' does not offer kpis"),
        ("kpis = ['sec', 'edgar']", "field 'providers.kpis': names a provider twice"),
        ("news = 42", "field 'providers.news': must be a list of providers"),
        ("news = ['feeds']", "field 'providers.news': news names feeds, but no feed URLs"),
        ("feeds = ['/tmp/x.rss']", "field 'providers.feeds': must be a list of feed URLs"),
        ("sec_user_agent = 'Jane'", "field 'providers.sec_user_agent': must name you and"),
        ("sec_requests_per_second = 50", "field 'providers.sec_requests_per_second': must be a"),
        ("yahoo_pause_seconds = 'slow'", "field 'providers.yahoo_pause_seconds': must be a"),
        ("order = ['yahoo']", "field 'providers.order': unknown key 'order'; [providers] has"),
    ],
)
def test_bad_providers_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"[providers]\n{text}\n")
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        config.load(path)
    assert str(caught.value).startswith(str(path))
