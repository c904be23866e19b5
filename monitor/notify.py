"""Notifications after a scheduled run: generic JSON webhook, DingTalk and WeCom robot
webhooks (markdown), SMTP mail.

Owns httpx and smtplib for notifications and maps their errors here. Builds the
message from stored results (pure), decides whether it is worth sending, and
delivers it with retries and backoff, returning one `Delivery` per channel.
Never raises into the caller; never logs, returns or records a secret: webhook
URLs are redacted (query values, long path segments, user info), secrets and
the SMTP password appear nowhere. No database access: the daemon records the
deliveries. Endpoints are resolved by the system resolver and the environment's
proxy settings apply (the [dns] resolver is for the inspected sites).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import smtplib
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from checks.base import T
from monitor.config import Notify, Report, Smtp, Webhook
from monitor.store import RunInfo, RunResults
from reports import i18n

log = logging.getLogger(__name__)

ATTEMPTS = 4                 # per channel: the first try and three retries
BACKOFF_S = 2.0              # waits 2, 4, 8 s between tries
TIMEOUT_S = 10.0
MAX_SITES = 20               # failing sites listed in a message; the rest are counted
WECOM_MAX_BYTES = 4096       # WeCom refuses longer markdown content
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

WORDS: Mapping[str, T] = {
    "complete": T(zh="巡检完成", en="inspection complete"),
    "failed": T(zh="巡检失败", en="inspection failed"),
    "run": T(zh="巡检", en="Run"),
    "time": T(zh="时间", en="Time"),
    "sites": T(zh="站点", en="Sites"),
    "failing_sites": T(zh="不合格站点", en="Failing sites"),
    "results": T(zh="结果", en="Results"),
    "new_fails": T(zh="较上次新增不合格", en="Newly failing since the previous run"),
    "first": T(zh="（首次定时巡检，无可比较的上次结果）", en="(first scheduled run: nothing to compare with)"),
    "more": T(zh="另有 {n} 个站点", en="and {n} more sites"),
    "report": T(zh="查看报告", en="Open the report"),
    "error": T(zh="原因", en="Reason"),
}


@dataclass(frozen=True)
class FailingSite:
    id: str
    name: str
    url: str
    checks: tuple[str, ...]          # titles of the failing checks, in result order
    report_url: str | None


@dataclass(frozen=True)
class Summary:
    """What a notification says about one run."""

    run: RunInfo
    title: str                       # [report].title
    language: str
    timezone: str
    sites: int = 0
    counts: Mapping[str, int] | None = None            # status -> results; None for a failed run
    failing: tuple[FailingSite, ...] = ()
    newly_failing: tuple[tuple[str, str], ...] = ()     # (site id, check id)
    previous_run_id: str | None = None
    previous_fails: int | None = None
    report_url: str | None = None

    @property
    def fails(self) -> int:
        return (self.counts or {}).get("fail", 0)

    @property
    def worse(self) -> bool:
        """More fails than the previous complete run, or a (site, check) failing that did not."""
        if self.run.status != "complete":
            return True
        return bool(self.newly_failing) or self.fails > (self.previous_fails or 0)


@dataclass(frozen=True)
class Delivery:
    channel: str                     # json | dingtalk | wecom | smtp
    target: str                      # redacted
    ok: bool
    attempts: int
    error: str | None = None


def _join(base: str | None, path: str) -> str | None:
    return urllib.parse.urljoin(base if base.endswith("/") else base + "/", path) if base else None


def _fails(results: Mapping[str, Sequence[Any]]) -> set[tuple[str, str]]:
    return {(site, r.check_id) for site, rs in results.items() for r in rs if str(r.status) == "fail"}


def summarize(current: RunResults, previous: RunResults | None, report: Report, timezone: str) -> Summary:
    """The summary of a complete run, compared with `previous` (None: no baseline, every fail is new)."""
    titles = current.run.summary.get("requirements") or {}
    counts: dict[str, int] = {}
    failing = []
    for site in current.sites:
        results = current.results.get(site.id, ())
        for r in results:
            counts[str(r.status)] = counts.get(str(r.status), 0) + 1
        failed = tuple(i18n.check_title(r.check_id, report.language, titles)
                       for r in results if str(r.status) == "fail")
        if failed:
            failing.append(FailingSite(site.id, site.name, site.url, failed,
                                       _join(report.base_url, f"runs/{current.run.id}/{site.id}.html")))
    now = _fails(current.results)
    before = _fails(previous.results) if previous else set()
    ordered = {site.id: i for i, site in enumerate(current.sites)}
    return Summary(run=current.run, title=report.title, language=report.language, timezone=timezone,
                   sites=len(current.sites), counts=dict(sorted(counts.items())), failing=tuple(failing),
                   newly_failing=tuple(sorted(now - before, key=lambda k: (ordered.get(k[0], 0), k[1]))),
                   previous_run_id=previous.run.id if previous else None,
                   previous_fails=len(before) if previous else None,
                   report_url=_join(report.base_url, f"runs/{current.run.id}/index.html"))


def failed_summary(run: RunInfo, report: Report, timezone: str) -> Summary:
    return Summary(run=run, title=report.title, language=report.language, timezone=timezone,
                   report_url=_join(report.base_url, "index.html"))


def wanted(summary: Summary, on: str) -> bool:
    """Whether notify.on asks for this run: a failed run always, else "always" or a worse run."""
    return on == "always" or summary.worse


# --- rendering ------------------------------------------------------------------------------------------------


def headline(s: Summary) -> str:
    w = WORDS["complete" if s.run.status == "complete" else "failed"].get(s.language)
    if s.run.status != "complete":
        return w
    return f"{w}：{len(s.failing)}/{s.sites} 站点不合格" if s.language == "zh" else \
        f"{w}: {len(s.failing)} of {s.sites} sites failing"


def _lines(s: Summary, link: Callable[[str, str | None], str]) -> list[str]:
    lang = s.language
    kind = i18n.run_kind(s.run.kind, lang)
    lines = [f"- {WORDS['run'].get(lang)}: {s.run.id} ({kind})",
             f"- {WORDS['time'].get(lang)}: {i18n.when(s.run.started_at, s.timezone, lang)}"]
    if s.run.status != "complete":
        return [*lines, f"- {WORDS['error'].get(lang)}: {s.run.error or '—'}"]
    counts = " · ".join(f"{i18n.status_word(k, lang)} {s.counts[k]}"
                        for k in i18n.STATUS_ORDER if s.counts and s.counts.get(k))
    lines += [f"- {WORDS['sites'].get(lang)}: {s.sites}", f"- {WORDS['results'].get(lang)}: {counts or '—'}"]
    if s.previous_run_id is None:
        lines.append(f"- {WORDS['first'].get(lang)}")
    elif s.newly_failing:
        lines.append(f"- {WORDS['new_fails'].get(lang)}: {len(s.newly_failing)}")
    if s.failing:
        lines += ["", f"{WORDS['failing_sites'].get(lang)}:"]
        lines += [f"{i}. {link(f.name, f.report_url)}: {'、'.join(f.checks) if lang == 'zh' else ', '.join(f.checks)}"
                  for i, f in enumerate(s.failing[:MAX_SITES], 1)]
        if len(s.failing) > MAX_SITES:
            lines.append(WORDS["more"].get(lang).format(n=len(s.failing) - MAX_SITES))
    return lines


def markdown(s: Summary) -> tuple[str, str]:
    """(title, markdown text) for the robot webhooks."""
    lines = _lines(s, lambda text, url: f"[{text}]({url})" if url else text)
    if s.report_url:
        lines += ["", f"[{WORDS['report'].get(s.language)}]({s.report_url})"]
    title = f"{s.title}：{headline(s)}" if s.language == "zh" else f"{s.title}: {headline(s)}"
    return title, "\n".join([f"### {title}", "", *lines])


def plain_text(s: Summary) -> str:
    lines = _lines(s, lambda text, url: f"{text} <{url}>" if url else text)
    if s.report_url:
        lines += ["", f"{WORDS['report'].get(s.language)}: {s.report_url}"]
    return "\n".join([headline(s), "", *lines, ""])


def payload(s: Summary) -> dict[str, Any]:
    """The generic webhook's JSON body, schema govmon.notify/1 (docs/operations.md)."""
    run = s.run
    return {
        "schema": "govmon.notify/1",
        "event": "run.complete" if run.status == "complete" else "run.failed",
        "title": s.title, "headline": headline(s),
        "run": {"id": run.id, "kind": str(run.kind), "status": str(run.status),
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None, "error": run.error},
        "sites": s.sites, "counts": dict(s.counts or {}), "worse": s.worse,
        "previous_run": s.previous_run_id,
        "failing": [{"id": f.id, "name": f.name, "url": f.url, "checks": list(f.checks), "report_url": f.report_url}
                    for f in s.failing],
        "newly_failing": [{"site": site, "check": check} for site, check in s.newly_failing],
        "report_url": s.report_url,
    }


def robot_body(s: Summary, style: str) -> dict[str, Any]:
    title, text = markdown(s)
    if style == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    while len(text.encode()) > WECOM_MAX_BYTES and "\n" in text:
        text = text.rsplit("\n", 1)[0]
    return {"msgtype": "markdown", "markdown": {"content": text}}


def mail(s: Summary, smtp: Smtp) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[govmon] {s.title}: {headline(s)}"
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(smtp.recipients)
    msg.set_content(plain_text(s))
    return msg


# --- delivery -------------------------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """The URL without user info, with every query value and every path segment of 16+ characters as ***."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    path = "/".join("***" if len(seg) >= 16 else seg for seg in parts.path.split("/"))
    query = "&".join(f"{k}=***" for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, query, ""))


def _secrets_of(url: str, *extra: str | None) -> list[str]:
    parts = urllib.parse.urlsplit(url)
    found = [v for _, v in urllib.parse.parse_qsl(parts.query)] + [s for s in parts.path.split("/") if len(s) >= 16]
    found += [parts.password or "", url, *(e or "" for e in extra)]
    return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)


def _hide(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _scrub(text: str, secrets: Sequence[str]) -> str:
    return " ".join(_hide(text, secrets).split())[:300]


class _Scrubber(logging.Filter):
    """Hides secrets in httpx's own log lines (it logs every request URL at INFO)."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(secret in text for secret in self.secrets):
            record.msg, record.args = _hide(text, self.secrets), ()
        return True


@contextlib.contextmanager
def _scrubbing(secrets: Sequence[str]) -> Iterator[None]:
    scrubber, loggers = _Scrubber(secrets), [logging.getLogger(name) for name in ("httpx", "httpcore")]
    for logger in loggers:
        logger.addFilter(scrubber)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(scrubber)


class _Retry(Exception):
    """A failure worth another try."""


class _Fail(Exception):
    """A failure another try will not fix."""


def dingtalk_url(url: str, secret: str, now_ms: int) -> str:
    """The robot URL with DingTalk's signature: timestamp and base64(HMAC-SHA256(secret, f"{ts}\\n{secret}"))."""
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}timestamp={now_ms}&sign={sign}"


def _post(client: httpx.Client, hook: Webhook, body: dict[str, Any]) -> None:
    content = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = hook.url
    if hook.secret and hook.style == "dingtalk":
        url = dingtalk_url(url, hook.secret, int(time.time() * 1000))
    elif hook.secret and hook.style == "json":
        headers["X-Govmon-Signature"] = "sha256=" + hmac.new(hook.secret.encode(), content, hashlib.sha256).hexdigest()
    try:
        response = client.post(url, content=content, headers=headers)
    except httpx.HTTPError as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None
    if response.status_code in RETRY_STATUS:
        raise _Retry(f"HTTP {response.status_code}")
    if not response.is_success:
        raise _Fail(f"HTTP {response.status_code}")
    if hook.style != "json":
        try:
            answer = response.json()
        except ValueError:
            raise _Fail("the robot's answer is not JSON") from None
        if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
            raise _Fail(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


def _send_mail(smtp: Smtp, msg: EmailMessage, timeout_s: float) -> None:
    try:
        if smtp.port == 465:  # implicit TLS, as mail providers offer on 465
            server: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, smtp.port, local_hostname=socket.gethostname(),
                                                    timeout=timeout_s,
                                                    context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, local_hostname=socket.gethostname(), timeout=timeout_s)
        with server:
            if smtp.starttls:
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            server.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise _Fail(f"authentication refused ({exc.smtp_code})") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise (_Retry if 400 <= exc.smtp_code < 500 else _Fail)(f"SMTP {exc.smtp_code} {text}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise _Fail(f"recipients refused: {', '.join(exc.recipients)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _Retry(f"{type(exc).__name__}: {exc}") from None


def _attempt(send: Callable[[], None], *, channel: str, target: str, secrets: Sequence[str], attempts: int,
             backoff_s: float, sleep: Callable[[float], None]) -> Delivery:
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            send()
        except _Fail as exc:
            error = _scrub(str(exc), secrets)
            log.warning("notification %s %s failed: %s (not retried)", channel, target, error)
            return Delivery(channel, target, False, attempt, error)
        except _Retry as exc:
            error = _scrub(str(exc), secrets)
            if attempt < attempts:
                log.info("notification %s %s: try %d failed (%s); retrying", channel, target, attempt, error)
                sleep(backoff_s * 2 ** (attempt - 1))
            continue
        except Exception as exc:  # noqa: BLE001 - a bug here must not cost the daemon
            error = _scrub(f"{type(exc).__name__}: {exc}", secrets)
            log.error("notification %s %s failed: %s", channel, target, error)
            return Delivery(channel, target, False, attempt, error)
        return Delivery(channel, target, True, attempt)
    log.warning("notification %s %s failed after %d tries: %s", channel, target, attempts, error)
    return Delivery(channel, target, False, attempts, error)


def send_all(s: Summary, notify: Notify, *, attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S,
             timeout_s: float = TIMEOUT_S, sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Deliver the summary to every configured channel, each with retries; never raises."""

    def deliver(send: Callable[[], None], channel: str, target: str, secrets: Sequence[str]) -> Delivery:
        return _attempt(send, channel=channel, target=target, secrets=secrets, attempts=attempts,
                        backoff_s=backoff_s, sleep=sleep)

    deliveries = []
    secrets = [x for hook in notify.webhook for x in _secrets_of(hook.url, hook.secret)]
    with _scrubbing(secrets), httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        for hook in notify.webhook:
            body = payload(s) if hook.style == "json" else robot_body(s, hook.style)
            deliveries.append(deliver(functools.partial(_post, client, hook, body), hook.style,
                                      redact_url(hook.url), _secrets_of(hook.url, hook.secret)))
    if notify.smtp is not None:
        smtp = notify.smtp
        target = f"smtp://{smtp.host}:{smtp.port} ({len(smtp.recipients)} recipients)"
        deliveries.append(deliver(functools.partial(_send_mail, smtp, mail(s, smtp), timeout_s), "smtp", target,
                                  [p for p in (smtp.password,) if p]))
    log.info("notifications for run %s: %d of %d delivered", s.run.id, sum(d.ok for d in deliveries),
             len(deliveries))
    return deliveries
