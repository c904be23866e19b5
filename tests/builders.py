"""Tiny constructors for checks.snapshot and checks.base values, for tests.

Every argument but the identifying one has a plain default, so a test states
only what it is about. Times default to now (UTC): tests stay relative to today.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from checks.base import Evidence, Result, Severity, Status
from checks.snapshot import (DateHit, DnsAnswer, History, Link, LinkTarget, Page, Probe, RequirementInfo, SiteInfo,
                             SiteSnapshot)


def utcnow() -> datetime:
    return datetime.now(UTC)


def site(id: str = "s1", *, name: str | None = None, url: str | None = None, kind: str = "portal",
         level: str = "county") -> SiteInfo:
    return SiteInfo(id=id, name=name or f"{id} 人民政府", url=url or f"https://www.{id}.gov.cn/", kind=kind,
                    level=level)


def requirement(id: str = "negative_list", *, title: str = "市场准入负面清单",
                keywords: Iterable[str] = ("市场准入负面清单", "负面清单"), applies_to: Iterable[str] = ("portal",),
                basis: str = "一(一)4", levels: Iterable[str] = (), max_age_days: int | None = None,
                stale_status: str = "warn", deadline: str | None = None) -> RequirementInfo:
    return RequirementInfo(id=id, title=title, keywords=tuple(keywords), applies_to=tuple(applies_to), basis=basis,
                           levels=tuple(levels), max_age_days=max_age_days, stale_status=stale_status,
                           deadline=deadline)


def date_hit(day: date, source: str = "list-item", snippet: str = "") -> DateHit:
    return DateHit(date=day, source=source, snippet=snippet)


def page(url: str = "https://www.s1.gov.cn/", *, status: int | None = 200, fetch_kind: str = "ok", depth: int = 0,
         final_url: str | None = None, title: str = "", dates: Iterable[DateHit] = (),
         redirect_chain: Iterable[str] = (), content_type: str = "text/html", encoding: str = "utf-8",
         size: int = 1000) -> Page:
    return Page(url=url, final_url=final_url or url, status=status, fetch_kind=fetch_kind, depth=depth,
                content_type=content_type, encoding=encoding, size=size, title=title,
                redirect_chain=tuple(redirect_chain), dates=tuple(dates))


def link(source_url: str, target_url: str, *, tag: str = "a", text: str = "", context: str = "body") -> Link:
    return Link(source_url=source_url, target_url=target_url, tag=tag, text=text, context=context)


def target(url: str, outcome: str = "ok", *, http_status: int | None = None, attempts: int = 1,
           final_url: str | None = None, detail: str = "") -> LinkTarget:
    """A checked link target; http_status defaults to 200 when the outcome is ok."""
    status = http_status if http_status is not None or outcome != "ok" else 200
    return LinkTarget(url=url, outcome=outcome, http_status=status, attempts=attempts, final_url=final_url,
                      detail=detail)


def dns(name: str = "www.s1.gov.cn", rtype: str = "A", kind: str = "ok", *, addresses: Iterable[str] = (),
        cname_chain: Iterable[str] = (), detail: str = "") -> DnsAnswer:
    return DnsAnswer(name=name, rtype=rtype, kind=kind, addresses=tuple(addresses), cname_chain=tuple(cname_chain),
                     detail=detail)


def probe(kind: str = "availability", outcome: str = "ok", *, url: str = "https://www.s1.gov.cn/",
          at: datetime | None = None, status: int | None = None, address: str | None = None,
          final_url: str | None = None, title: str = "", size: int = 0, elapsed_ms: float | None = 120.0,
          detail: Mapping[str, Any] | None = None) -> Probe:
    """A probe taken `at` (default now); status defaults to 200 when the outcome is ok."""
    return Probe(kind=kind, url=url, outcome=outcome, at=at or utcnow(),
                 status=status if status is not None or outcome != "ok" else 200, address=address,
                 final_url=final_url, title=title, size=size, elapsed_ms=elapsed_ms, detail=dict(detail or {}))


def evidence(url: str, *, source: str | None = None, detail: str | None = None, text: str | None = None,
             expected: str | None = None, actual: str | None = None) -> Evidence:
    return Evidence(url=url, source=source, detail=detail, text=text, expected=expected, actual=actual)


def result(check_id: str = "availability", status: Status | str = Status.PASS, *,
           severity: Severity | str = Severity.MAJOR, basis: str = "三(一)", message_key: str = "ok",
           message_params: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
           evidence: Iterable[Evidence] = ()) -> Result:
    return Result(check_id=check_id, status=Status(status), severity=Severity(severity), basis=basis,
                  message_key=message_key, message_params=dict(message_params or {}), metrics=dict(metrics or {}),
                  evidence=tuple(evidence))


def snapshot(site_info: SiteInfo | None = None, *, taken_at: datetime | None = None,
             collected: Iterable[str] | None = None, pages: Iterable[Page] = (), links: Iterable[Link] = (),
             targets: Iterable[LinkTarget] = (), dns_answers: Iterable[DnsAnswer] = (),
             probes: Iterable[Probe] = (), availability: Iterable[Probe] = ()) -> SiteSnapshot:
    """A snapshot of `site_info` (default site()); targets are keyed by their url.

    `collected` defaults to "crawl", "dns" and "probe:<kind>" for every probe
    kind given (availability history counts as probe:availability); pass it to
    state that an input was not collected, or was collected but came back empty.
    """
    probe_list, window = tuple(probes), tuple(availability)
    if collected is None:
        collected = {"crawl", "dns"} | {f"probe:{p.kind}" for p in probe_list + window}
    return SiteSnapshot(site=site_info or site(), taken_at=taken_at or utcnow(), collected=frozenset(collected),
                        pages=tuple(pages), links=tuple(links), targets={t.url: t for t in targets},
                        dns=tuple(dns_answers), probes=probe_list, history=History(availability=window))


def store_crawl(session: Any, run_id: str, site_id: str, pages: Iterable[Page], links: Iterable[Link] = (),
                fetched_at: datetime | None = None) -> None:
    """Store pages and their links as the crawl child writes them (each page, then its links),
    through the real ingest (monitor.ingest), in one segment."""
    from monitor.ingest import CrawlIngest

    out: dict[str, list[Link]] = {}
    for one in links:
        out.setdefault(one.source_url, []).append(one)
    records: list[dict[str, Any]] = []
    for p in pages:
        records.append({
            "type": "page", "site_id": site_id, "url": p.url, "final_url": p.final_url, "status": p.status,
            "fetch_kind": p.fetch_kind, "depth": p.depth, "redirect_chain": list(p.redirect_chain),
            "fetched_at": (fetched_at or utcnow()).isoformat(), "content_type": p.content_type,
            "encoding": p.encoding, "size": p.size, "title": p.title,
            "dates": [{"date": d.date.isoformat(), "source": d.source, "snippet": d.snippet, "block": d.block,
                       "item": d.item} for d in p.dates],
            "lists": [{"key": lb.key, "region": lb.region, "heading": lb.heading, "items": lb.items,
                       "pager": lb.pager, "total": lb.total, "widget": lb.widget} for lb in p.lists]})
        records += [{"type": "link", "site_id": site_id, "source_url": k.source_url, "target_url": k.target_url,
                     "tag": k.tag, "text": k.text, "context": k.context, "block": k.block}
                    for k in out.pop(p.url, ())]
    assert not out, f"links without their page: {sorted(out)}"
    CrawlIngest(session, run_id).records(records)
