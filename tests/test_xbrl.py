"""Revenue by segment from an XBRL instance: which facts count, how members are named, and what
a document may not do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from stockbrief.errors import InputError
from stockbrief.sources.xbrl import member_label, segment_facts

DATA = Path(__file__).parent / "data" / "edgar"

HEAD = """<?xml version="1.0" encoding="utf-8"?>
<xbrl xmlns="http://www.xbrl.org/2003/instance" xmlns:{gaap}="http://fasb.org/us-gaap/2024"
  xmlns:srt="http://fasb.org/srt/2024" xmlns:xbrldi="http://xbrl.org/2006/xbrldi"
  xmlns:aapl="http://www.apple.com/20240928" xmlns:iso4217="http://www.xbrl.org/2003/iso4217">
  <unit id="usd"><measure>iso4217:USD</measure></unit>
"""


def context(cid: str, members: dict[str, str], start: str = "2023-10-01") -> str:
    dims = "".join(
        f'<xbrldi:explicitMember dimension="{axis}">{member}</xbrldi:explicitMember>'
        for axis, member in members.items()
    )
    segment = f"<segment>{dims}</segment>" if dims else ""
    return (
        f'<context id="{cid}"><entity><identifier scheme="http://www.sec.gov/CIK">0000320193'
        f"</identifier>{segment}</entity><period><startDate>{start}</startDate>"
        f"<endDate>2024-09-28</endDate></period></context>\n"
    )


def instance(body: str, gaap: str = "us-gaap") -> str:
    return HEAD.format(gaap=gaap) + body + "</xbrl>\n"


def fact(
    cid: str,
    value: str,
    concept: str = "RevenueFromContractWithCustomerExcludingAssessedTax",
    gaap: str = "us-gaap",
) -> str:
    tag = f"{gaap}:{concept}"
    return f'<{tag} contextRef="{cid}" unitRef="usd" decimals="-6">{value}</{tag}>\n'


SEGMENT = "us-gaap:StatementBusinessSegmentsAxis"
PRODUCT = "srt:ProductOrServiceAxis"


def test_the_recorded_10k_gives_five_segments_and_five_product_lines_for_two_years() -> None:
    facts = segment_facts(
        (DATA / "aapl-20240928_htm.xml").read_text(),
        (DATA / "aapl-20240928_lab.xml").read_text(),
        where="10-K",
    )
    by = {(f.axis, f.label, f.end): f.value for f in facts}
    assert len(by) == 20
    assert by[("segment", "Greater China", dt.date(2024, 9, 28))] == 66_952e6
    assert by[("product", "Wearables, Home and Accessories", dt.date(2023, 9, 30))] == 39_845e6
    assert by[("product", "Services", dt.date(2024, 9, 28))] == 96_169e6  # a us-gaap member


def test_only_facts_on_one_revenue_axis_count() -> None:
    body = (
        context("total", {})
        + context("seg", {SEGMENT: "aapl:AmericasSegmentMember"})
        + context("both", {SEGMENT: "aapl:AmericasSegmentMember", PRODUCT: "aapl:IPhoneMember"})
        + context("other", {"us-gaap:ConsolidationItemsAxis": "us-gaap:OperatingSegmentsMember"})
        + fact("total", "391035000000")
        + fact("seg", "167045000000")
        + fact("both", "1")  # a segment's product line: would count sales twice
        + fact("other", "2")
        + fact("seg", "67656000000", concept="OperatingIncomeLoss")  # not revenue
    )
    (only,) = segment_facts(instance(body), where="x")
    assert (only.axis, only.label, only.value, only.unit) == (
        "segment",
        "Americas",
        167_045e6,
        "USD",
    )


def test_the_asc_606_concept_wins_over_an_older_one_for_the_same_period() -> None:
    seg = context("seg", {SEGMENT: "aapl:JapanSegmentMember"})
    body = seg + fact("seg", "1", concept="Revenues") + fact("seg", "25052000000")
    (only,) = segment_facts(instance(body), where="x")
    assert (only.concept, only.value) == (
        "RevenueFromContractWithCustomerExcludingAssessedTax",
        25_052e6,
    )


def test_the_taxonomy_is_told_by_its_namespace_not_its_prefix() -> None:
    body = context(
        "seg", {"gaap:StatementBusinessSegmentsAxis": "aapl:EuropeSegmentMember"}
    ) + fact("seg", "101328000000", gaap="gaap")
    (only,) = segment_facts(instance(body, gaap="gaap"), where="x")
    assert (only.label, only.value) == ("Europe", 101_328e6)


def test_an_empty_or_nil_fact_is_skipped_and_text_is_refused() -> None:
    seg = context("seg", {SEGMENT: "aapl:JapanSegmentMember"})
    assert segment_facts(instance(seg + fact("seg", "")), where="x") == []
    with pytest.raises(InputError, match=r"10-K, row 3, field 'value': .* is not a number"):
        segment_facts(instance(seg + fact("seg", "n/a")), where="10-K")


@pytest.mark.parametrize(
    ("member", "label"),
    [
        ("aapl:RestOfAsiaPacificSegmentMember", "Rest of Asia Pacific"),
        ("aapl:GreaterChinaSegmentMember", "Greater China"),
        ("us-gaap:ServiceMember", "Service"),
        ("msft:IntelligentCloudMember", "Intelligent Cloud"),
        ("country:US", "US"),
        ("amzn:AWSSegmentMember", "AWS"),
    ],
)
def test_a_member_without_a_label_is_named_from_its_element(member: str, label: str) -> None:
    assert member_label(member) == label


def test_a_document_declaring_entities_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE xbrl [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        '<xbrl xmlns="http://www.xbrl.org/2003/instance">&b;</xbrl>'
    )
    with pytest.raises(InputError, match="must not declare a DTD"):
        segment_facts(bomb, where="x")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("<html><body>Not found</body></html>", "not an XBRL instance"),
        ("<xbrl", "not well-formed XML"),
    ],
)
def test_what_is_no_instance_is_one_line(text: str, words: str) -> None:
    with pytest.raises(InputError, match=words) as caught:
        segment_facts(text, where="aapl-20240928_htm.xml")
    assert "\n" not in str(caught.value)


def test_a_filers_label_loses_control_and_direction_characters() -> None:
    labels = (DATA / "aapl-20240928_lab.xml").read_text()
    labels = labels.replace(">Americas [Member]<", ">Ameri\u0085cas\u202e  North\u200b [Member]<")
    facts = segment_facts((DATA / "aapl-20240928_htm.xml").read_text(), labels, where="10-K")
    assert {f.label for f in facts if f.member == "aapl:AmericasSegmentMember"} == {
        "Americas North"
    }


def test_a_terse_label_is_preferred_wherever_it_is_linked() -> None:
    labels = (DATA / "aapl-20240928_lab.xml").read_text()
    terse = (
        '<link:label xlink:label="lab_terse" xlink:type="resource"'
        ' xlink:role="http://www.xbrl.org/2003/role/terseLabel">The Americas</link:label>'
        '<link:labelArc xlink:from="loc_aapl_AmericasSegmentMember" xlink:to="lab_terse"'
        ' xlink:type="arc"/>'
    )
    labels = labels.replace("</link:labelLink>", terse + "</link:labelLink>")
    facts = segment_facts((DATA / "aapl-20240928_htm.xml").read_text(), labels, where="10-K")
    named = {f.member: f.label for f in facts}
    assert named["aapl:AmericasSegmentMember"] == "The Americas"
    assert named["aapl:EuropeSegmentMember"] == "Europe"
