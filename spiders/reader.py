"""Reading a crawled page, in the crawl child or in a reader process of its own beside it.

Owns `read_page` (a page's text in; its spool lines and what the spider follows out) and
`ReaderProcess`, which runs `read_page` in `python -m spiders.reader` so that the crawl
child's one thread only fetches, follows and writes while the other core reads pages:
extraction (dates, regions, lists, link context) and encoding a page's ~50 link lines were
most of the child's own work. The child sends a page through a pipe and awaits its
`PageRead` while the reactor goes on with other responses; Scrapy counts an awaiting
callback's response against its scraper slot, so a slow reader slows the downloads, never
piles pages up in memory.

Frames both ways are a 4-byte length and a pickle. A reader that dies (a page that crashes
libxml2, an OOM kill) is started again and the pages it held are sent again once; a page
that was in flight through two deaths is recorded unread. Must not decide what is followed
(the spider does, with `PageRead.follow`) and never touches the database.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from monitor import supervisor
from spiders.extract import Extracted, extract
from spiders.items import PageRecord
from spiders.output import encode, encode_links
from spiders.screen import DEFAULT as DEFAULT_SCREENING
from spiders.screen import Screening

log = logging.getLogger(__name__)

READER_SETTING = "GOVMON_READER"   # true: pages are read in a reader process
FOLLOW_TAGS = frozenset({"a", "area", "iframe", "frame", "pager"})
RESTARTS = 5                 # reader deaths a crawl survives; after that pages are read in the child
READ_TIMEOUT_S = 60.0        # a reader that answers nothing this long while it holds pages is stuck: killed
BEHIND = 8                   # pages queued at the reader past which the crawl process reads the next one itself
IN_FLIGHT = 32               # pages decoded and sent, not yet read: enough to keep the reader busy
_LENGTH = struct.Struct(">I")


class _Sent(NamedTuple):
    """A page sent to the reader: its frame is kept (the page's only copy) to send it again."""

    future: asyncio.Future[PageRead | None]
    frame: bytes
    url: str
    resent: bool


@dataclass(frozen=True)
class PageRead:
    """A page read: its spool lines, and what the spider needs to go on crawling."""

    lines: bytes                            # the page's JSON line, then its "links" line (spiders/items.py)
    links: int                              # links in `lines`
    title: str
    follow: tuple[str, ...]                 # URLs of links the crawl may follow (FOLLOW_TAGS), in page order
    moved: str | None                       # a meta refresh or top-level `location = …` target: the page moved
    last_pages: tuple[tuple[str, int], ...]
    screen_s: float = field(default=0.0, compare=False)     # CPU seconds its screening took (spiders/screen.py)
    sheets: tuple[str, ...] = ()            # linked style sheets that may hide its off-site links (links:hidden)


def read_page(page: PageRecord, text: str, base_url: str, codec: str, today: date,
              screening: Screening = DEFAULT_SCREENING) -> PageRead | None:
    """`page` (a record without title, dates, lists or findings) completed from its `text`; None when the
    page cannot be read (logged: one odd page must not lose its record or stop the crawl)."""
    try:
        extracted = extract(text, base_url, today=today, encoding=codec, screening=screening)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.warning("extracting %s failed: %s: %s", page.url, type(exc).__name__, exc)
        return None
    return _read(page, extracted)


def _read(page: PageRecord, extracted: Extracted) -> PageRead:
    # As dataclasses.replace, without the frozen __init__'s object.__setattr__ for each of the record's fields.
    full = object.__new__(PageRecord)
    full.__dict__.update(page.__dict__, title=extracted.title, dates=extracted.dates, lists=extracted.lists,
                         findings=extracted.findings, notes=extracted.notes)
    rows = [(link.url, link.tag, link.text, link.context, link.block)
            for link in (*extracted.links, *extracted.malformed)]
    parts = [encode(full), encode_links(page.site_id, page.url, rows)] if rows else [encode(full)]
    follow = tuple(link.url for link in extracted.links if link.tag in FOLLOW_TAGS)
    return PageRead(b"".join(parts), len(rows), extracted.title, follow,
                    extracted.refresh or extracted.js_redirect, extracted.last_pages, extracted.screen_s,
                    extracted.sheets)


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


class _Frames(asyncio.Protocol):
    """The reader's stdout as whole frames, each handed to `on_frame`; `on_end` once it closes."""

    def __init__(self, on_frame: Callable[[Any], None], on_end: Callable[[], None]) -> None:
        self.on_frame, self.on_end = on_frame, on_end
        self.buffer = bytearray()
        self.transport: asyncio.ReadTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while len(buffer) - start >= 4:
            (size,) = _LENGTH.unpack_from(buffer, start)
            if len(buffer) - start - 4 < size:
                break
            try:
                frame = pickle.loads(buffer[start + 4:start + 4 + size])
            except Exception as exc:  # noqa: BLE001 - a reader that says nonsense is a dead reader
                log.warning("the page reader process sent an unreadable answer: %s", exc)
                buffer.clear()
                if self.transport is not None:
                    self.transport.close()      # connection_lost follows: its pages go to a new reader
                return
            self.on_frame(frame)
            start += 4 + size
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.on_end()


class ReaderProcess:
    """`read_page` in a reader process; `await read(...)` from the reactor's thread only.

    Started at the first read (the reactor's asyncio loop must be running). Falls back to
    reading in this process when no reader can be started or it died RESTARTS times.
    """

    def __init__(self, today: date, screening: Screening = DEFAULT_SCREENING, command: Sequence[str] = (),
                 read_timeout_s: float = READ_TIMEOUT_S, behind: int = BEHIND) -> None:
        self.today, self.screening = today, screening
        self.read_timeout_s, self.behind = read_timeout_s, behind
        self.command = list(command) or [sys.executable, "-P", "-m", "spiders.reader"]
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._writer: asyncio.WriteTransport | None = None
        self._pending: dict[int, _Sent] = {}
        self._next = 0
        self._local = False
        self._starting: asyncio.Future[bool] | None = None     # the reader being started, awaited by every read
        self._turns: asyncio.Semaphore | None = None
        self._answered = 0.0                    # loop time of its last answer (or of work given to an idle reader)
        self._watchdog: asyncio.TimerHandle | None = None

    def turn(self) -> asyncio.Semaphore:
        """Held while a response is decoded and read: at most IN_FLIGHT pages' texts are in memory at once
        (the other responses wait as bodies, which Scrapy's scraper slot already bounds)."""
        if self._turns is None:
            self._turns = asyncio.Semaphore(IN_FLIGHT)
        return self._turns

    async def read(self, page: PageRecord, text: str, base_url: str, codec: str) -> PageRead | None:
        request = (page, text, base_url, codec)
        if self._writer is None and not self._local:
            if self._starting is None:
                self._starting = asyncio.ensure_future(self._start())
            await asyncio.shield(self._starting)
        if self._local or self._writer is None or len(self._pending) >= self.behind:
            return read_page(*request, self.today, self.screening)
        loop = asyncio.get_running_loop()
        self._next += 1
        frame = _frame((self._next, request))
        sent = _Sent(loop.create_future(), frame, page.url, False)
        if not self._pending:
            self._answered = loop.time()
        self._pending[self._next] = sent
        self._writer.write(frame)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self.read_timeout_s, self._watch)
        return await sent.future

    def _watch(self) -> None:
        """Kill a reader that answered nothing for `read_timeout_s` while it held pages (a page that sends
        a regex or libxml2 into a loop). It reads in order, so the oldest page it holds is the one it is
        stuck on: that page is recorded unread; the others go to the next reader."""
        self._watchdog = None
        if not self._pending or self._process is None:
            return
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._answered
        if idle < self.read_timeout_s:
            self._watchdog = loop.call_later(self.read_timeout_s - idle, self._watch)
            return
        stuck = self._pending.pop(next(iter(self._pending)))
        log.warning("reading %s took over %.0f s; recorded unread, the page reader is started again",
                    stuck.url, self.read_timeout_s)
        stuck.future.set_result(None)
        self._process.kill()

    async def _start(self) -> bool:
        loop = asyncio.get_running_loop()
        try:
            process = _spawn(self.command)
        except OSError as exc:
            log.warning("no page reader process (%s): pages are read in the crawl process", exc)
            self._local = True
            return False
        assert process.stdin is not None and process.stdout is not None
        self._process = process
        self._writer, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        self._writer.write(_frame((self.today, self.screening)))    # once: its automaton is built once
        await loop.connect_read_pipe(lambda: _Frames(self._settle, lambda: self._ended(process)), process.stdout)
        return True

    def _settle(self, frame: tuple[int, PageRead | None]) -> None:
        number, read = frame
        self._answered = asyncio.get_running_loop().time()
        sent = self._pending.pop(number, None)
        if sent is not None and not sent.future.done():
            sent.future.set_result(read)

    def _ended(self, process: subprocess.Popen[bytes]) -> None:
        """The reader's stdout closed: it died (or was closed). Its pages go to a new reader, once."""
        if process is not self._process:
            return
        self._writer, self._process, self._starting = None, None, None
        pending, self._pending = self._pending, {}
        code = _ended_with(process)
        self.restarts += 1
        self._local = self.restarts > RESTARTS
        log.warning("the page reader process ended (exit %s) holding %d pages; %s", code, len(pending),
                    "reading in the crawl process from now on" if self._local else "starting another")
        if pending:
            asyncio.ensure_future(self._again(pending))

    async def _again(self, pending: dict[int, _Sent]) -> None:
        if not self._local and self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        started = self._starting is not None and await asyncio.shield(self._starting)
        for number, sent in pending.items():
            if sent.future.done():
                continue
            if sent.resent:   # in flight through two deaths: this page is the likely cause
                log.warning("reading %s ended the page reader twice; recorded unread", sent.url)
                sent.future.set_result(None)
            elif started and self._writer is not None:
                self._pending[number] = sent._replace(resent=True)
                self._writer.write(sent.frame)
            else:
                request = pickle.loads(sent.frame[_LENGTH.size:])[1]
                sent.future.set_result(read_page(*request, self.today, self.screening))

    def close(self) -> None:
        """End the reader: its stdin closes and it exits once it has answered what it holds."""
        process, writer = self._process, self._writer
        self._process = self._writer = None
        if writer is not None:
            writer.close()
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()   # now: the transport would close it on the loop, which we are about to block
            _ended_with(process)


def _ended_with(process: subprocess.Popen[bytes], wait_s: float = 10.0) -> int:
    """The reader's exit code, once it has exited; killed when it has not within `wait_s`."""
    try:
        return process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


PIPE_BYTES = 2**20     # a pipe holds ~30 pages each way, not two: fewer partial writes and wake-ups a page


def _spawn(command: Sequence[str]) -> subprocess.Popen[bytes]:
    """The reader process (a fork and exec: quick enough to do on the reactor's thread, once a crawl)."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": _path()})
    for pipe in (process.stdin, process.stdout):
        try:
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)   # type: ignore[union-attr]
        except (OSError, AttributeError):   # over the system's pipe-max-size, or not Linux: the default size
            pass
    return process


def _path() -> str:
    """PYTHONPATH for the reader: this project's root first, so it imports the same code (we run with -P)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH", "")])])


def serve(stdin: Any, stdout: Any) -> None:
    """The reader's loop: the crawl's day and screening first, then each framed request, answered with its
    framed PageRead, until stdin ends."""
    setup = _read_frame(stdin)
    if setup is None:
        return
    today, screening = setup
    while (frame := _read_frame(stdin)) is not None:
        number, request = frame
        stdout.write(_frame((number, read_page(*request, today, screening))))
        stdout.flush()


def _read_frame(stdin: Any) -> Any:
    """The next frame's value; None at the end of the input (a cut frame is an end too)."""
    head = stdin.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    data = stdin.read(size)
    return pickle.loads(data) if len(data) == size else None


def main() -> int:
    supervisor.tune_gc()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    return 0


if __name__ == "__main__":
    # As the module's own name, so the PageReads it pickles name spiders.reader.PageRead, not __main__'s.
    from spiders import reader  # noqa: PLW0406 - see above

    sys.exit(reader.main())
