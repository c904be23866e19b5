"""The page reader process (spiders/reader.py): the same reading as in the crawl process, and a reader
that dies loses no page but the one that killed it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date

from spiders.items import DateHit, PageRecord
from spiders.output import encode
from spiders.reader import PageRead, ReaderProcess, read_page

TODAY = date(2026, 3, 15)
HOME = "http://www.demo.gov.test/"
PAGE = PageRecord("demo", HOME, HOME, 200, "ok", 0, "2026-03-15T00:00:00+00:00", encoding="utf-8")
HTML = ('<html><head><title>首页</title></head><body><ul class="list"><li><a href="/a.html">通知一</a>'
        '<span>2026-03-01</span></li><li><a href="/b.html">通知二</a><span>2026-02-01</span></li></ul>'
        '<img src="/logo.png"><a href="http://other.test/">外站</a></body></html>')
# A reader that stops itself before it reads anything: what is sent to it stays pending until the test
# lets it go on (SIGCONT) or kills it, whatever the machine's speed.
STOPPED_READER = [sys.executable, "-P", "-c",
                  ("import os, runpy, signal; os.kill(os.getpid(), signal.SIGSTOP); "
                   "runpy.run_module('spiders.reader', run_name='__main__')")]


def page(n: int) -> PageRecord:
    url = f"{HOME}p{n}.html"
    return PageRecord("demo", url, url, 200, "ok", 1, PAGE.fetched_at, encoding="utf-8")


def stopped(process: subprocess.Popen[bytes] | None) -> bool:
    """Whether the reader has stopped itself (so a SIGCONT now is the one that lets it go on)."""
    if process is None:
        return False
    with open(f"/proc/{process.pid}/stat", encoding="ascii") as stat:
        return stat.read().rpartition(")")[2].split()[0] == "T"


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


def run(test: Callable[[ReaderProcess], Awaitable[None]], command: list[str] | None = None,
        read_timeout_s: float = 600.0, behind: int = 1000) -> None:
    """`test` with a reader; by default every page goes to the reader, however many wait there."""
    async def main() -> None:
        reader = ReaderProcess(TODAY, command=command or (), read_timeout_s=read_timeout_s, behind=behind)
        try:
            await test(reader)
        finally:
            if reader._process is not None:
                os.kill(reader._process.pid, signal.SIGCONT)
            reader.close()
    asyncio.run(main())


def test_a_page_read_in_the_reader_process_is_the_page_read_here() -> None:
    async def test(reader: ReaderProcess) -> None:
        read = await reader.read(PAGE, HTML, HOME, "utf-8")
        assert read == read_page(PAGE, HTML, HOME, "utf-8", TODAY)
        assert reader.restarts == 0 and reader._process is not None
    run(test)
    local = read_page(PAGE, HTML, HOME, "utf-8", TODAY)
    assert isinstance(local, PageRead)
    page_line, links_line = (json.loads(line) for line in local.lines.splitlines())
    assert page_line["title"] == local.title == "首页"
    assert {d["date"] for d in page_line["dates"]} == {"2026-03-01", "2026-02-01"}
    assert (links_line["type"], links_line["source_url"]) == ("links", PAGE.url)
    assert local.links == len(links_line["links"]) == 4
    assert local.follow == (HOME + "a.html", HOME + "b.html", "http://other.test/")   # not the image


def test_a_pages_linked_sheets_and_link_hooks_are_read_the_same_in_the_reader_process() -> None:
    html = HTML.replace("<head>", '<head><link rel="stylesheet" href="/css/style.css">').replace(
        '<a href="http://other.test/">', '<div class="gg"><a href="http://other.test/">')

    async def test(reader: ReaderProcess) -> None:
        read = await reader.read(PAGE, html, HOME, "utf-8")
        assert read == read_page(PAGE, html, HOME, "utf-8", TODAY)
        assert read is not None and read.sheets == (HOME + "css/style.css",)
        notes = json.loads(read.lines.splitlines()[0])["notes"]
        assert (notes["sheets"], notes["hooks"]) == ([[HOME + "css/style.css"]], [["http://other.test/",
                                                                                  "a div.gg body"]])
    run(test)


def test_pages_held_by_a_reader_that_died_are_read_by_the_next() -> None:
    async def test(reader: ReaderProcess) -> None:
        reads = [asyncio.ensure_future(reader.read(page(n), HTML, page(n).url, "utf-8")) for n in range(20)]
        await until(lambda: len(reader._pending) == 20)
        first = reader._process
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        await until(lambda: reader._process not in (None, first) and len(reader._pending) == 20
                    and stopped(reader._process))
        assert reader._process is not None
        os.kill(reader._process.pid, signal.SIGCONT)
        done = await asyncio.gather(*reads)
        assert reader.restarts == 1
        assert [json.loads(r.lines.splitlines()[0])["url"] for r in done if r] == [page(n).url for n in range(20)]
    run(test, STOPPED_READER)


def test_a_page_in_flight_through_two_deaths_is_recorded_unread() -> None:
    async def test(reader: ReaderProcess) -> None:
        poison = asyncio.ensure_future(reader.read(page(1), HTML, page(1).url, "utf-8"))
        for _ in range(2):
            await until(lambda: reader._process is not None and bool(reader._pending))
            process = reader._process
            assert process is not None
            os.kill(process.pid, signal.SIGKILL)
            await until(lambda gone=process: reader._process is not gone)
        assert await poison is None and reader.restarts == 2
        after = asyncio.ensure_future(reader.read(PAGE, HTML, HOME, "utf-8"))     # the crawl reads on
        await until(lambda: bool(reader._pending) and stopped(reader._process))
        assert reader._process is not None
        os.kill(reader._process.pid, signal.SIGCONT)
        assert isinstance(await after, PageRead)
    run(test, STOPPED_READER)


def test_a_reader_that_died_idle_is_started_again_at_the_next_page() -> None:
    async def test(reader: ReaderProcess) -> None:
        await reader.read(PAGE, HTML, HOME, "utf-8")
        first = reader._process
        assert first is not None
        first.kill()
        await until(lambda: reader._process is None)
        assert isinstance(await reader.read(PAGE, HTML, HOME, "utf-8"), PageRead)
        assert reader._process not in (None, first) and reader.restarts == 1
    run(test)


def test_a_reader_stuck_on_a_page_is_killed_and_only_that_page_is_lost() -> None:
    async def test(reader: ReaderProcess) -> None:
        stuck = asyncio.ensure_future(reader.read(page(1), HTML, page(1).url, "utf-8"))
        behind = asyncio.ensure_future(reader.read(page(2), HTML, page(2).url, "utf-8"))
        await until(lambda: len(reader._pending) == 2)
        first = reader._process
        assert await stuck is None                      # the stopped reader never answers: it is killed
        await until(lambda: reader._process not in (None, first) and stopped(reader._process))
        assert reader._process is not None
        os.kill(reader._process.pid, signal.SIGCONT)
        read = await behind
        assert read is not None and json.loads(read.lines.splitlines()[0])["url"] == page(2).url
        assert reader.restarts == 1
    run(test, STOPPED_READER, read_timeout_s=0.5)


def test_the_crawl_process_reads_a_page_itself_when_enough_wait_at_the_reader() -> None:
    async def test(reader: ReaderProcess) -> None:
        queued = [asyncio.ensure_future(reader.read(page(n), HTML, page(n).url, "utf-8")) for n in range(2)]
        await until(lambda: len(reader._pending) == 2)
        read = await reader.read(page(3), HTML, page(3).url, "utf-8")     # the stopped reader answers nothing
        assert read == read_page(page(3), HTML, page(3).url, "utf-8", TODAY) and len(reader._pending) == 2
        await until(lambda: stopped(reader._process))
        assert reader._process is not None
        os.kill(reader._process.pid, signal.SIGCONT)
        assert all(isinstance(r, PageRead) for r in await asyncio.gather(*queued))
    run(test, STOPPED_READER, behind=2)


def test_a_page_line_writes_a_dates_list_fields_only_when_it_is_listed_through_either_encoder() -> None:
    hits = (DateHit(date(2026, 3, 1), "list-item", "通知一 2026-03-01", "L1", f"{HOME}a.html"),
            DateHit(date(2026, 3, 2), "header", "发布日期：2026-03-02"))
    dates = ('"dates":[{"date":"2026-03-01","source":"list-item","snippet":"通知一 2026-03-01","block":"L1",'
             f'"item":"{HOME}a.html"}},{{"date":"2026-03-02","source":"header","snippet":"发布日期：2026-03-02"}}]')
    for title, written in (("首页", "首页"), ("首页\ud800", "首页?")):   # orjson refuses a lone surrogate: json writes it
        line = encode(replace(PAGE, title=title, dates=hits))
        assert dates.encode() in line and json.loads(line)["title"] == written
    read = read_page(PAGE, HTML, HOME, "utf-8", TODAY)
    assert read is not None
    page_line = json.loads(read.lines.splitlines()[0])
    assert [(d["date"], d["block"], d["item"]) for d in page_line["dates"]] == [
        ("2026-03-01", "L1", f"{HOME}a.html"), ("2026-02-01", "L1", f"{HOME}b.html")]
