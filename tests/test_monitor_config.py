"""monitor.config: the shipped config, every documented key, and one exact line per bad case."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args, get_origin
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from monitor.config import (CHECK_IDS, KINDS, LEVELS, Config, ConfigError, Crawl, Site, load, loads,
                            site_from_url)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "config"
SHIPPED = ROOT / "config" / "sites.toml"
DOCS = ROOT / "docs" / "config.md"

SITE = """
[[site]]
id = "beipiao"
name = "北票市人民政府"
url = "http://www.beipiao.example/"
kind = "portal"
level = "county"
"""
REQUIREMENT = """
[[requirement]]
id = "negative_list"
title = "市场准入负面清单"
keywords = ["负面清单"]
applies_to = ["portal"]
basis = "一(一)4"
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        loads(text, "c.toml")
    return caught.value.errors


# --- the shipped config -----------------------------------------------------

def test_shipped_config_has_the_seed_sites_and_requirements() -> None:
    cfg = load(SHIPPED)
    assert len(cfg.sites) == 13
    assert {s.level for s in cfg.sites if s.kind == "portal"} == {"city", "county"}
    assert sum(s.kind == "portal" and s.level == "county" for s in cfg.sites) == 7
    assert {s.kind for s in cfg.sites if s.kind != "portal"} == {
        "development_reform", "market_regulation", "commerce", "finance", "business_environment"}
    assert [(r.id, r.type) for r in cfg.requirements] == [
        ("negative_list", "column"), ("enterprise_relief", "column"), ("fee_catalog", "column"),
        ("effective_investment", "column"), ("major_decisions", "document"), ("tax_12366", "link"),
        ("hotline_12345", "link"), ("annual_report", "document"), ("policy_interpretation", "pairing")]
    assert all(r.basis.strip() and (r.keywords or r.hosts) for r in cfg.requirements)
    major = next(r for r in cfg.requirements if r.id == "major_decisions")
    assert (major.applies_to, major.levels, major.deadline, major.for_year) == (["portal"], ["city"], "03-31", "current")
    tax = next(r for r in cfg.requirements if r.id == "tax_12366")
    assert (tax.hosts, tax.applies_to) == (["12366.chinatax.gov.cn"], ["portal", "finance"])
    report = next(r for r in cfg.requirements if r.id == "annual_report")
    assert (report.deadline, report.for_year, len(report.applies_to)) == ("01-31", "previous", 7)
    assert cfg.path == SHIPPED
    assert cfg.digest == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()


def test_shipped_config_marks_every_site_url_unconfirmed() -> None:
    url_lines = [line for line in SHIPPED.read_text(encoding="utf-8").splitlines()
                 if re.match(r"\s*url\s*=\s*\"https?://", line)]
    assert len(url_lines) == 13
    assert all(line.rstrip().endswith("# unconfirmed offline") for line in url_lines)


@pytest.mark.parametrize(("site_id", "expected"), [
    ("chaoyang", ["negative_list", "enterprise_relief", "major_decisions", "tax_12366", "hotline_12345",
                  "annual_report", "policy_interpretation"]),
    ("beipiao", ["negative_list", "enterprise_relief", "tax_12366", "hotline_12345", "annual_report",
                 "policy_interpretation"]),
    ("fgw", ["negative_list", "effective_investment", "annual_report"]),
    ("scjg", ["negative_list", "annual_report"]),
    ("czj", ["fee_catalog", "tax_12366", "annual_report"]),
    ("yshj", ["annual_report"]),
], ids=["city-portal-gets-the-city-only-catalogue", "county-portal-skips-it", "development-reform",
        "market-regulation", "finance-links-12366", "business-environment-only-the-annual-report"])
def test_shipped_requirements_apply_by_kind_and_level(site_id: str, expected: list[str]) -> None:
    cfg = load(SHIPPED)
    site = cfg.site_by_id(site_id)
    assert site is not None
    assert [r.id for r in cfg.requirements_for(site)] == expected


def test_loading_sends_no_network_traffic() -> None:
    # audit hooks cannot be removed, so this runs in its own interpreter
    code = ("import sys\nseen = []\n"
            "sys.addaudithook(lambda e, a: seen.append(e) if e.startswith('socket.') else None)\n"
            "from monitor.config import load\nload(sys.argv[1])\nprint(seen)\n")
    out = subprocess.run([sys.executable, "-c", code, str(SHIPPED)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# --- good files and helpers ---------------------------------------------------

def test_minimal_file_takes_every_default() -> None:
    cfg = load(DATA / "good_minimal.toml")
    assert cfg.crawl == Crawl()
    assert cfg.crawl.user_agent.startswith("govmon/")
    assert (cfg.crawl.max_response_bytes, cfg.dns.port, cfg.schedule.timezone) == (10 * 1024 * 1024, 53, "Asia/Shanghai")
    assert (cfg.storage.url, cfg.report.language, cfg.notify) == ("sqlite:///var/govmon.db", "zh", None)
    assert [s.id for s in cfg.sites] == ["shuangta", "swj"]


def test_crawl_for_merges_site_overrides_onto_crawl() -> None:
    cfg = load(DATA / "good_overrides.toml")
    big, plain = cfg.sites
    merged = cfg.crawl_for(big)
    assert (merged.max_pages, merged.timeout_s, merged.obey_robots) == (2000, 30.5, False)
    assert (merged.max_depth, merged.retries, merged.per_host_concurrency) == (2, 1, 2)
    assert merged.allowed_networks == ["127.0.0.0/8", "::1/128"]
    assert cfg.crawl_for(plain) == cfg.crawl
    assert cfg.crawl.max_pages == 100  # the shared [crawl] is untouched
    assert big.hosts == ("big.example", "xxgk.big.example")
    assert cfg.disabled_for(big) == {"ipv6:links"} and cfg.disabled_for(plain) == frozenset()
    assert [str(n) for n in cfg.crawl.networks()] == ["127.0.0.0/8", "::1/128"]


def test_site_lookup_by_id_and_url() -> None:
    cfg = load(DATA / "good_minimal.toml")
    assert cfg.site_by_id("swj") is cfg.sites[1]
    assert cfg.site_by_id("nope") is None
    assert cfg.site_for_url("http://WWW.shuangta.example") is cfg.sites[0]
    assert cfg.site_for_url("https://www.shuangta.example/other/") is None


def test_site_from_url_builds_an_adhoc_site_or_one_error_per_problem() -> None:
    site = site_from_url("https://www.lnst.example/index.html", kind="commerce", level="county")
    assert (site.id, site.kind, site.level, site.host) == ("www-lnst-example", "commerce", "county", "www.lnst.example")
    with pytest.raises(ConfigError) as caught:
        site_from_url("ftp://x.example/", kind="portl")
    assert caught.value.errors == [
        "url: unsupported URL scheme 'ftp' in 'ftp://x.example/' (use http or https)",
        "kind: unknown kind 'portl' (did you mean 'portal'?)"]


@pytest.mark.parametrize(("cron", "stored", "weekday"), [
    ("0 2 * * 1", "0 2 * * mon", 0),
    ("0 2 * * 0", "0 2 * * sun", 6),
    ("0 2 * * 7", "0 2 * * sun", 6),
    ("0 2 * * 5-7", "0 2 * * fri,sat,sun", None),
    ("0 2 * * 1-5", "0 2 * * mon,tue,wed,thu,fri", None),
    ("0 2 * * */2", "0 2 * * tue,thu,sat,sun", None),
    ("0 2 * * 0-6", "0 2 * * *", None),
    ("0 2 * * wed", "0 2 * * wed", 2),
], ids=["1-is-monday", "0-is-sunday", "7-is-sunday", "range-through-7", "weekdays",
        "step-from-sunday", "full-range-is-star", "names-unchanged"])
def test_cron_keeps_crontab_weekday_numbering(cron: str, stored: str, weekday: int | None) -> None:
    schedule = loads(f'[schedule]\ncron = "{cron}"\n').schedule
    assert schedule.cron == stored
    if weekday is not None:
        now = datetime.now(ZoneInfo("Asia/Shanghai"))
        fire = schedule.trigger().get_next_fire_time(None, now)
        assert fire is not None and fire.weekday() == weekday and fire - now <= timedelta(days=7)


def test_secrets_stay_out_of_repr() -> None:
    cfg = loads('[storage]\nurl = "postgresql+psycopg://govmon:PGSECRET@127.0.0.1/govmon"\n'
                '[notify]\n[[notify.webhook]]\nurl = "https://hook.example/?access_token=TOKENSECRET"\n'
                'secret = "SIGNSECRET"\n[notify.smtp]\nhost = "smtp.example"\npassword = "MAILSECRET"\n'
                'sender = "a@example"\nrecipients = ["b@example"]\n')
    assert cfg.notify is not None and cfg.notify.smtp is not None and cfg.notify.smtp.password == "MAILSECRET"
    assert not re.search("SECRET", repr(cfg))


def test_a_site_scope_follows_its_scope_key() -> None:
    cfg = loads(SITE.replace('level = "county"\n', 'level = "county"\nextra_hosts = ["zwfw.ln.example"]\n')
                + SITE.replace('"beipiao"', '"narrow"') + 'scope = "host"\n')
    wide, narrow = cfg.sites
    assert (wide.scope, narrow.scope) == ("site", "host")
    assert [wide.site_scope().covers(h) for h in ("xxgk.beipiao.example", "beipiao.example", "zwfw.ln.example",
                                                  "www.lingyuan.example")] == [True, True, True, False]
    assert [narrow.site_scope().covers(h) for h in ("www.beipiao.example", "xxgk.beipiao.example")] == [True, False]


def test_models_built_in_code_get_the_cross_field_rules() -> None:
    site = Site(id="a", name="A", url="http://a.example/", kind="portal", level="city")
    assert Config(site=[site]).sites == [site]
    with pytest.raises(ValidationError, match="duplicate site id 'a'"):
        Config(site=[site, site])


# --- bad files: exactly one line each -----------------------------------------

BAD_CASES: list[tuple[str, str, str]] = [
    ("toml-syntax-error", "[crawl]\nmax_pages = 500\nmax_depth 3\n",
     "c.toml:3: invalid TOML: Expected '=' after a key in a key/value pair (column 11)"),
    ("unknown-top-level-table", "[crawll]\nmax_pages = 1\n",
     "c.toml:1: crawll: unknown key 'crawll' (did you mean 'crawl'?)"),
    ("field-name-is-not-a-toml-key", '[[sites]]\nid = "x"\n',
     "c.toml:1: sites: unknown key 'sites' (did you mean 'site'?)"),
    ("unknown-key-in-crawl", "[crawl]\nmax_pages = 10\ntimout_s = 3\n",
     "c.toml:3: crawl.timout_s: unknown key 'timout_s' (did you mean 'timeout_s'?)"),
    ("unknown-key-in-site", SITE + 'extra_host = ["a.example"]\n',
     'c.toml:8: site[0] (id="beipiao").extra_host: unknown key \'extra_host\' (did you mean \'extra_hosts\'?)'),
    ("unknown-scope-with-suggestion", SITE + 'scope = "hosts"\n',
     'c.toml:8: site[0] (id="beipiao").scope: unknown scope \'hosts\' (did you mean \'host\'?)'),
    ("scope-is-not-a-crawl-key", '[crawl]\nscope = "host"\n',
     "c.toml:2: crawl.scope: unknown key 'scope' (expected one of: max_pages, max_depth, timeout_s, retries, "
     "concurrency, per_host_concurrency, obey_robots, user_agent, max_response_bytes, allowed_networks, ca_bundle, "
     "max_link_targets, max_links_per_page)"),
    ("scope-must-be-a-string", SITE + 'scope = true\n',
     'c.toml:8: site[0] (id="beipiao").scope: expected \'site\' or \'host\', got true'),
    ("wrong-type-string-for-number", '[crawl]\ntimeout_s = "abc"\n',
     "c.toml:2: crawl.timeout_s: expected a number, got 'abc'"),
    ("no-silent-conversion", '[dns]\nport = "53"\n',
     "c.toml:2: dns.port: expected an integer, got '53'"),
    ("unknown-site-kind-with-suggestion", SITE.replace('"portal"', '"portl"'),
     'c.toml:6: site[0] (id="beipiao").kind: unknown kind \'portl\' (did you mean \'portal\'?)'),
    ("ftp-url", SITE.replace("http://www.beipiao.example/", "ftp://www.beipiao.example/"),
     'c.toml:5: site[0] (id="beipiao").url: unsupported URL scheme \'ftp\' in \'ftp://www.beipiao.example/\' '
     "(use http or https)"),
    ("url-without-host", SITE.replace("http://www.beipiao.example/", "http:///index.html"),
     'c.toml:5: site[0] (id="beipiao").url: invalid URL \'http:///index.html\': no host'),
    ("missing-key-points-at-the-header", SITE.replace('level = "county"\n', ""),
     'c.toml:2: site[0] (id="beipiao").level: required key is missing'),
    ("duplicate-site-id", SITE + SITE,
     'c.toml:10: site[1] (id="beipiao").id: duplicate site id \'beipiao\' (first at site[0])'),
    ("applies-to-unknown-kind", REQUIREMENT.replace('["portal"]', '["portal", "comerce"]'),
     'c.toml:6: requirement[0] (id="negative_list").applies_to[1]: unknown kind \'comerce\' '
     "(did you mean 'commerce'?)"),
    ("applies-to-empty", REQUIREMENT.replace('["portal"]', "[]"),
     'c.toml:6: requirement[0] (id="negative_list").applies_to: must not be empty'),
    ("bad-cron", '[schedule]\ncron = "0 25 * * 1"\n',
     "c.toml:2: schedule.cron: invalid cron expression '0 25 * * 1': Error validating expression '25': "
     "the last value (25) is higher than the maximum value (23)"),
    ("cron-with-four-fields", '[schedule]\ncron = "0 2 * *"\n',
     "c.toml:2: schedule.cron: invalid cron expression '0 2 * *': Wrong number of fields; got 4, expected 5"),
    ("bad-timezone", '[schedule]\ntimezone = "Asia/Beijing"\n',
     "c.toml:2: schedule.timezone: unknown time zone 'Asia/Beijing' (use an IANA name such as 'Asia/Shanghai')"),
    ("deadline-02-30", REQUIREMENT + 'deadline = "02-30"\n',
     'c.toml:8: requirement[0] (id="negative_list").deadline: invalid date \'02-30\': day is out of range for month'),
    ("deadline-wrong-format", REQUIREMENT + 'deadline = "3/31"\n',
     'c.toml:8: requirement[0] (id="negative_list").deadline: expected "MM-DD", got \'3/31\''),
    ("unknown-disabled-check", '[checks]\ndisabled = ["https", "ipv6:link"]\n',
     "c.toml:2: checks.disabled[1]: unknown check id 'ipv6:link' (did you mean 'ipv6:links'?)"),
    ("site-disables-unknown-column", REQUIREMENT + SITE + 'disabled_checks = ["column:negative_lists"]\n',
     'c.toml:15: site[0] (id="beipiao").disabled_checks[0]: unknown check id \'column:negative_lists\' '
     "(did you mean 'column:negative_list'?)"),
    ("bad-cidr", '[crawl]\nallowed_networks = ["10.0.0.0/8", "10.0.0.1/8"]\n',
     "c.toml:2: crawl.allowed_networks[1]: invalid CIDR network: 10.0.0.1/8 has host bits set"),
    ("bad-nameserver", '[dns]\nnameservers = ["dns.example"]\n',
     "c.toml:2: dns.nameservers[0]: expected an IP address, got 'dns.example'"),
    ("unsupported-database", '[storage]\nurl = "mysql://db.example/govmon"\n',
     "c.toml:2: storage.url: unsupported database 'mysql' (use sqlite:/// or postgresql+psycopg://)"),
    ("notify-without-channel", '[notify]\non = "always"\n',
     "c.toml:1: notify: [notify] needs at least one [[notify.webhook]] or a [notify.smtp]"),
    ("webhook-style-suggestion", '[[notify.webhook]]\nurl = "https://hook.example/"\nstyle = "dingtlk"\n',
     "c.toml:3: notify.webhook[0].style: unknown webhook style 'dingtlk' (did you mean 'dingtalk'?)"),
    ("header-inside-a-multiline-string-is-not-counted",
     SITE + 'note = """\n[[site]]\nid = 1\n"""\n' + SITE.replace("beipiao", "lingyuan").replace('"county"', '"twon"'),
     'c.toml:18: site[1] (id="lingyuan").level: unknown level \'twon\' (expected one of: city, county)'),
    ("inline-table-keys-map-to-its-line", "crawl = { max_pages = 5, retries = -1 }\n",
     "c.toml:1: crawl.retries: must be >= 0, got -1"),
    ("rectify-days-negative", "[report.rectify_days]\nveto = -1\n",
     "c.toml:2: report.rectify_days.veto: must be >= 0, got -1"),
    ("rectify-days-unknown-severity", "[report.rectify_days]\nmajr = 5\n",
     "c.toml:2: report.rectify_days.majr: unknown key 'majr' (did you mean 'major'?)"),
    ("rectify-days-not-a-number", '[report]\nrectify_days = { minor = "15" }\n',
     "c.toml:2: report.rectify_days.minor: expected an integer, got '15'"),
    ("empty-owner", SITE + 'owner = ""\n',
     'c.toml:8: site[0] (id="beipiao").owner: must not be empty'),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_config_gives_exactly_one_line(text: str, expected: str) -> None:
    assert errors_of(text) == [expected]


def test_owner_contact_and_rectify_days_load() -> None:
    cfg = loads("[report.rectify_days]\nmajor = 5\n" + SITE + 'owner = "北票市政府办公室"\ncontact = "0421-1"\n', "c.toml")
    assert cfg.report.rectify_days.model_dump() == {"veto": 1, "major": 5, "minor": 15}
    assert (cfg.sites[0].owner, cfg.sites[0].contact) == ("北票市政府办公室", "0421-1")
    assert loads(SITE, "c.toml").sites[0].owner is None


def test_several_errors_are_all_reported_in_line_order() -> None:
    path = DATA / "bad_several.toml"
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.errors == [
        f"{path}:3: crawl.timout_s: unknown key 'timout_s' (did you mean 'timeout_s'?)",
        f"{path}:4: crawl.retries: must be >= 0, got -1",
        f"{path}:7: schedule.timezone: unknown time zone 'Asia/Shangai' (use an IANA name such as 'Asia/Shanghai')",
        f"{path}:10: checks.disabled[0]: unknown check id 'links:ded' (did you mean 'links:dead'?)",
        f"{path}:16: requirement[0] (id=\"fee_catalog\").applies_to[0]: unknown kind 'financ' (did you mean 'finance'?)",
        f"{path}:22: site[0] (id=\"czj\").url: unsupported URL scheme 'ftp' in 'ftp://czj.example/' (use http or https)",
        f"{path}:27: site[1] (id=\"czj\").id: duplicate site id 'czj' (first at site[0])",
    ]
    assert str(caught.value) == "\n".join(caught.value.errors)


@pytest.mark.parametrize(("name", "expected"), [
    ("bad_syntax.toml", "{path}:3: invalid TOML: Expected '=' after a key in a key/value pair (column 11)"),
    ("bad_encoding.toml", "{path}:2: not UTF-8 text (byte 0xb3); save the file as UTF-8"),
    ("no_such_file.toml", "{path}: cannot read: No such file or directory"),
], ids=["syntax-error-file", "gbk-file", "missing-file"])
def test_unreadable_files_give_one_line(name: str, expected: str) -> None:
    path = DATA / name
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert caught.value.errors == [expected.format(path=path)]


def test_a_bom_is_accepted_and_counted_in_the_digest(tmp_path: Path) -> None:
    raw = "\ufeff[report]\nlanguage = \"en\"\n".encode()
    (tmp_path / "bom.toml").write_bytes(raw)
    cfg = load(tmp_path / "bom.toml")
    assert cfg.report.language == "en" and cfg.digest == hashlib.sha256(raw).hexdigest()


# --- docs/config.md -------------------------------------------------------------

def toml_blocks(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def test_every_toml_example_in_the_docs_loads() -> None:
    blocks = toml_blocks(DOCS.read_text(encoding="utf-8"))
    assert len(blocks) >= 2
    configs = [loads(block, "docs/config.md") for block in blocks]
    assert any(c.sites and c.notify for c in configs)  # the complete example is among them


def nested_model(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """The model a field holds, and whether it is a list of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) is list:
        inner = nested_model(get_args(annotation)[0])
        return (inner[0], True) if inner else None
    for arg in get_args(annotation):
        inner = nested_model(arg)
        if inner:
            return inner
    return None


def table_keys(model: type[BaseModel], table: str = "") -> Iterator[tuple[str, str]]:
    """(section header, key) for every field of the model and the models below it."""
    for name, field in model.model_fields.items():
        key = field.alias or name
        yield (f"`{table}`" if table else "Top level"), key
        inner = nested_model(field.annotation)
        if inner:
            dotted = f"{table.strip('[]')}.{key}" if table else key
            yield from table_keys(inner[0], f"[[{dotted}]]" if inner[1] else f"[{dotted}]")


def undocumented(model: type[BaseModel], docs: str) -> list[tuple[str, str]]:
    sections = re.split(r"^(#+ .*)$", docs, flags=re.M)
    bodies = {sections[i]: sections[i + 1] for i in range(1, len(sections) - 1, 2)}
    missing = []
    for header, key in table_keys(model):
        body = next((b for h, b in bodies.items() if h.lstrip("# ").strip() == header), "")
        if f"`{key}`" not in body:
            missing.append((header, key))
    return missing


def test_docs_describe_every_key_of_every_table() -> None:
    assert undocumented(Config, DOCS.read_text(encoding="utf-8")) == []
    assert len(list(table_keys(Config))) > 70  # the walker reaches the nested tables


def test_docs_check_finds_an_undocumented_key() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    without_retries = re.sub(r"^\| `retries` \|.*\n", "", docs, count=1, flags=re.M)
    assert undocumented(Config, without_retries) == [("`[crawl]`", "retries")]

    class Extra(BaseModel):
        zz_not_documented: int = 0

    class Bigger(BaseModel):
        crawl: Crawl = Crawl()
        extra: list[Extra] = []

    assert undocumented(Bigger, docs) == [("Top level", "extra"), ("`[[extra]]`", "zz_not_documented")]


def test_docs_list_every_kind_level_and_check_id() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for name in (*KINDS, *KINDS.values(), *LEVELS, *CHECK_IDS):
        assert f"`{name}`" in docs or f"| {name} |" in docs, name


def test_the_error_example_in_the_docs_is_real_output() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    example = re.search(r"with four mistakes.*?```text\n(.*?)```", docs, flags=re.S)
    assert example is not None
    text = SHIPPED.read_text(encoding="utf-8")
    for old, new in [("timeout_s = 15.0", "timout_s = 15.0"), ('deadline = "03-31"', 'deadline = "02-30"'),
                     ('id = "lingyuan"', 'id = "beipiao"')]:
        text = text.replace(old, new, 1)
    text = re.sub(r'(id = "beipiao"\n(?:.*\n){2}kind = )"portal"', r'\1"portl"', text, count=1)
    # the line numbers follow config/sites.toml: update the example in docs/config.md when it moves
    assert errors_of(text) == [line.replace("config/sites.toml", "c.toml")
                               for line in example[1].splitlines()]


# --- requirement types (issue 14) ---------------------------------------------

def _typed(body: str) -> str:
    return f'[[requirement]]\nid = "r1"\ntitle = "要求"\napplies_to = ["portal"]\nbasis = "x"\n{body}\n' + SITE


@pytest.mark.parametrize(("body", "line"), [
    ('type = "documnet"\nkeywords = ["{year}年报"]',
     "c.toml:6: requirement[0] (id=\"r1\").type: unknown requirement type 'documnet' (did you mean 'document'?)"),
    ('type = "link"\nhosts = ["12366.chinatax.gov.cn"]\ndeadline = "01-31"',
     "c.toml:8: requirement[0] (id=\"r1\").deadline: a 'link' requirement takes no 'deadline' "
     "(only type 'column' or 'document' does)"),
    ('keywords = ["负面清单"]\nmin_ratio = 0.5',
     "c.toml:7: requirement[0] (id=\"r1\").min_ratio: a 'column' requirement takes no 'min_ratio' "
     "(only type 'pairing' does)"),
    ('type = "document"\nkeywords = ["{year}年报"]',
     "c.toml:1: requirement[0] (id=\"r1\"): a 'document' requirement needs a deadline (\"MM-DD\")"),
    ('type = "document"\nkeywords = ["{yr}年报"]\ndeadline = "01-31"',
     "c.toml:7: requirement[0] (id=\"r1\").keywords[0]: unknown placeholder {yr} (only {year} is filled in)"),
    ('type = "link"',
     "c.toml:1: requirement[0] (id=\"r1\"): a 'link' requirement needs hosts, urls or keywords"),
    ('type = "pairing"\nkeywords = ["政策文件"]\nmin_ratio = 1.5',
     "c.toml:8: requirement[0] (id=\"r1\").min_ratio: must be <= 1.0, got 1.5"),
], ids=["unknown-type", "key-of-another-type", "column-takes-no-pairing-key", "document-needs-a-deadline",
        "only-year-placeholder", "link-needs-something-to-match", "ratio-at-most-one"])
def test_a_requirement_type_takes_its_own_keys(body: str, line: str) -> None:
    assert errors_of(_typed(body)) == [line]


def test_each_requirement_type_loads_and_names_its_check_ids() -> None:
    text = "\n".join(_typed(body).replace('id = "r1"', f'id = "r{i}"').split("[[site]]")[0] for i, body in enumerate([
        'keywords = ["负面清单"]\ndeadline = "03-31"',
        'type = "link"\nhosts = ["12366.chinatax.gov.cn"]\nmax_depth = 1',
        'type = "document"\nkeywords = ["{year}年政府信息公开工作年度报告"]\ndeadline = "01-31"\nfor_year = "previous"',
        'type = "pairing"\nkeywords = ["政策文件"]\nmin_ratio = 0.8\npair_keywords = ["解读"]']))
    cfg = loads(text + SITE.replace('level = "county"', 'level = "county"\ndisabled_checks = ["link:r1", "pairing:r3"]'))
    assert [(r.id, r.type) for r in cfg.requirements] == [("r0", "column"), ("r1", "link"), ("r2", "document"),
                                                           ("r3", "pairing")]
    with pytest.raises(ConfigError) as caught:
        loads(text + SITE.replace('level = "county"', 'level = "county"\ndisabled_checks = ["column:r1"]'))
    assert "unknown check id 'column:r1' (did you mean 'column:r0'?)" in caught.value.errors[0]
