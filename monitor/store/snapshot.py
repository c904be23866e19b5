"""A run's collected data: DNS answers, probes and link targets saved, the crawl read back into
checks.snapshot (pages with their links and dates from monitor.store.pagecodec), the targets to check."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from checks.snapshot import (DnsAnswer, History, Link, LinkTarget, ListBlock, Page, Probe, SiteInfo,
                             SiteSnapshot)
from monitor.db import (CrawlEventRow, DnsAnswerRow, LinkFormRow, LinkTargetRow, PageRow, ProbeRow,
                        RunRow)
from monitor.linkcheck import KnownPage, TargetToCheck
from monitor.store import pagecodec
from monitor.store.common import insert_for, no_nul, storage
from monitor.store.runs import in_history

log = logging.getLogger(__name__)


def _dns_name(name: str) -> str:
    return name.lower().rstrip(".")


@storage("clearing a site's crawl")
def clear_crawl(session: Session, run_id: str, site_ids: Sequence[str]) -> int:
    """Delete the crawl rows (pages, link forms, crawl events) of `site_ids` in the run, in one
    transaction, before a site is crawled again; the number of pages deleted."""
    pages = 0
    for table, column in ((PageRow, PageRow.site_id), (LinkFormRow, LinkFormRow.site_id),
                          (CrawlEventRow, CrawlEventRow.site_id)):
        deleted = session.execute(sa.delete(table).where(table.run_id == run_id, column.in_(list(site_ids))))
        if table is PageRow:
            pages = getattr(deleted, "rowcount", 0)
    return pages


@storage("clearing a site's probes")
def clear_probes(session: Session, run_id: str, site_id: str) -> int:
    """Delete the run's probe rows of one site (an earlier attempt at judging it that did not finish),
    before it is probed again; how many."""
    deleted = session.execute(sa.delete(ProbeRow).where(ProbeRow.run_id == run_id, ProbeRow.site_id == site_id))
    session.commit()
    return int(getattr(deleted, "rowcount", 0) or 0)


@storage("saving DNS answers")
def save_dns(session: Session, run_id: str, answers: Sequence[DnsAnswer], at: datetime) -> None:
    """Store the run's DNS answers. Names are compared case-insensitively without the
    trailing dot; a second answer for the same (name, type) in a run is ignored."""
    if not answers:
        return
    rows = [{"run_id": run_id, "name": _dns_name(a.name), "rtype": a.rtype, "kind": str(a.kind),
             "addresses": list(a.addresses), "cname_chain": list(a.cname_chain), "detail": a.detail, "at": at}
            for a in answers]
    session.execute(insert_for(session, DnsAnswerRow).on_conflict_do_nothing(
        index_elements=["run_id", "name", "rtype"]), rows)
    session.commit()


@storage("saving probes")
def save_probes(session: Session, run_id: str | None, site_id: str, probes: Sequence[Probe]) -> None:
    """Store probes of one site; run_id None for probes outside any run (availability)."""
    if not probes:
        return
    session.execute(sa.insert(ProbeRow), [
        {"run_id": run_id, "site_id": site_id, "kind": p.kind, "url": no_nul(p.url), "address": p.address,
         "outcome": str(p.outcome), "status": p.status, "final_url": no_nul(p.final_url),
         "title": no_nul(p.title), "size": p.size, "elapsed_ms": p.elapsed_ms, "at": p.at,
         "detail": no_nul(dict(p.detail))}
        for p in probes])
    session.commit()


@storage("saving link targets")
def save_link_targets(session: Session, run_id: str, targets: Sequence[LinkTarget], at: datetime) -> None:
    """Store the outcome of each distinct link target of the run; a URL already stored
    for the run keeps its first outcome."""
    if not targets:
        return
    rows = [{"run_id": run_id, "url": t.url, "outcome": str(t.outcome), "http_status": t.http_status,
             "attempts": t.attempts, "final_url": t.final_url, "detail": t.detail, "checked_at": at}
            for t in targets]
    session.execute(insert_for(session, LinkTargetRow).on_conflict_do_nothing(index_elements=["run_id", "url"]), rows)
    session.commit()


@storage("reading the link targets to check")
def targets_to_check(session: Session, run_id: str, bounds: Mapping[str, tuple[int, int]] | None = None
                     ) -> tuple[list[TargetToCheck], dict[str, KnownPage]]:
    """The run's distinct link targets (all sites, first seen first) with the tags they were
    linked as and the sites linking them, and what the crawl knows of those it fetched: a target
    requested as a page, or reached with a 2xx at the end of a page's redirects. Where sites
    crawled one URL differently, a 2xx wins.

    `bounds[site_id] = (max_link_targets, max_links_per_page)`: in crawl order, a site admits
    at most that many distinct http(s) targets, and at most the second number from any one page;
    a target the crawl already answered with a 2xx costs no request and is always admitted.
    A target no site admits carries `over_limit` (the bound it fell past) and is never requested.
    """
    known: dict[str, KnownPage] = {}
    pages = (sa.select(PageRow.url, PageRow.final_url, PageRow.status, PageRow.fetch_kind, PageRow.title,
                       PageRow.content_type).where(PageRow.run_id == run_id).order_by(PageRow.id)
             .execution_options(yield_per=2000))
    for url, final_url, status, fetch_kind, title, content_type in session.execute(pages):
        page = KnownPage(url=url, final_url=final_url, status=status, fetch_kind=fetch_kind, title=title,
                         content_type=content_type)
        for target in (url, final_url) if page.ok else (url,):
            if not (target in known and known[target].ok):
                known[target] = page if target == url else replace(page, url=target)
    tags: dict[str, set[str]] = {}
    sites: dict[str, set[str]] = {}
    admitted: set[str] = set()
    over: dict[str, str] = {}
    per_site: dict[str, set[str]] = defaultdict(set)
    noted_forms: dict[str, set[int]] = defaultdict(set)
    forms = _forms(session, run_id)
    rows = (sa.select(PageRow.site_id, PageRow.extract).where(PageRow.run_id == run_id).order_by(PageRow.id)
            .execution_options(yield_per=2000))
    for site_id, extract in session.execute(rows):
        of_site = forms.get(site_id, {})
        try:
            numbers = pagecodec.forms_of(extract)
        except pagecodec.CorruptValue:
            continue   # _crawl warns about it when the site is loaded
        limits = (bounds or {}).get(site_id)
        page_seen: set[str] = set()
        noted = noted_forms[site_id]
        for n in numbers:
            form = of_site.get(n)
            if form is None:
                continue
            url = form[0]
            if n not in noted:   # a form's target and tag are the same wherever the site repeats it
                noted.add(n)
                if url in tags:
                    tags[url].add(form[1])
                    sites[url].add(site_id)
                else:
                    tags[url], sites[url] = {form[1]}, {site_id}
            if limits is None or not url.startswith(("http://", "https://")) or (url in known and known[url].ok):
                admitted.add(url)   # unbounded, never requested, or answered by the crawl: costs nothing
                continue
            site_seen = per_site[site_id]
            if url in site_seen:
                continue
            if len(page_seen) >= limits[1]:
                over.setdefault(url, f"past max_links_per_page = {limits[1]} on the linking page of {site_id}")
                continue
            page_seen.add(url)
            if len(site_seen) >= limits[0]:
                over.setdefault(url, f"past max_link_targets = {limits[0]} of {site_id}")
                continue
            site_seen.add(url)
            admitted.add(url)
    known = {url: page for url, page in known.items() if url in tags}
    return [TargetToCheck(url, frozenset(t), frozenset(sites[url]),
                          None if url in admitted else over[url])   # every url left out has its reason
            for url, t in tags.items()], known


_PROBE_COLUMNS = (ProbeRow.kind, ProbeRow.url, ProbeRow.outcome, ProbeRow.at, ProbeRow.status, ProbeRow.address,
                  ProbeRow.final_url, ProbeRow.title, ProbeRow.size, ProbeRow.elapsed_ms, ProbeRow.detail)


@dataclass(frozen=True)
class Probed:
    """The light part of a site's snapshot: what the run's probes stored, and the history."""

    dns: tuple[DnsAnswer, ...]
    probes: tuple[Probe, ...]
    history: History


@storage("loading a snapshot")
def load_snapshot(session: Session, run_id: str, site: SiteInfo, *, taken_at: datetime,
                  collected: frozenset[str], hosts: Sequence[str] = (), window_days: int = 7,
                  probes: bool = True) -> SiteSnapshot:
    """What a run collected about one site, plus its history.

    `dns` holds the answers for `hosts` (default: the host of the site's URL);
    `history.availability` every availability probe of the site taken within
    `window_days` up to `taken_at`, oldest first: those stored without a run (the
    daemon's), by runs of the history (HISTORY_KINDS, whatever their status) and by
    this run; never those of another ad-hoc check. `probes=False`
    loads the crawl and its link targets only (add the rest later from `load_probes`).
    """
    pages, links, targets = _crawl(session, run_id, site.id)
    snap = SiteSnapshot(site=site, taken_at=taken_at, collected=collected, pages=pages, links=links, targets=targets)
    if not probes:
        return snap
    probed = _probed(session, run_id, site, taken_at, hosts, window_days)
    return replace(snap, dns=probed.dns, probes=probed.probes, history=probed.history)


@storage("loading a site's probes")
def load_probes(session: Session, run_id: str, site: SiteInfo, *, taken_at: datetime, hosts: Sequence[str] = (),
                window_days: int = 7) -> Probed:
    """The run's DNS answers and probes of one site and its history, as `load_snapshot` gives them."""
    return _probed(session, run_id, site, taken_at, hosts, window_days)


def _probed(session: Session, run_id: str, site: SiteInfo, taken_at: datetime, hosts: Sequence[str],
            window_days: int) -> Probed:
    names = [_dns_name(h) for h in hosts] or [_dns_name(urlsplit(site.url).hostname or "")]
    dns = session.execute(sa.select(DnsAnswerRow.name, DnsAnswerRow.rtype, DnsAnswerRow.kind,
                                    DnsAnswerRow.addresses, DnsAnswerRow.cname_chain, DnsAnswerRow.detail)
                          .where(DnsAnswerRow.run_id == run_id, DnsAnswerRow.name.in_(names))
                          .order_by(DnsAnswerRow.id))
    probes = session.execute(sa.select(*_PROBE_COLUMNS).where(ProbeRow.run_id == run_id, ProbeRow.site_id == site.id)
                             .order_by(ProbeRow.at, ProbeRow.id)).all()
    counted = sa.or_(ProbeRow.run_id.is_(None), ProbeRow.run_id.in_(sa.select(RunRow.id).where(in_history(run_id))))
    window = session.execute(sa.select(*_PROBE_COLUMNS).where(
        ProbeRow.site_id == site.id, ProbeRow.kind == "availability", counted,
        ProbeRow.at >= taken_at - timedelta(days=window_days), ProbeRow.at <= taken_at)
        .order_by(ProbeRow.at, ProbeRow.id)).all()
    return Probed(dns=tuple(DnsAnswer(name=name, rtype=rtype, kind=kind, addresses=tuple(addresses),
                                      cname_chain=tuple(chain), detail=detail)
                            for name, rtype, kind, addresses, chain, detail in dns),
                  probes=tuple(Probe(*row) for row in probes),
                  history=History(availability=tuple(Probe(*row) for row in window)))


@storage("reading a site's crawl")
def crawl_of(session: Session, run_id: str, site_id: str) -> tuple[tuple[Page, ...], tuple[Link, ...]] | None:
    """The pages and links the run's crawl stored for one site (for probes planned from them);
    None when the crawl stored no page for it."""
    pages, links, _ = _crawl(session, run_id, site_id)
    return (pages, links) if pages else None


def _forms(session: Session, run_id: str, site_id: str | None = None) -> dict[str, dict[int, tuple[str, ...]]]:
    """site id -> form number -> (target, tag, text, context, block), one string object per
    distinct value: a large site's forms repeat a few tags, contexts and texts many times."""
    same: dict[str, str] = {}
    forms: dict[str, dict[int, tuple[str, ...]]] = defaultdict(dict)
    query = sa.select(LinkFormRow.site_id, LinkFormRow.n, LinkFormRow.target_url, LinkFormRow.tag, LinkFormRow.text,
                      LinkFormRow.context, LinkFormRow.block).where(LinkFormRow.run_id == run_id)
    if site_id is not None:
        query = query.where(LinkFormRow.site_id == site_id)
    for site, n, *values in session.execute(query.execution_options(yield_per=5000)):
        forms[site][n] = tuple(same.setdefault(v, v) if v else "" for v in values)
    return forms


def _crawl(session: Session, run_id: str, site_id: str
           ) -> tuple[tuple[Page, ...], tuple[Link, ...], Mapping[str, LinkTarget]]:
    # Plain column rows, not ORM objects: a large site has hundreds of thousands of links.
    page_rows = session.execute(sa.select(PageRow.url, PageRow.final_url, PageRow.status, PageRow.fetch_kind,
                                          PageRow.depth, PageRow.content_type, PageRow.encoding, PageRow.size,
                                          PageRow.title, PageRow.redirect_chain, PageRow.lists, PageRow.extract)
                                .where(PageRow.run_id == run_id, PageRow.site_id == site_id)
                                .order_by(PageRow.id).execution_options(yield_per=2000))
    forms = _forms(session, run_id, site_id).get(site_id, {})
    targets_of = {n: form[0] for n, form in forms.items()}
    pages: list[Page] = []
    links: list[Link] = []
    for url, final_url, status, kind, depth, content_type, encoding, size, title, chain, lists, extract in page_rows:
        try:
            numbers, dates, findings, notes = pagecodec.decode_page(extract, targets_of)
        except pagecodec.CorruptValue as exc:
            log.warning("run %s, site %s: %s: %s (its links and dates are left out)", run_id, site_id, url, exc)
            numbers, dates, findings, notes = [], [], [], {}
        pages.append(Page(url=url, final_url=final_url, status=status, fetch_kind=kind, depth=depth,
                          content_type=content_type, encoding=encoding, size=size, title=title,
                          redirect_chain=tuple(chain), lists=_lists(lists),
                          dates=tuple(dates), findings=tuple(findings), **(_noted(notes) if notes else {})))
        links.extend([Link(url, *forms[n]) for n in numbers if n in forms])
    if not pages:
        return (), (), {}
    linked = sa.select(LinkFormRow.target_url).where(LinkFormRow.run_id == run_id, LinkFormRow.site_id == site_id)
    targets = {url: LinkTarget(url=url, outcome=outcome, http_status=status, attempts=attempts, final_url=final,
                               detail=detail)
               for url, outcome, status, attempts, final, detail in session.execute(
                   sa.select(LinkTargetRow.url, LinkTargetRow.outcome, LinkTargetRow.http_status,
                             LinkTargetRow.attempts, LinkTargetRow.final_url, LinkTargetRow.detail)
                   .where(LinkTargetRow.run_id == run_id, LinkTargetRow.url.in_(linked)))}
    return tuple(pages), tuple(links), targets


def _noted(notes: Mapping[str, Any]) -> dict[str, Any]:
    """A page's stored notes (monitor/store/pagecodec.py) as `Page` fields; a value that does not read is left out."""
    fields: dict[str, Any] = {}
    if isinstance(notes.get("placeholder"), str):
        fields["placeholder"] = notes["placeholder"]
    for name in ("published", "issued"):
        try:
            fields[name] = date.fromisoformat(notes[name])
        except (KeyError, TypeError, ValueError):
            pass
    future = notes.get("future")
    if isinstance(future, list):
        found = []
        for row in future:
            try:
                found.append((str(row[0]), date.fromisoformat(row[1])))
            except (IndexError, TypeError, ValueError):
                continue
        fields["future"] = tuple(found)
    asked = notes.get("messages")
    if isinstance(asked, list):
        read = []
        for row in asked:
            try:
                read.append((str(row[0]), date.fromisoformat(row[1]), date.fromisoformat(row[2]) if row[2] else None))
            except (IndexError, TypeError, ValueError):
                continue
        fields["messages"] = tuple(read)
    for name in ("hidden", "hooks"):
        rows = notes.get(name)
        if isinstance(rows, list):
            fields[name] = tuple((str(row[0]), str(row[1])) for row in rows if isinstance(row, list) and len(row) >= 2)
    sheets = notes.get("sheets")
    if isinstance(sheets, list):
        fields["sheets"] = tuple(str(row[0]) for row in sheets if isinstance(row, list) and row)
    hides = notes.get("hides")
    if isinstance(hides, list):
        fields["hides"] = tuple((str(row[0]), str(text)) for row in hides if isinstance(row, list) and row
                                for text in row[1:])
    return fields


def _lists(stored: Any) -> tuple[ListBlock, ...]:
    """A page's list blocks from their stored JSON (unknown fields ignored)."""
    return tuple(ListBlock(**(block if block.keys() <= _LIST_FIELDS else
                              {k: v for k, v in block.items() if k in _LIST_FIELDS}))
                 for block in stored or () if isinstance(block, dict) and "key" in block)


_LIST_FIELDS = frozenset(("key", "region", "heading", "items", "pager", "total", "widget"))
