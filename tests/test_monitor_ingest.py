"""monitor.ingest on SQLite and PostgreSQL: a crawl file into the snapshot tables, in one transaction."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from checks.snapshot import SiteInfo
from monitor import db, store
from monitor.db import CrawlEventRow, LinkFormRow, PageRow, StorageError
from monitor.ingest import MAX_URL_BYTES, PAGE_BATCH, CrawlIngest, IngestStats, ingest_crawl, load_events
from spiders.items import DateHit, EventRecord, Finding, LinkRecord, PageRecord
from spiders.output import encode_links, line
from tests import builders as b

SITES = (b.site("chaoyang", url="http://www.chaoyang.gov.test/"), b.site("lingyuan", url="http://www.lingyuan.gov.test/"))
HOME = "http://www.chaoyang.gov.test/"
TODAY = date.today()


def start(session: Session) -> str:
    return store.start_run(session, kind="manual", sites=SITES, config_digest="d" * 64, code_version="0.1.0",
                           started_at=b.utcnow(), pid=os.getpid(), host="monitor-1")


def page(url: str, site: str = "chaoyang", **changes: object) -> PageRecord:
    values: dict[str, object] = {"site_id": site, "url": url, "final_url": url, "status": 200, "fetch_kind": "ok",
                                 "depth": 1, "fetched_at": b.utcnow().isoformat(timespec="seconds"),
                                 "content_type": "text/html; charset=utf-8", "encoding": "utf-8", "size": 3000,
                                 "title": "朝阳市人民政府", "body_sha256": "ab" * 32}
    values.update(changes)
    return PageRecord(**values)  # type: ignore[arg-type]


def write(path: Path, *records: PageRecord | LinkRecord | EventRecord, tail: str = "") -> Path:
    path.write_text("".join(line(r) for r in records) + tail, encoding="utf-8")
    return path


def snapshot_of(session: Session, run_id: str, site: SiteInfo = SITES[0]):  # type: ignore[no-untyped-def]
    return store.load_snapshot(session, run_id, site, taken_at=b.utcnow(), collected=frozenset())


def count(session: Session, table: type, run_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if run_id is not None:
        query = query.where(table.run_id == run_id)  # type: ignore[attr-defined]
    n = session.scalar(query) or 0
    session.rollback()
    return n


def test_a_crawl_round_trips_into_the_snapshot(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    fresh, older = TODAY - timedelta(days=2), TODAY - timedelta(days=40)
    home = page(HOME, depth=0, redirect_chain=("http://chaoyang.gov.test/",),
                dates=(DateHit(fresh, "list-item", "政务公开工作推进会 " + fresh.isoformat()), DateHit(older, "text")))
    dead = page(HOME + "zwgk/old.html", status=404, fetch_kind="http_4xx", title="页面不存在")
    failed = page("http://gone.chaoyang.gov.test/", status=None, fetch_kind="dns", detail="nxdomain: no such name",
                  content_type="", encoding="", size=0, title="", body_sha256="")
    other = page("http://www.lingyuan.gov.test/", site="lingyuan", title="凌源市人民政府", encoding="gb18030")
    path = write(tmp_path / "crawl.jsonl", home,
                 LinkRecord("chaoyang", HOME, HOME + "zwgk/old.html", "a", "旧通知", "list"),
                 LinkRecord("chaoyang", HOME, "http://gone.chaoyang.gov.test/", "iframe", "", "body"),
                 LinkRecord("chaoyang", HOME, HOME + "logo.png", "img", "标志", "nav"),
                 dead, failed, other, EventRecord("chaoyang", "max_pages", HOME + "p9.html", "max_pages 200 reached"))
    stats = ingest_crawl(session, run_id, path)
    assert stats == IngestStats(pages=4, dates=2, links=3, events=1)

    snap = snapshot_of(session, run_id)
    by_url = snap.page_by_url
    assert set(by_url) == {HOME, HOME + "zwgk/old.html", "http://gone.chaoyang.gov.test/"}
    got = by_url[HOME]
    assert (got.status, got.fetch_kind, got.depth, got.title, got.redirect_chain) == (
        200, "ok", 0, "朝阳市人民政府", ("http://chaoyang.gov.test/",))
    assert [(d.date, d.source) for d in got.dates] == [(fresh, "list-item"), (older, "text")]
    assert by_url["http://gone.chaoyang.gov.test/"].status is None
    assert [(k.source_url, k.target_url, k.tag, k.text, k.context) for k in snap.links] == [
        (HOME, HOME + "zwgk/old.html", "a", "旧通知", "list"),
        (HOME, "http://gone.chaoyang.gov.test/", "iframe", "", "body"),
        (HOME, HOME + "logo.png", "img", "标志", "nav")]
    assert [p.title for p in snapshot_of(session, run_id, SITES[1]).pages] == ["凌源市人民政府"]
    assert [(e.site_id, e.kind, e.url) for e in load_events(session, run_id)] == [
        ("chaoyang", "max_pages", HOME + "p9.html")]


def test_a_cut_last_line_is_tolerated_and_reported(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    path = write(tmp_path / "crawl.jsonl", page(HOME), LinkRecord("chaoyang", HOME, HOME + "a.html", "a"),
                 tail=line(page(HOME + "a.html"))[:37])
    stats = ingest_crawl(session, run_id, path)
    assert (stats.pages, stats.links, stats.truncated, stats.malformed) == (1, 1, True, 0)


def test_malformed_lines_are_skipped_and_counted(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    path = write(tmp_path / "crawl.jsonl", page(HOME))
    with path.open("a", encoding="utf-8") as f:
        f.write("this is not json\n")
        f.write('{"type": "photo", "site_id": "chaoyang"}\n')
        f.write('{"type": "page", "site_id": "chaoyang", "fetch_kind": "ok"}\n')     # no url
        f.write('{"type": "link", "site_id": "chaoyang", "source_url": 5}\n')
        f.write("[1, 2, 3]\n\n")
        f.write(line(page(HOME + "b.html")))
    stats = ingest_crawl(session, run_id, path)
    assert (stats.pages, stats.malformed, stats.truncated) == (2, 5, False)


def test_a_pages_links_line_is_stored_link_by_link_and_a_bad_link_loses_only_itself(session: Session,
                                                                                      tmp_path: Path) -> None:
    run_id = start(session)
    path = write(tmp_path / "crawl.jsonl", page(HOME))
    with path.open("ab") as f:
        f.write(encode_links("chaoyang", HOME, [  # type: ignore[list-item]
            (HOME + "a.html", "a", "通知", "list", "L1"),
            [HOME + "b.html", "a"],                                    # not five fields
            (HOME + "c.html", "a-very-long-tag-name", "链接\x00文字", "body", ""),
            (5, "a", "", "body", ""),                                  # no URL
            (HOME + "logo.png", "img", "", "nav", "")]))
        f.write(encode_links("chaoyang", HOME + "missing.html", [(HOME, "a", "首页", "nav", "")]))
    stats = ingest_crawl(session, run_id, path)
    assert (stats.pages, stats.links, stats.malformed, stats.orphan_links) == (1, 3, 2, 1)
    assert [(k.target_url, k.tag, k.text, k.context, k.block) for k in snapshot_of(session, run_id).links] == [
        (HOME + "a.html", "a", "通知", "list", "L1"), (HOME + "c.html", "a-very-long-tag-", "链接文字", "body", ""),
        (HOME + "logo.png", "img", "", "nav", "")]


def test_overlong_urls_duplicates_orphans_and_strangers_are_skipped(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    long_url = HOME + "list.html?q=" + "x" * MAX_URL_BYTES
    path = write(tmp_path / "crawl.jsonl", page(HOME), page(long_url), page(HOME, title="again"),
                 LinkRecord("chaoyang", HOME, long_url, "a"), LinkRecord("chaoyang", long_url, HOME, "a"),
                 LinkRecord("chaoyang", HOME, HOME + "ok.html", "a"), page(HOME, site="elsewhere"))
    stats = ingest_crawl(session, run_id, path)
    assert (stats.pages, stats.links, stats.long_urls, stats.duplicates, stats.orphan_links,
            stats.unknown_sites) == (1, 1, 2, 1, 1, 1)
    assert [p.title for p in snapshot_of(session, run_id).pages] == ["朝阳市人民政府"]


def test_text_is_made_storable(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    path = write(tmp_path / "crawl.jsonl", page(HOME, title="首页\x00标题", encoding="x" * 100, status=123456),
                 LinkRecord("chaoyang", HOME, HOME + "a.html", "a-very-long-tag-name", "链接\x00文字", "c" * 40))
    ingest_crawl(session, run_id, path)
    snap = snapshot_of(session, run_id)
    assert (snap.pages[0].title, snap.pages[0].status, len(snap.pages[0].encoding)) == ("首页标题", None, 64)
    assert (snap.links[0].text, len(snap.links[0].tag)) == ("链接文字", 16)


def test_ingest_is_one_transaction(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    records = [page(f"{HOME}p{i}.html") for i in range(700)]  # more than one page batch
    path = write(tmp_path / "crawl.jsonl", *records, LinkRecord("chaoyang", HOME + "p1.html", HOME, "a"),
                 EventRecord("chaoyang", "trap", HOME + "cal"))
    engine = session.get_bind()

    def refuse_links(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO LINK_FORM "):
            raise RuntimeError("the disk is full")

    event.listen(engine, "before_cursor_execute", refuse_links)
    try:
        with pytest.raises(RuntimeError, match="disk is full"):
            ingest_crawl(session, run_id, path)
    finally:
        event.remove(engine, "before_cursor_execute", refuse_links)
    assert [count(session, t, run_id) for t in (PageRow, LinkFormRow, CrawlEventRow)] == [0, 0, 0]
    assert ingest_crawl(session, run_id, path).pages == 700  # the session is usable again


def test_a_database_refusal_is_a_storage_error(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    path = write(tmp_path / "crawl.jsonl", page(HOME))
    session.execute(sa.insert(PageRow).values(run_id=run_id, site_id="chaoyang", url=HOME, final_url=HOME,
                                              redirect_chain=[], status=200, fetch_kind="ok", content_type="",
                                              encoding="", size=0, title="", depth=0))
    session.commit()
    with pytest.raises(StorageError, match="ingesting the crawl"):
        ingest_crawl(session, run_id, path)
    assert count(session, PageRow, run_id) == 1


def test_an_unknown_run_is_refused(session: Session, tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no run"):
        ingest_crawl(session, "20260101T000000Z-000000", write(tmp_path / "crawl.jsonl", page(HOME)))


def test_segments_are_ingested_one_transaction_each_with_page_ids_across_them(session: Session,
                                                                              tmp_path: Path) -> None:
    run_id = start(session)
    ingesting = CrawlIngest(session, run_id)
    first = write(tmp_path / "crawl-000001.jsonl", page(HOME), LinkRecord("chaoyang", HOME, HOME + "a.html", "a"))
    second = write(tmp_path / "crawl-000002.jsonl", page(HOME + "a.html"), page(HOME, title="again"),
                   LinkRecord("chaoyang", HOME, HOME + "b.html", "a"),  # its page came in the first segment
                   EventRecord("chaoyang", "trap", HOME + "cal"))
    assert ingesting.segment(first) == IngestStats(pages=1, links=1)
    assert count(session, PageRow, run_id) == 1, "committed before the next segment"
    assert ingesting.segment(second) == IngestStats(pages=1, links=1, events=1, duplicates=1)
    assert ingesting.finish() == IngestStats(pages=2, links=2, events=1, duplicates=1)
    assert sorted((k.source_url, k.target_url) for k in snapshot_of(session, run_id).links) == [
        (HOME, HOME + "a.html"), (HOME, HOME + "b.html")]


def refused(session: Session, ingesting: CrawlIngest, path: Path) -> None:
    """Ingest `path` while the database refuses link-form inserts (a full disk): the segment fails and rolls back."""
    engine = session.get_bind()

    def refuse_links(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO LINK_FORM "):
            raise RuntimeError("the disk is full")

    event.listen(engine, "before_cursor_execute", refuse_links)
    try:
        with pytest.raises(RuntimeError, match="disk is full"):
            ingesting.segment(path)
    finally:
        event.remove(engine, "before_cursor_execute", refuse_links)


def test_a_refused_segment_stores_nothing_of_itself_and_keeps_the_earlier_ones(session: Session,
                                                                               tmp_path: Path) -> None:
    run_id = start(session)
    ingesting = CrawlIngest(session, run_id)
    ingesting.segment(write(tmp_path / "crawl-000001.jsonl", page(HOME)))
    second = write(tmp_path / "crawl-000002.jsonl", page(HOME + "a.html"), LinkRecord("chaoyang", HOME, HOME, "a"))
    refused(session, ingesting, second)
    assert [count(session, t, run_id) for t in (PageRow, LinkFormRow)] == [1, 0]
    assert ingesting.segment(second) == IngestStats(pages=1, links=1), "its page ids were forgotten with it"
    assert ingesting.finish().pages == 2


def test_a_cut_or_malformed_segment_keeps_its_good_lines(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    ingesting = CrawlIngest(session, run_id)
    cut = write(tmp_path / "crawl-000001.jsonl", page(HOME), tail=line(page(HOME + "a.html"))[:30])
    bad = write(tmp_path / "crawl-000002.jsonl", page(HOME + "b.html"), tail="not json\n")
    assert ingesting.segment(cut) == IngestStats(pages=1, truncated=True)
    assert ingesting.segment(bad) == IngestStats(pages=1, malformed=1)
    assert ingesting.finish() == IngestStats(pages=2, malformed=1, truncated=True)


def test_screening_findings_round_trip_malformed_ones_dropped_and_whole_numbers_starred(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    found = (Finding("mobile", "138****0001", "电话 138****0001", count=2),
             Finding("wording", "国务院办工厅", "根据国务院办工厅", "国务院办公厅", "fail", "法定名称"))
    path = write(tmp_path / "crawl.jsonl", page(HOME, depth=0, findings=found))
    text = path.read_text(encoding="utf-8").replace(
        '"findings":[', '"findings":[{"kind":"ssn","masked":"x"},{"kind":"mobile","masked":"1","count":"2"},'
        '{"kind":"mobile","masked":"13800000001","context":"电话 138 0000 0001"},')
    path.write_text(text, encoding="utf-8")
    ingest_crawl(session, run_id, path)
    assert [(f.kind, f.masked, f.context, f.right, f.severity, f.source, f.count)
            for f in snapshot_of(session, run_id).page_by_url[HOME].findings] == [
        ("mobile", "***********", "电话 *************", "", "", "", 1),
        ("mobile", "138****0001", "电话 138****0001", "", "", "", 2),
        ("wording", "国务院办工厅", "根据国务院办工厅", "国务院办公厅", "fail", "法定名称", 1)]


def test_a_site_done_is_forgotten_and_the_others_kept(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    ingesting = CrawlIngest(session, run_id)
    ingesting.segment(write(tmp_path / "crawl-000001.jsonl", page(HOME), LinkRecord("chaoyang", HOME, HOME + "a", "a")))
    ingesting.forget("another")
    assert list(ingesting.page_ids) == [("chaoyang", HOME)] and list(ingesting.forms.known) == ["chaoyang"]
    ingesting.forget("chaoyang")   # a long fed crawl keeps only the sites under way
    assert ingesting.page_ids == {} and ingesting.forms.known == {}


class Reserve:
    """Link form numbers per site for several ingests, a block at a time, as the workers' Redis counter gives them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next: dict[str, int] = {}

    def __call__(self, site_id: str, count: int) -> int:
        with self.lock:
            first = self.next.get(site_id, 0)
            self.next[site_id] = first + count
            return first


def nav(source: str) -> LinkRecord:
    return LinkRecord("chaoyang", source, HOME, "a", "首页", "nav")


def forms_of(session: Session, run_id: str) -> list[tuple[int, str, str]]:
    rows = session.execute(sa.select(LinkFormRow.n, LinkFormRow.target_url, LinkFormRow.text)
                           .where(LinkFormRow.run_id == run_id).order_by(LinkFormRow.n)).all()
    session.rollback()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_two_ingests_of_one_site_store_each_page_once_with_its_own_links(session: Session, db_engine: Engine,
                                                                         tmp_path: Path) -> None:
    run_id = start(session)
    reserve, committed_a, committed_b, told_b = Reserve(), [], [], []  # type: ignore[var-annotated]
    p1, p2, p3, p4 = (f"{HOME}p{i}.html" for i in range(1, 5))
    long_url = HOME + "list.html?q=" + "x" * MAX_URL_BYTES
    a1 = write(tmp_path / "a-1.jsonl", page(HOME, depth=0), nav(HOME), LinkRecord("chaoyang", HOME, p1, "a", "要闻", "list"),
               page(p1), nav(p1), LinkRecord("chaoyang", p1, HOME + "a1.pdf", "a", "附件"))
    b1 = write(tmp_path / "b-1.jsonl", page(HOME, depth=0, title="again"), nav(HOME),   # a stored it: its links go
               LinkRecord("chaoyang", HOME, HOME + "b-only.html", "a"),
               page(p2, dates=(DateHit(TODAY, "list-item", "通知", "L1", p3),)), nav(p2),
               LinkRecord("chaoyang", p2, p3, "a", "通知", "list", "L1"), page(long_url))
    a2 = write(tmp_path / "a-2.jsonl", page(p2, title="again"), LinkRecord("chaoyang", p2, HOME + "a-only.html", "a"),
               page(p3), nav(p3), LinkRecord("chaoyang", HOME, HOME + "late.html", "a", "更多"))  # HOME's, from a-1
    b2 = write(tmp_path / "b-2.jsonl", page(p3), page(p4), nav(p4),
               LinkRecord("chaoyang", HOME, HOME + "b-only-2.html", "a"))  # of a page b lost in b-1
    with db.session_factory(db_engine)() as other:
        a = CrawlIngest(session, run_id, numbers=reserve, on_committed=committed_a.append)
        b = CrawlIngest(other, run_id, lambda site, url, *_: told_b.append(url), numbers=reserve,
                        on_committed=committed_b.append)
        assert a.segment(a1) == IngestStats(pages=2, links=4)
        assert b.segment(b1) == IngestStats(pages=1, dates=1, links=2, duplicates=1, long_urls=1)
        assert a.segment(a2) == IngestStats(pages=1, links=2, duplicates=1), "a lost page's links are no orphans"
        assert b.segment(b2) == IngestStats(pages=1, links=1, duplicates=1)

    assert committed_a == [{"chaoyang": [HOME, p1]}, {"chaoyang": [p2, p3]}]
    assert committed_b == [{"chaoyang": [HOME, p2, long_url]}, {"chaoyang": [p3, p4]}]
    assert told_b == [p2, p4], "the page observer hears of the pages its ingest stored"
    snap = snapshot_of(session, run_id)
    assert sorted(p.url for p in snap.pages) == sorted([HOME, p1, p2, p3, p4])
    assert snap.page_by_url[HOME].title == "朝阳市人民政府"
    assert sorted((k.source_url, k.target_url, k.text) for k in snap.links) == sorted([
        (HOME, HOME, "首页"), (HOME, p1, "要闻"), (HOME, HOME + "late.html", "更多"), (p1, HOME, "首页"),
        (p1, HOME + "a1.pdf", "附件"), (p2, HOME, "首页"), (p2, p3, "通知"), (p3, HOME, "首页"), (p4, HOME, "首页")])
    assert [d.item for d in snap.page_by_url[p2].dates] == [p3], "a date's item by a number of the second block"
    targets, _ = store.targets_to_check(session, run_id)
    assert {t.url for t in targets} == {HOME, p1, p3, HOME + "a1.pdf", HOME + "late.html"}
    forms = forms_of(session, run_id)
    assert len({n for n, _, _ in forms}) == len(forms), "no number is given twice"
    assert {n // 1024 for n, _, _ in forms} == {0, 1}, "each ingest numbers from its own block"
    assert [n // 1024 for n, url, text in forms if (url, text) == (HOME, "首页")] == [0, 1], "one form, two numbers"
    assert not {HOME + "b-only.html", HOME + "a-only.html", HOME + "b-only-2.html"} & {url for _, url, _ in forms}, \
        "a lost page's forms go"


def test_a_rolled_back_shared_segment_tells_nobody_and_its_retry_links_right(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    committed: list[dict[str, list[str]]] = []
    ingesting = CrawlIngest(session, run_id, numbers=Reserve(), on_committed=committed.append)
    ingesting.segment(write(tmp_path / "crawl-000001.jsonl", page(HOME), nav(HOME)))
    second = write(tmp_path / "crawl-000002.jsonl", page(HOME + "a.html"), nav(HOME + "a.html"),
                   LinkRecord("chaoyang", HOME + "a.html", HOME + "b.html", "a", "乙"))
    refused(session, ingesting, second)
    assert committed == [{"chaoyang": [HOME]}], "a segment rolled back is not told"
    assert ingesting.segment(second) == IngestStats(pages=1, links=2)
    assert committed == [{"chaoyang": [HOME]}, {"chaoyang": [HOME + "a.html"]}]
    assert sorted((k.source_url, k.target_url) for k in snapshot_of(session, run_id).links) == [
        (HOME, HOME), (HOME + "a.html", HOME), (HOME + "a.html", HOME + "b.html")]


def test_without_reserved_numbers_a_sites_forms_are_numbered_from_zero(session: Session, tmp_path: Path) -> None:
    run_id = start(session)
    ingesting = CrawlIngest(session, run_id)
    ingesting.segment(write(tmp_path / "crawl-000001.jsonl", page(HOME), nav(HOME),
                            LinkRecord("chaoyang", HOME, HOME + "a.html", "a", "甲")))
    ingesting.segment(write(tmp_path / "crawl-000002.jsonl", page(HOME + "a.html"), nav(HOME + "a.html"),
                            LinkRecord("chaoyang", HOME + "a.html", HOME + "b.html", "a", "乙")))
    assert forms_of(session, run_id) == [(0, HOME, "首页"), (1, HOME + "a.html", "甲"), (2, HOME + "b.html", "乙")]


@pytest.mark.postgres
def test_an_ingest_storing_a_page_another_holds_uncommitted_waits_and_skips_it(session: Session, db_engine: Engine,
                                                                              tmp_path: Path) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's concurrent transactions")
    run_id = start(session)
    reserve, inserted, held, failures = Reserve(), threading.Event(), threading.Event(), []  # type: ignore[var-annotated]
    committed: list[dict[str, list[str]]] = []
    stats: dict[str, IngestStats] = {}

    def a_records():  # type: ignore[no-untyped-def]
        yield json.loads(line(page(HOME)))
        yield json.loads(line(nav(HOME)))
        yield from (json.loads(line(page(f"{HOME}p{i}.html"))) for i in range(PAGE_BATCH))   # the last flushes HOME
        inserted.set()
        held.wait(30)   # the transaction stays open, HOME's row inserted and not committed

    def run(name: str, work: Callable[[], IngestStats]) -> None:
        try:
            stats[name] = work()
        except Exception as exc:  # noqa: BLE001 - reported by the assert below
            failures.append(exc)

    waiting = sa.text("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                      " WHERE NOT l.granted AND a.datname = current_database()")
    watcher = sa.create_engine(db_engine.url)
    with db.session_factory(db_engine)() as other, watcher.connect() as conn:
        a = CrawlIngest(session, run_id, numbers=reserve)
        b = CrawlIngest(other, run_id, numbers=reserve, on_committed=committed.append)
        b_path = write(tmp_path / "b.jsonl", page(HOME, title="again"), LinkRecord("chaoyang", HOME, HOME + "b.html", "a"),
                       page(HOME + "b.html"))
        first = threading.Thread(target=run, args=("a", lambda: a.records(a_records())))
        second = threading.Thread(target=run, args=("b", lambda: b.segment(b_path)))
        first.start()
        try:
            assert inserted.wait(30)
            second.start()
            for _ in range(300):   # b's insert of HOME waits for a's transaction
                if conn.scalar(waiting) or not second.is_alive():
                    break
                held.wait(0.1)
            assert second.is_alive(), "b waited for a's transaction"
        finally:
            held.set()
            first.join(30)
            if second.ident is not None:
                second.join(30)
    watcher.dispose()
    assert failures == []
    assert stats["a"].pages == PAGE_BATCH + 1
    assert stats["b"] == IngestStats(pages=1, duplicates=1)
    assert committed == [{"chaoyang": [HOME, HOME + "b.html"]}]
    snap = snapshot_of(session, run_id)
    assert snap.page_by_url[HOME].title == "朝阳市人民政府"
    assert [(k.source_url, k.target_url) for k in snap.links] == [(HOME, HOME)]
