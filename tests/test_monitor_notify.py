"""Notifications: message content, the "worse" rule, and delivery to real loopback receivers
(an HTTP server in the test, aiosmtpd for SMTP), with retries and without leaking secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from checks.base import Status
from monitor import notify, store
from monitor.config import Notify, Report
from tests import builders
from tests.loopback_http import reply, serve

TOKEN = "d3adb33fd3adb33fd3adb33f0123456789"
SECRET = "SECd3adb33f-signing-secret"


# --- a loopback webhook receiver -------------------------------------------------------------------------------


@dataclass
class Hit:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 answering POSTs from a script of (status, body); the last answer repeats."""

    script: list[tuple[int, str]] = field(default_factory=lambda: [(200, '{"errcode": 0, "errmsg": "ok"}')])
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urllib.parse.urlsplit(self.path)
                receiver.hits.append(Hit(parts.path, dict(urllib.parse.parse_qsl(parts.query)),
                                         {k.lower(): v for k, v in self.headers.items()}, body))
                status, text = receiver.script[min(len(receiver.hits), len(receiver.script)) - 1]
                reply(self, status, text.encode(), "application/json")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = serve(Handler)

    def url(self, path: str = "/hook", **query: str) -> str:
        q = f"?{urllib.parse.urlencode(query)}" if query else ""
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}{q}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# --- runs to talk about ----------------------------------------------------------------------------------------

REPORT = Report(dir="out", language="zh", title="朝阳市政府网站巡检报告", base_url="https://reports.example.test/govmon/")
SITES = (builders.site("chaoyang", name="朝阳市人民政府"), builders.site("scjg", name="朝阳市市场监督管理局"),
         builders.site("czj", name="朝阳市财政局"))


def run_results(run_id: str, failing: dict[str, Sequence[str]], *, hours_ago: float = 0) -> store.RunResults:
    """A complete scheduled run of SITES: each site passes availability and ipv6:dns unless listed as failing them."""
    started = builders.utcnow() - timedelta(hours=hours_ago)
    info = store.RunInfo(id=run_id, kind=store.RunKind.SCHEDULED, status=store.RunStatus.COMPLETE,
                         started_at=started, finished_at=started + timedelta(seconds=30), error=None,
                         config_digest="0" * 64, code_version="test", pid=1, host="h",
                         summary={"sites": len(SITES), "requirements": {}})
    results = {s.id: tuple(builders.result(c, Status.FAIL if c in failing.get(s.id, ()) else Status.PASS)
                           for c in ("availability", "ipv6:dns")) for s in SITES}
    return store.RunResults(run=info, sites=SITES, results=results, pages_crawled={s.id: 1 for s in SITES})


def summary(failing: dict[str, Sequence[str]], previous: dict[str, Sequence[str]] | None = None,
            report: Report = REPORT) -> notify.Summary:
    before = run_results("r0", previous, hours_ago=24) if previous is not None else None
    return notify.summarize(run_results("r1", failing), before, report, "Asia/Shanghai")


@pytest.mark.parametrize(("previous", "now", "worse"), [
    (None, {}, False),
    (None, {"scjg": ["availability"]}, True),
    ({"scjg": ["availability"]}, {"scjg": ["availability"]}, False),
    ({"scjg": ["availability"], "czj": ["ipv6:dns"]}, {"scjg": ["availability"]}, False),
    ({"scjg": ["availability"]}, {"scjg": ["availability"], "czj": ["availability"]}, True),
    ({"scjg": ["availability"]}, {"czj": ["availability"]}, True),
    ({"scjg": ["availability"]}, {"scjg": ["ipv6:dns"]}, True),
], ids=["first-run-all-pass-is-not-worse", "first-run-with-a-fail-is-worse", "same-fails-is-not-worse",
        "fewer-fails-is-not-worse", "more-fails-is-worse", "same-count-but-another-site-failing-is-worse",
        "a-site-failing-another-check-is-worse"])
def test_worse_means_more_fails_or_a_site_newly_failing_a_check(
        previous: dict[str, list[str]] | None, now: dict[str, list[str]], worse: bool) -> None:
    s = summary(now, previous)
    assert s.worse is worse
    assert notify.wanted(s, "worse") is worse
    assert notify.wanted(s, "always") is True


def test_a_failed_run_is_always_notified() -> None:
    run = replace(run_results("r1", {}).run, status=store.RunStatus.FAILED, error="the run process was killed by SIGKILL")
    s = notify.failed_summary(run, REPORT, "Asia/Shanghai")
    assert notify.wanted(s, "worse")
    assert "SIGKILL" in notify.plain_text(s) and "巡检失败" in notify.headline(s)
    assert notify.payload(s)["event"] == "run.failed"


def test_the_summary_names_failing_sites_new_fails_and_report_links() -> None:
    s = summary({"scjg": ["availability", "ipv6:dns"], "czj": ["ipv6:dns"]}, {"scjg": ["availability"]})
    assert [(f.id, len(f.checks)) for f in s.failing] == [("scjg", 2), ("czj", 1)]
    assert s.newly_failing == (("scjg", "ipv6:dns"), ("czj", "ipv6:dns"))
    assert s.counts == {"fail": 3, "pass": 3}
    assert s.report_url == "https://reports.example.test/govmon/runs/r1/index.html"
    assert s.failing[0].report_url == "https://reports.example.test/govmon/runs/r1/scjg.html"
    body = notify.payload(s)
    assert body["schema"] == "govmon.notify/1" and body["worse"] is True and body["previous_run"] == "r0"
    assert body["newly_failing"] == [{"site": "scjg", "check": "ipv6:dns"}, {"site": "czj", "check": "ipv6:dns"}]


def test_without_base_url_there_are_no_links() -> None:
    s = summary({"scjg": ["availability"]}, report=REPORT.model_copy(update={"base_url": None}))
    _, text = notify.markdown(s)
    assert s.report_url is None and "](" not in text and "朝阳市市场监督管理局" in text


def notify_config(**fields: Any) -> Notify:
    return Notify.model_validate({"on": "always", **fields})


def quick(s: notify.Summary, cfg: Notify, sleeps: list[float] | None = None) -> list[notify.Delivery]:
    return notify.send_all(s, cfg, backoff_s=0.01, timeout_s=5, sleep=(sleeps.append if sleeps is not None
                                                                       else lambda _s: None))


def test_a_webhook_failing_twice_then_succeeding_is_delivered_on_the_third_try(receiver: Receiver) -> None:
    receiver.script = [(503, "busy"), (500, "oops"), (200, "{}")]
    sleeps: list[float] = []
    [d] = quick(summary({"scjg": ["availability"]}), notify_config(webhook=[{"url": receiver.url()}]), sleeps)
    assert (d.channel, d.ok, d.attempts, d.error) == ("json", True, 3, None)
    assert sleeps == [0.01, 0.02]           # backoff doubles
    assert len(receiver.hits) == 3 and receiver.hits[0].body == receiver.hits[2].body
    assert receiver.hits[2].json()["failing"][0]["id"] == "scjg"


def test_a_webhook_that_keeps_failing_gives_up_without_raising(receiver: Receiver) -> None:
    receiver.script = [(502, "bad gateway")]
    [d] = quick(summary({}), notify_config(webhook=[{"url": receiver.url()}]))
    assert (d.ok, d.attempts, d.error) == (False, notify.ATTEMPTS, "HTTP 502")


def test_a_refused_webhook_is_not_retried_and_no_secret_is_logged(
        receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.script = [(403, "forbidden")]
    url = receiver.url("/robot/send", access_token=TOKEN)
    with caplog.at_level(logging.DEBUG):
        [d] = quick(summary({}), notify_config(webhook=[{"url": url, "style": "json", "secret": SECRET}]))
    assert (d.ok, d.attempts, d.error) == (False, 1, "HTTP 403")
    assert d.target == f"{receiver.url('/robot/send')}?access_token=***"
    assert caplog.text and TOKEN not in caplog.text and SECRET not in caplog.text
    assert TOKEN not in repr(d)


def test_an_unreachable_webhook_is_a_failed_delivery() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    [d] = quick(summary({}), notify_config(webhook=[{"url": f"http://127.0.0.1:{port}/x?key={TOKEN}"}]))
    assert not d.ok and d.attempts == notify.ATTEMPTS and d.error and "ConnectError" in d.error
    assert TOKEN not in d.error and TOKEN not in d.target


def test_the_generic_webhook_is_signed_when_a_secret_is_set(receiver: Receiver) -> None:
    quick(summary({}), notify_config(webhook=[{"url": receiver.url(), "secret": SECRET}]))
    [hit] = receiver.hits
    expected = hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["x-govmon-signature"] == f"sha256={expected}"
    assert hit.headers["content-type"].startswith("application/json")


def test_dingtalk_gets_signed_markdown(receiver: Receiver) -> None:
    s = summary({"scjg": ["availability"]})
    [d] = quick(s, notify_config(webhook=[{"url": receiver.url("/robot/send", access_token=TOKEN),
                                           "style": "dingtalk", "secret": SECRET}]))
    assert d.ok and d.target.endswith("/robot/send?access_token=***")
    [hit] = receiver.hits
    assert hit.query["access_token"] == TOKEN
    # DingTalk's check: sign = base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")), timestamp in ms
    timestamp = hit.query["timestamp"]
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert hit.query["sign"] == base64.b64encode(digest).decode()
    assert abs(int(timestamp) / 1000 - builders.utcnow().timestamp()) < 60
    body = hit.json()
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert "朝阳市政府网站巡检报告" in body["markdown"]["title"]
    text = body["markdown"]["text"]
    assert "[朝阳市市场监督管理局](https://reports.example.test/govmon/runs/r1/scjg.html)" in text
    assert "(https://reports.example.test/govmon/runs/r1/index.html)" in text


def test_a_robot_error_code_is_a_failed_delivery(receiver: Receiver) -> None:
    receiver.script = [(200, '{"errcode": 310000, "errmsg": "sign not match"}')]
    [d] = quick(summary({}), notify_config(webhook=[{"url": receiver.url(), "style": "dingtalk"}]))
    assert (d.ok, d.attempts, d.error) == (False, 1, "errcode 310000: sign not match")


def test_wecom_gets_markdown_content_within_its_size_limit(receiver: Receiver) -> None:
    many = tuple(builders.site(f"s{i:02}", name="某某县人民政府" * 6) for i in range(notify.MAX_SITES + 5))
    rr = run_results("r1", {})
    rr = replace(rr, sites=many, results={s.id: (builders.result("availability", Status.FAIL),) for s in many})
    s = notify.summarize(rr, None, REPORT, "Asia/Shanghai")
    [d] = quick(s, notify_config(webhook=[{"url": receiver.url(key=TOKEN), "style": "wecom"}]))
    assert d.ok
    body = receiver.hits[0].json()
    assert body["msgtype"] == "markdown" and list(body["markdown"]) == ["content"]
    content = body["markdown"]["content"]
    assert len(content.encode()) <= notify.WECOM_MAX_BYTES
    assert content.startswith("### 朝阳市政府网站巡检报告") and "s00" in json.dumps(notify.payload(s))


@pytest.mark.parametrize(("url", "shown"), [
    ("https://oapi.dingtalk.com/robot/send?access_token=abc123", "https://oapi.dingtalk.com/robot/send?access_token=***"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***"),
    ("https://user:pw@hooks.example.test:8443/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
     "https://hooks.example.test:8443/services/T000/B000/***"),
    ("http://[::1]:9000/hook", "http://[::1]:9000/hook"),
], ids=["dingtalk-token", "wecom-key", "userinfo-and-path-token", "plain-url-unchanged"])
def test_redact_url_hides_tokens(url: str, shown: str) -> None:
    assert notify.redact_url(url) == shown


# --- SMTP on loopback (aiosmtpd) -------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append((envelope, message_from_bytes(envelope.original_content or b"")))
        return "250 OK"


class _LoopbackController(Controller):
    """aiosmtpd on a socket bound to 127.0.0.1 port 0 (the stock Controller wants a fixed port)."""

    def __init__(self, handler: Any, **kwargs: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self.sock.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


PASSWORD = "smtp-pa55word-9f8e"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"govmon" and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    controller = _LoopbackController(inbox, authenticator=_authenticator, auth_require_tls=False)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def smtp_config(port: int, password: str = PASSWORD) -> Notify:
    return notify_config(smtp={"host": "127.0.0.1", "port": port, "username": "govmon", "password": password,
                               "sender": "govmon@example.test", "recipients": ["a@example.test", "b@example.test"]})


def test_smtp_mail_carries_the_summary_and_the_report_link(
        smtp_server: tuple[_Inbox, int], caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp_server
    with caplog.at_level(logging.DEBUG):
        [d] = quick(summary({"scjg": ["availability"]}), smtp_config(port))
    assert (d.channel, d.ok, d.attempts) == ("smtp", True, 1)
    [(envelope, msg)] = inbox.messages
    assert envelope.rcpt_tos == ["a@example.test", "b@example.test"]
    assert "朝阳市政府网站巡检报告" in str(msg["Subject"]) or "=?utf-8?" in str(msg["Subject"])
    body = msg.get_payload(decode=True).decode(msg.get_content_charset() or "utf-8")
    assert "朝阳市市场监督管理局" in body
    assert "https://reports.example.test/govmon/runs/r1/index.html" in body
    assert PASSWORD not in caplog.text


def test_smtp_refused_login_fails_once_without_the_password(
        smtp_server: tuple[_Inbox, int], caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp_server
    with caplog.at_level(logging.DEBUG):
        [d] = quick(summary({}), smtp_config(port, password="wrong-pa55word-1234"))
    assert (d.ok, d.attempts) == (False, 1) and d.error and "authentication refused" in d.error
    assert inbox.messages == [] and "wrong-pa55word-1234" not in caplog.text + (d.error or "")
