"""Revenue by segment, product or region from one filing's XBRL instance.

Company facts carry no dimensional facts, so a segment's revenue is read from the filing itself:
the XBRL instance the SEC publishes with each 10-K and 10-Q (``aapl-20240928_htm.xml``, the
facts of the inline XBRL document extracted as plain XBRL; ``aapl-20180929.xml`` in filings made
before inline XBRL), so the inline document itself is never parsed. A revenue fact belongs to a
segment
when its context names exactly one member on one of :data:`AXES`::

    <context id="c-20">
      <entity>
        <identifier scheme="http://www.sec.gov/CIK">0000320193</identifier>
        <segment>
          <xbrldi:explicitMember dimension="us-gaap:StatementBusinessSegmentsAxis"
            >aapl:AmericasSegmentMember</xbrldi:explicitMember>
        </segment>
      </entity>
      <period><startDate>2023-10-01</startDate><endDate>2024-09-28</endDate></period>
    </context>

Facts on several axes at once (a segment's product line) are not read: they would count the
same sales twice. A member is named by the filing's label linkbase (``*_lab.xml``) when given,
its terse label first, else by its element name (``RestOfAsiaPacificSegmentMember`` is "Rest of
Asia Pacific").

The standard library's parser reads the instance: the document is refused if it declares a
DTD, so no entity is ever expanded or fetched.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from stockbrief.errors import InputError

Axis = Literal["segment", "product", "region"]

AXES: Final[Mapping[tuple[str, str], Axis]] = {
    ("us-gaap", "StatementBusinessSegmentsAxis"): "segment",
    ("srt", "ProductOrServiceAxis"): "product",
    ("srt", "StatementGeographicalAxis"): "region",
}
"""The axes a revenue fact is broken down on, by taxonomy and name."""

REVENUE: Final = (
    "RevenueFromContractWithCustomerExcludingAssessedTax",
    "Revenues",
    "SalesRevenueNet",
)
"""us-gaap revenue concepts; for a member and period the first one reported wins."""

TAXONOMIES: Final = {
    "us-gaap": "http://fasb.org/us-gaap/",
    "srt": "http://fasb.org/srt/",
}
"""Namespace stems of the FASB taxonomies (each year's release appends its year)."""

XBRLI: Final = "{http://www.xbrl.org/2003/instance}"
XBRLDI: Final = "{http://xbrl.org/2006/xbrldi}"
LINK: Final = "{http://www.xbrl.org/2003/linkbase}"
XLINK: Final = "{http://www.w3.org/1999/xlink}"

LABEL_ROLES: Final = (
    "http://www.xbrl.org/2003/role/terseLabel",
    "http://www.xbrl.org/2003/role/label",
)
"""Label roles in the order a member's name is taken from."""

MAX_LABEL: Final = 80
"""Longest member label kept in a KPI name."""

SMALL_WORDS: Final = frozenset({"and", "of", "the", "in", "for", "or", "to"})


@dataclass(frozen=True)
class SegmentFact:
    """One revenue figure of one member of one axis, for one period."""

    axis: Axis
    member: str
    """The member's element, as ``prefix:Name``."""
    label: str
    concept: str
    start: dt.date
    end: dt.date
    value: float
    unit: str
    row: int
    """The fact's position among the instance's elements (1-based), for error messages."""


@dataclass(frozen=True)
class _Context:
    start: dt.date
    end: dt.date
    axis: Axis
    member: str


def segment_facts(instance: str, labels: str | None = None, *, where: str) -> list[SegmentFact]:
    """Revenue facts on one segment, product or region axis, in document order.

    ``instance`` is the XBRL instance's text, ``labels`` its label linkbase's (or None);
    ``where`` names the document in errors. Facts on instants, on several axes, without a
    number (``xsi:nil``) or repeating a member's period under a later concept are skipped.
    """
    root, prefixes = _parse(instance, where)
    if root.tag != f"{XBRLI}xbrl":
        raise InputError("not an XBRL instance (no xbrli:xbrl root)", file=where)
    names = _labels(labels, where) if labels else {}
    contexts = {
        cid: c for cid, c in ((e.get("id"), _context(e, prefixes)) for e in root) if c and cid
    }
    units = {e.get("id"): _unit(e) for e in root.iter(f"{XBRLI}unit")}
    concepts = {
        f"{{{uri}}}{name}": name
        for uri in prefixes.values()
        if uri.startswith(TAXONOMIES["us-gaap"])
        for name in REVENUE
    }
    found: dict[tuple[str, dt.date, dt.date], SegmentFact] = {}
    for n, element in enumerate(root, start=1):
        concept = concepts.get(element.tag)
        context = contexts.get(element.get("contextRef", ""))
        if concept is None or context is None or not (element.text or "").strip():
            continue
        try:
            value = float(element.text or "")
        except ValueError:
            raise InputError(
                f"{concept} is not a number", file=where, row=n, field="value"
            ) from None
        key = (context.member, context.start, context.end)
        earlier = found.get(key)
        if earlier is not None and REVENUE.index(earlier.concept) <= REVENUE.index(concept):
            continue
        found[key] = SegmentFact(
            axis=context.axis,
            member=context.member,
            label=_clean(names.get(context.member.replace(":", "_")))
            or member_label(context.member),
            concept=concept,
            start=context.start,
            end=context.end,
            value=value,
            unit=units.get(element.get("unitRef")) or "",
            row=n,
        )
    return sorted(found.values(), key=lambda f: f.row)


def _parse(text: str, where: str) -> tuple[ET.Element, dict[str, str]]:
    """The document's root and its namespace prefixes (which QName values in it refer to)."""
    if re.search(r"<!DOCTYPE|<!ENTITY", text[:4096], re.IGNORECASE):
        raise InputError("an XBRL document must not declare a DTD", file=where)
    prefixes: dict[str, str] = {}
    root: ET.Element | None = None
    try:
        for event, item in ET.iterparse(io.StringIO(text), events=("start-ns", "start")):
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(prefix, uri)
            elif root is None:
                root = item
    except ET.ParseError as exc:
        raise InputError(f"not well-formed XML ({exc})", file=where) from None
    if root is None:
        raise InputError("an empty XML document", file=where)
    return root, prefixes


def _context(element: ET.Element, prefixes: Mapping[str, str]) -> _Context | None:
    """A context of a duration with one explicit member on a revenue axis, else None."""
    if element.tag != f"{XBRLI}context":
        return None
    start = element.findtext(f"{XBRLI}period/{XBRLI}startDate")
    end = element.findtext(f"{XBRLI}period/{XBRLI}endDate")
    dimensions = element.findall(f".//{XBRLI}segment/*") + element.findall(f".//{XBRLI}scenario/*")
    if start is None or end is None or len(dimensions) != 1:
        return None
    (member,) = dimensions
    if member.tag != f"{XBRLDI}explicitMember":
        return None
    axis = AXES.get(_qname(member.get("dimension", ""), prefixes))
    if axis is None:
        return None
    try:
        return _Context(
            dt.date.fromisoformat(start.strip()),
            dt.date.fromisoformat(end.strip()),
            axis,
            " ".join((member.text or "").split()),
        )
    except ValueError:
        return None  # a date with a time: not a period a KPI is reported for


def _qname(text: str, prefixes: Mapping[str, str]) -> tuple[str, str]:
    """``(taxonomy, name)`` of a QName, the taxonomy told by its namespace, not its prefix."""
    prefix, _, name = text.strip().rpartition(":")
    uri = prefixes.get(prefix, "")
    taxonomy = next((t for t, stem in TAXONOMIES.items() if uri.startswith(stem)), prefix)
    return taxonomy, name


def _unit(element: ET.Element) -> str:
    """``USD`` of ``iso4217:USD``; a ratio of measures as ``A/B``."""
    measures = [m.text or "" for m in element.iter(f"{XBRLI}measure")]
    return "/".join(m.rpartition(":")[2] for m in measures)


def _labels(text: str, where: str) -> dict[str, str]:
    """Element id (``aapl_AmericasSegmentMember``) -> label, from a label linkbase."""
    root, _ = _parse(text, where)
    roles: dict[str, dict[str, str]] = {}
    for link in root.iter(f"{LINK}labelLink"):
        locators = {
            loc.get(f"{XLINK}label"): (loc.get(f"{XLINK}href") or "").rpartition("#")[2]
            for loc in link.iter(f"{LINK}loc")
        }
        texts: dict[str | None, dict[str, str]] = {}
        for label in link.iter(f"{LINK}label"):
            role = label.get(f"{XLINK}role") or LABEL_ROLES[1]
            texts.setdefault(label.get(f"{XLINK}label"), {})[role] = (label.text or "").strip()
        for arc in link.iter(f"{LINK}labelArc"):
            element = locators.get(arc.get(f"{XLINK}from"))
            if element:
                for role, label_text in texts.get(arc.get(f"{XLINK}to"), {}).items():
                    roles.setdefault(element, {}).setdefault(role, label_text)
    found = {}
    for element, by_role in roles.items():
        chosen = next((by_role[r] for r in LABEL_ROLES if by_role.get(r)), None)
        if chosen:
            found[element] = chosen
    return found


def _clean(label: str | None) -> str | None:
    """A filer's label as a KPI name: control characters (XML allows C1 ones) removed, cut
    at :data:`MAX_LABEL` characters."""
    if label is None:
        return None
    text = " ".join(re.sub(r"[\x7f-\x9f\u200b-\u200f\u202a-\u202e]", "", label).split())
    return re.sub(r"\s*\[(?:Member|Domain)\]$", "", text)[:MAX_LABEL] or None


def member_label(member: str) -> str:
    """A member's name from its element: ``aapl:RestOfAsiaPacificSegmentMember`` is
    "Rest of Asia Pacific", ``us-gaap:ServiceMember`` "Service"."""
    name = member.rpartition(":")[2]
    name = re.sub(r"(?:Segment)?(?:Member|Domain)$", "", name) or name
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    return (
        " ".join(w.lower() if i and w.lower() in SMALL_WORDS else w for i, w in enumerate(words))
        or name
    )
