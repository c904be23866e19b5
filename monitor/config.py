"""The configuration: config/sites.toml → a validated, frozen `Config`.

Owns the pydantic models, the known vocabularies (site kinds, levels, check ids)
and the cross-table rules; every problem in a file is reported at once as a
`ConfigError` whose lines monitor.config_errors locates and formats.
Must not touch the network or write anything; it reads one file.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, ValidationInfo, model_validator)
from pydantic_core import PydanticCustomError

from checks.scope import SCOPES, SiteScope
from monitor import __version__, wordbook
from monitor.config_errors import Loc, format_errors, reason, suggest, syntax_error
from monitor.config_scale import Scale, scale_problems
from monitor.config_score import Scoring, score_problems

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

KINDS: Mapping[str, str] = MappingProxyType({
    "portal": "政府门户",
    "development_reform": "发展改革",
    "market_regulation": "市场监管",
    "commerce": "商务",
    "finance": "财政",
    "business_environment": "营商环境",
    "other": "其他",
})
LEVELS: Mapping[str, str] = MappingProxyType({"city": "市级", "county": "县级"})
CHECK_IDS: tuple[str, ...] = ("availability", "links:dead", "freshness:homepage", "ipv6:dns",
                              "ipv6:homepage", "ipv6:links", "https", "footer", "content:privacy",
                              "content:wording", "columns:update", "columns:blank", "dates:impossible",
                              "links:hidden", "interaction:reply", "links:turned")
CHECK_FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(
    ["column", "link", "document", "pairing", *(c.split(":")[0] for c in CHECK_IDS if ":" in c)]))   # [score] keys may name a family
CRAWL_OVERRIDES: tuple[str, ...] = ("max_pages", "max_depth", "timeout_s", "retries",
                                    "obey_robots", "per_host_concurrency", "max_link_targets",
                                    "max_links_per_page")
DEFAULT_USER_AGENT = f"govmon/{__version__} (+https://github.com/govmon/govmon)"

log = logging.getLogger(__name__)
CRAWL_ONLY = "crawl_only"       # validation context key: see load()

class ConfigError(Exception):
    """An unusable config; `errors` holds one self-contained line per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


def _fail(why: str) -> PydanticCustomError:
    return PydanticCustomError("config", "{reason}", {"reason": why})


def _one_of(what: str, choices: Iterable[str]) -> BeforeValidator:
    allowed = tuple(choices)

    def check(value: Any) -> Any:
        if isinstance(value, str) and value not in allowed:
            raise _fail(f"unknown {what} {value!r}{suggest(value, allowed)}")
        return value

    return BeforeValidator(check)


def _non_empty(value: str) -> str:
    if not value.strip():
        raise _fail("must not be empty")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme:
        raise _fail(f"not an absolute URL: {value!r} (did you mean 'http://{value}'?)")
    if parts.scheme.lower() not in ("http", "https"):
        raise _fail(f"unsupported URL scheme {parts.scheme!r} in {value!r} (use http or https)")
    try:
        host, _ = parts.hostname, parts.port
    except ValueError as exc:
        raise _fail(f"invalid URL {value!r}: {exc}") from None
    if not host:
        raise _fail(f"invalid URL {value!r}: no host")
    if any(c.isspace() for c in value):
        raise _fail(f"invalid URL {value!r}: contains white space")
    return value


def _host(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9.\-]+|\[?[0-9A-Fa-f:.]+\]?", value):
        raise _fail(f"expected a host name such as 'www.example.gov.cn', got {value!r}")
    return value.lower().strip("[]")


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value)
    except ValueError as exc:
        raise _fail(f"invalid CIDR network: {exc}") from None
    return value


def _address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise _fail(f"expected an IP address, got {value!r}") from None
    return value


def _identifier(pattern: str, allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise _fail(f"invalid id {value!r}: use {allowed}")
        return value

    return AfterValidator(check)


Text = Annotated[str, AfterValidator(_non_empty)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Kind = Annotated[str, _one_of("kind", KINDS)]
Level = Annotated[Literal["city", "county"], _one_of("level", LEVELS)]
PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Crawl(_Model):
    max_pages: PositiveInt = 500
    max_depth: Annotated[int, Field(ge=0)] = 3
    timeout_s: PositiveFloat = 15.0
    retries: Annotated[int, Field(ge=0)] = 2
    concurrency: PositiveInt = 32
    per_host_concurrency: PositiveInt = 4
    obey_robots: bool = True
    user_agent: Text = DEFAULT_USER_AGENT
    max_response_bytes: PositiveInt = 10 * 1024 * 1024
    allowed_networks: list[Annotated[str, AfterValidator(_network)]] = []
    ca_bundle: Text | None = None
    max_link_targets: PositiveInt = 5000      # distinct link targets checked per site; the rest are over_limit
    max_links_per_page: PositiveInt = 1000    # distinct link targets checked per page

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The parsed allowed_networks; empty means every address is allowed."""
        return tuple(ipaddress.ip_network(n) for n in self.allowed_networks)


class Dns(_Model):
    nameservers: list[Annotated[str, AfterValidator(_address)]] = []
    port: Annotated[int, Field(ge=1, le=65535)] = 53
    timeout_s: PositiveFloat = 5.0


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger  # the daemon's parser; imported on use only

    fields = value.split()
    try:
        if len(fields) == 5:
            fields[4] = _crontab_weekdays(fields[4])
        CronTrigger.from_crontab(" ".join(fields), timezone=ZoneInfo("UTC"))
    except ValueError as exc:
        raise _fail(f"invalid cron expression {value!r}: {exc}") from None
    return " ".join(fields)


def _crontab_weekdays(field: str) -> str:
    """Spell weekday numbers as names: crontab counts 0 (and 7) as Sunday, APScheduler 3 as Monday."""
    if not any(c.isdigit() for c in field):
        return field
    days: set[int] = set()
    for item in field.split(","):
        match = re.fullmatch(r"(\*|(\w+)(?:-(\w+))?)(?:/(\d+))?", item)
        if not match or match[4] == "0":
            raise ValueError(f"invalid day of week {item!r}")
        first = 0 if match[1] == "*" else _weekday(match[2])
        last = _weekday(match[3]) if match[3] else 7 if match[1] == "*" or match[4] else first
        if first > last:
            raise ValueError(f"invalid day-of-week range {item!r}")
        days.update(d % 7 for d in range(first, last + 1, int(match[4] or 1)))
    monday_first = sorted(days, key=lambda d: (d + 6) % 7)
    return "*" if len(days) == 7 else ",".join(_WEEKDAYS[d] for d in monday_first)


def _weekday(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token.lower() in _WEEKDAYS:
        return _WEEKDAYS.index(token.lower())
    raise ValueError(f"invalid day of week {token!r} (use 0-7 or sun-sat)")


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise _fail(f"unknown time zone {value!r} (use an IANA name such as 'Asia/Shanghai')") from None
    return value


class Schedule(_Model):
    # validated and stored with weekday names ("0 2 * * 1" becomes "0 2 * * mon")
    cron: Annotated[str, AfterValidator(_cron)] = "0 2 * * mon"
    timezone: Annotated[str, AfterValidator(_timezone)] = "Asia/Shanghai"
    probe_interval_min: PositiveInt = 30

    def trigger(self) -> CronTrigger:
        """The daemon's trigger for `cron` in `timezone`."""
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))


def _database_url(value: str, info: ValidationInfo) -> str:
    if (info.context or {}).get(CRAWL_ONLY):    # the crawl child never opens the database: no SQLAlchemy there
        return value
    from sqlalchemy.engine import make_url  # imported on use (~25 MB a process)
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise _fail("cannot parse the database URL (expected sqlite:///PATH or "
                    "postgresql+psycopg://USER@HOST/DB)") from None
    if url.drivername not in ("sqlite", "postgresql", "postgresql+psycopg"):
        raise _fail(f"unsupported database {url.drivername!r} (use sqlite:/// or postgresql+psycopg://)")
    if url.drivername == "sqlite" and not url.database:
        raise _fail("a sqlite URL needs a file: sqlite:///var/govmon.db")
    return value


class Storage(_Model):
    url: Annotated[str, AfterValidator(_database_url), Field(repr=False)] = "sqlite:///var/govmon.db"
    work_dir: Text = "var/work"     # scratch files of runs (the crawl spool), removed after use
    keep_snapshots: PositiveInt = 4  # complete runs whose crawl snapshot is kept; older ones are pruned


class RectifyDays(_Model):
    """Days allowed to fix a finding, by severity; deadline = the day the finding was first seen + days."""

    veto: Annotated[int, Field(ge=0, le=366)] = 1
    major: Annotated[int, Field(ge=0, le=366)] = 7
    minor: Annotated[int, Field(ge=0, le=366)] = 15


class Report(_Model):
    dir: Text = "var/reports"
    language: Annotated[Literal["zh", "en"], _one_of("language", ("zh", "en"))] = "zh"
    title: Text = "朝阳市政府网站巡检报告"
    base_url: HttpUrl | None = None
    rectify_days: RectifyDays = RectifyDays()


class ColumnClass(_Model):
    """One update class of the national checklist's 栏目不更新 rule: a column whose title holds one of
    `keywords` must have an item within `max_age_days`; without `max_age_days` it is exempt (专题, 历史)."""

    id: Annotated[str, _identifier(r"[a-z0-9_]+", "lowercase letters, digits and '_'")]
    label: Text
    keywords: Annotated[list[Text], Field(min_length=1)]
    max_age_days: PositiveInt | None = None


DEFAULT_COLUMN_CLASSES: tuple[ColumnClass, ...] = (
    ColumnClass(id="exempt", label="专题、历史类（不考核更新）",
                keywords=["专题", "专栏", "历史", "回顾", "往期", "归档", "存档", "旧版"]),
    ColumnClass(id="personnel_plan", label="人事、规划计划类", max_age_days=365,
                keywords=["人事", "任免", "招录", "招聘", "招考", "规划", "计划"]),
    ColumnClass(id="notice_policy", label="通知公告、政策文件类", max_age_days=180,
                keywords=["通知", "公告", "公示", "政策", "文件", "法规"]),
    ColumnClass(id="news", label="动态、要闻类", max_age_days=14,
                keywords=["动态", "要闻", "新闻", "资讯", "快讯"]),
)


class Checks(_Model):
    disabled: list[str] = []
    homepage_max_age_days: PositiveInt = 14
    links_dead_minor_max: Annotated[int, Field(ge=0)] = 5
    availability_window_days: PositiveInt = 7
    availability_max_failure_rate: Share = 0.05
    availability_slow_s: PositiveFloat = 15.0
    ipv6_secondary_min: Share = 0.90
    ipv6_tertiary_min: Share = 0.85
    ipv6_probe_count: PositiveInt = 3
    ipv6_slow_floor_ms: PositiveFloat = 200.0
    cert_warn_days: Annotated[int, Field(ge=0)] = 30
    column_classes: list[ColumnClass] = list(DEFAULT_COLUMN_CLASSES)
    columns_other_max_age_days: PositiveInt = 365
    columns_late_veto: PositiveInt = 5
    columns_stale_veto: PositiveInt = 10
    columns_blank_veto: PositiveInt = 5
    dates_issued_tolerance_days: Annotated[int, Field(ge=0)] = 1
    interaction_window_days: PositiveInt = 365
    interaction_max_reply_days: PositiveInt = 90


def _wordlist(value: str) -> str:
    try:
        wordbook.read_wordlist(value)
    except wordbook.WordlistError as exc:
        raise _fail(str(exc)) from None
    return value


class Screening(_Model):
    """[screening]: what content:wording reads beyond the shipped dictionary (monitor/wordbook.py)."""

    wordlists: list[Annotated[Text, AfterValidator(_wordlist)]] = []


class Webhook(_Model):
    url: Annotated[HttpUrl, Field(repr=False)]
    style: Annotated[Literal["json", "dingtalk", "wecom"],
                     _one_of("webhook style", ("json", "dingtalk", "wecom"))] = "json"
    secret: Annotated[Text | None, Field(repr=False)] = None


class Smtp(_Model):
    host: Annotated[str, AfterValidator(_host)]
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    starttls: bool = False
    username: str | None = None
    password: Annotated[str | None, Field(repr=False)] = None
    sender: Text
    recipients: Annotated[list[Text], Field(min_length=1)]


class Notify(_Model):
    on: Annotated[Literal["always", "worse"], _one_of("value", ("always", "worse"))] = "worse"
    webhook: list[Webhook] = []
    smtp: Smtp | None = None

    @model_validator(mode="after")
    def _has_channel(self) -> Notify:
        if not self.webhook and self.smtp is None:
            raise _fail("[notify] needs at least one [[notify.webhook]] or a [notify.smtp]")
        return self


def _deadline(value: str) -> str:
    match = re.fullmatch(r"(\d\d)-(\d\d)", value)
    if not match:
        raise _fail(f'expected "MM-DD", got {value!r}')
    try:
        date(2000, int(match[1]), int(match[2]))  # a leap year, so 02-29 is allowed
    except ValueError as exc:
        raise _fail(f"invalid date {value!r}: {exc}") from None
    return value


REQUIREMENT_COMMON: tuple[str, ...] = ("id", "title", "type", "keywords", "applies_to", "levels", "basis")
REQUIREMENT_TYPES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "column": ("max_age_days", "stale_status", "deadline"),
    "link": ("hosts", "urls", "max_depth"),
    "document": ("deadline", "for_year"),
    "pairing": ("min_ratio", "pair_keywords"),
})
"""Each [[requirement]] type (the check family it plans: column:<id>, link:<id> …) and the keys it takes
beyond REQUIREMENT_COMMON; a key of another type is refused with the types that take it."""


class Requirement(_Model):
    id: Annotated[str, _identifier(r"[a-z0-9_]+", "lowercase letters, digits and '_'")]
    title: Text
    type: Annotated[Literal["column", "link", "document", "pairing"],
                    _one_of("requirement type", REQUIREMENT_TYPES)] = "column"
    keywords: list[Text] = []
    applies_to: Annotated[list[Kind], Field(min_length=1)]
    levels: list[Level] = []
    max_age_days: PositiveInt | None = None
    stale_status: Annotated[Literal["warn", "fail"], _one_of("status", ("warn", "fail"))] = "warn"
    deadline: Annotated[str, AfterValidator(_deadline)] | None = None
    hosts: list[Annotated[str, AfterValidator(_host)]] = []
    urls: list[HttpUrl] = []
    max_depth: Annotated[int, Field(ge=1)] = 2
    for_year: Annotated[Literal["previous", "current"], _one_of("for_year", ("previous", "current"))] = "previous"
    min_ratio: Annotated[float, Field(gt=0, le=1)] = 1.0
    pair_keywords: list[Text] = []
    basis: Text


def _requirement_problems(i: int, item: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """The keys a requirement's type takes, the ones it needs, and `{year}` in a document's keywords."""
    kind = item.get("type", "column")
    if kind not in REQUIREMENT_TYPES:
        return []   # the model says "unknown requirement type"
    problems: list[tuple[Loc, str]] = []
    for key in item:
        if key in REQUIREMENT_COMMON or key in REQUIREMENT_TYPES[kind]:
            continue
        owners = [t for t, keys in REQUIREMENT_TYPES.items() if key in keys]
        if owners:
            others = " or ".join(repr(t) for t in owners)
            problems.append((("requirement", i, key), f"a {kind!r} requirement takes no {key!r} (only type {others} does)"))
    keywords = item.get("keywords")
    if kind != "link" and not keywords:
        problems.append((("requirement", i, "keywords") if "keywords" in item else ("requirement", i),
                         f"a {kind!r} requirement needs keywords"))
    if kind == "link" and not (keywords or item.get("hosts") or item.get("urls")):
        problems.append((("requirement", i), "a 'link' requirement needs hosts, urls or keywords"))
    if kind == "document" and not item.get("deadline"):
        problems.append((("requirement", i), "a 'document' requirement needs a deadline (\"MM-DD\")"))
    if kind == "document":
        for j, word in enumerate(_as_list(keywords)):
            odd = [f for f in re.findall(r"\{([^{}]*)\}", str(word)) if f != "year"]
            if odd:
                problems.append((("requirement", i, "keywords", j),
                                 f"unknown placeholder {{{odd[0]}}} (only {{year}} is filled in)"))
    return problems


class Site(_Model):
    id: Annotated[str, _identifier(r"[a-z0-9_-]+", "lowercase letters, digits, '_' and '-'")]
    name: Text
    url: HttpUrl
    kind: Kind
    level: Level
    extra_hosts: list[Annotated[str, AfterValidator(_host)]] = []
    scope: Annotated[Literal["site", "host"], _one_of("scope", SCOPES)] = "site"
    disabled_checks: list[str] = []
    note: str | None = None
    owner: Text | None = None       # who must fix the site's findings (a unit or person); none = the site itself
    contact: Text | None = None     # how to reach them (phone, mail)
    max_pages: PositiveInt | None = None
    max_depth: Annotated[int, Field(ge=0)] | None = None
    timeout_s: PositiveFloat | None = None
    retries: Annotated[int, Field(ge=0)] | None = None
    obey_robots: bool | None = None
    per_host_concurrency: PositiveInt | None = None
    max_link_targets: PositiveInt | None = None
    max_links_per_page: PositiveInt | None = None

    @property
    def host(self) -> str:
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts the config names: the url's host, then extra_hosts (the site's scope, with the base
        domain's sub-domains, is `site_scope()`)."""
        return tuple(dict.fromkeys((self.host, *self.extra_hosts)))

    def site_scope(self) -> SiteScope:
        """The hosts the site is made of (checks.scope): what is crawled and judged as the site's."""
        return SiteScope.of(self.url, self.extra_hosts, self.scope)


def _cross_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Rules across tables, on TOML-shaped data (validated or raw, so it must tolerate junk)."""
    problems: list[tuple[Loc, str]] = []
    req_ids: list[str] = []
    for table, what in (("requirement", "requirement"), ("site", "site")):
        seen: dict[str, int] = {}
        for i, item in enumerate(_as_list(data.get(table))):
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            if ident in seen:
                problems.append(((table, i, "id"), f"duplicate {what} id {ident!r} (first at {table}[{seen[ident]}])"))
            else:
                seen[ident] = i
        if table == "requirement":
            req_ids = list(seen)
    requirements = [item for item in _as_list(data.get("requirement"))]
    for i, item in enumerate(requirements):
        if isinstance(item, dict):
            problems += _requirement_problems(i, item)
    typed = {item["id"]: item.get("type", "column") for item in requirements
             if isinstance(item, dict) and isinstance(item.get("id"), str)}
    known = [*CHECK_IDS, *(f"{typed.get(r, 'column')}:{r}" for r in req_ids)]
    problems += score_problems(data.get("score"), [*known, *CHECK_FAMILIES])
    problems += scale_problems(data)
    checks = data.get("checks")
    disabled = checks.get("disabled") if isinstance(checks, dict) else None
    lists: list[tuple[Loc, Any]] = [(("checks", "disabled"), disabled)]
    lists += [(("site", i, "disabled_checks"), s.get("disabled_checks"))
              for i, s in enumerate(_as_list(data.get("site"))) if isinstance(s, dict)]
    for loc, values in lists:
        for j, value in enumerate(_as_list(values)):
            if isinstance(value, str) and value not in known:
                problems.append(((*loc, j), f"unknown check id {value!r}{suggest(value, known)}"))
    return problems


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class Config(_Model):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    crawl: Crawl = Crawl()
    dns: Dns = Dns()
    schedule: Schedule = Schedule()
    storage: Storage = Storage()
    report: Report = Report()
    checks: Checks = Checks()
    screening: Screening = Screening()
    score: Scoring = Scoring()
    notify: Notify | None = None
    scale: Scale | None = None       # [scale]: crawl workers sharing a Redis queue (monitor/scale/)
    requirements: list[Requirement] = Field(default=[], alias="requirement")
    sites: list[Site] = Field(default=[], alias="site")
    path: Path | None = Field(default=None, exclude=True)    # the file read; not a TOML key
    digest: str = Field(default="", exclude=True)             # sha256 of the file's bytes; not a TOML key

    @model_validator(mode="after")
    def _cross_fields(self) -> Config:
        data = self.model_dump(by_alias=True)
        data["requirement"] = [r.model_dump(exclude_unset=True) for r in self.requirements]   # keys as written
        problems = _cross_problems(data)
        if problems:
            summary = "; ".join(f"{'.'.join(map(str, loc))}: {why}" for loc, why in problems)
            raise PydanticCustomError("config_cross", "{summary}", {"summary": summary, "problems": problems})
        return self

    def crawl_for(self, site: Site) -> Crawl:
        """[crawl] with the site's own overrides applied."""
        update = {k: getattr(site, k) for k in CRAWL_OVERRIDES if getattr(site, k) is not None}
        return self.crawl.model_copy(update=update)

    def site_by_id(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def site_for_url(self, url: str) -> Site | None:
        """The configured site with this host and path (scheme and trailing slash ignored)."""
        key = _url_key(url)
        return next((s for s in self.sites if _url_key(s.url) == key), None)

    def requirements_for(self, site: Site) -> list[Requirement]:
        """The requirements that apply to the site's kind and level."""
        return [r for r in self.requirements
                if site.kind in r.applies_to and (not r.levels or site.level in r.levels)]

    def disabled_for(self, site: Site) -> frozenset[str]:
        """Check ids switched off for the site: [checks].disabled plus its own."""
        return frozenset((*self.checks.disabled, *site.disabled_checks))


def _url_key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return (parts.netloc.lower(), parts.path.rstrip("/"))


def site_from_url(url: str, kind: str = "portal", level: str = "city") -> Site:
    """An ad-hoc site for `govmon check URL`; raises ConfigError on a bad url, kind or level."""
    host = urlsplit(url).hostname or "site"
    data = {"id": re.sub(r"[^a-z0-9_-]+", "-", host.lower()).strip("-") or "site",
            "name": host, "url": url, "kind": kind, "level": level}
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        errors = [f"{err['loc'][-1]}: {reason(dict(err), Site)}" for err in exc.errors()]
        raise ConfigError(errors) from None


def load(path: str | Path, *, crawl_only: bool = False) -> Config:
    """Read and validate a config file; raises ConfigError listing every problem. `crawl_only`: for a process
    that crawls and never opens the database (the crawl child), whose URL the parent has already checked."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM that Windows editors add
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError([f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                           "save the file as UTF-8"]) from None
    config = _parse(text, str(path), Path(path), hashlib.sha256(raw).hexdigest(), crawl_only)
    log.debug("config %s: %d sites, %d requirements, digest %s",
              path, len(config.sites), len(config.requirements), config.digest[:12])
    return config


def loads(text: str, path: str = "<string>") -> Config:
    """Validate config text; `path` only labels the error lines."""
    return _parse(text, path, None, hashlib.sha256(text.encode()).hexdigest())


def _parse(text: str, label: str, path: Path | None, digest: str, crawl_only: bool = False) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([syntax_error(str(exc), text, label)]) from None
    # field names that are not TOML keys: the file says [[site]], never `sites` or `path`
    errors = [{"type": "extra_forbidden", "loc": (key,), "input": data.pop(key)}
              for key in ("path", "digest", "requirements", "sites") if key in data]
    try:
        config = Config.model_validate({**data, "path": path, "digest": digest}, context={CRAWL_ONLY: crawl_only})
    except ValidationError as exc:
        errors += [dict(e) for e in exc.errors()]
    if not errors:
        return config
    if not any(e["type"] == "config_cross" for e in errors):
        errors.append({"type": "config_cross", "loc": (), "ctx": {"problems": _cross_problems(data)}})
    raise ConfigError(format_errors(errors, data, text, label, Config))
