"""The demo's sites.toml: crawl settings tuned for loopback, the seed's
requirement pack, and one [[site]] per listed demo site.

Writes only keys documented in docs/architecture.md (monitor.config rejects
others). Pure text generation plus one file write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monitor import __version__
from monitor.demo.spec import DemoSite

DEMO_CRAWL: Mapping[str, Any] = {
    "max_pages": 200,
    "max_depth": 3,
    "timeout_s": 2,
    "retries": 1,
    "concurrency": 16,
    "per_host_concurrency": 4,
    "obey_robots": True,
    "user_agent": f"govmon/{__version__} (demo)",
    "max_response_bytes": 2 * 2**20,
    "allowed_networks": ["127.0.0.0/8", "::1/128"],
}
DNS_TIMEOUT_S = 1
DEMO_CHECKS: Mapping[str, Any] = {
    # On loopback an IPv6/IPv4 timing gap measures only the machine's load (a busy test machine);
    # the demo's verdicts must not depend on it.
    "ipv6_slow_floor_ms": 1500,
}

REQUIREMENTS: Sequence[Mapping[str, Any]] = (
    {"id": "enterprise_relief", "title": "助企纾困专题", "keywords": ["助企纾困", "纾困"],
     "applies_to": ["portal"], "levels": ["city", "county"], "max_age_days": 90, "basis": "一(一)3"},
    {"id": "negative_list", "title": "市场准入负面清单", "keywords": ["市场准入负面清单", "负面清单"],
     "applies_to": ["portal", "development_reform", "market_regulation", "commerce"],
     "max_age_days": 365, "basis": "一(一)4"},
    {"id": "fee_catalog", "title": "行政事业性收费目录清单", "keywords": ["收费目录清单", "行政事业性收费"],
     "applies_to": ["finance"], "max_age_days": 365, "basis": "一(一)5"},
    {"id": "effective_investment", "title": "扩大有效投资", "keywords": ["扩大有效投资", "有效投资"],
     "applies_to": ["development_reform"], "max_age_days": 90, "basis": "一(一)6"},
    {"id": "major_decisions", "title": "重大行政决策事项目录", "keywords": ["重大行政决策事项目录", "重大行政决策"],
     "applies_to": ["portal"], "levels": ["city"], "deadline": "03-31", "basis": "二(一)3"},
    # issue 14: requirements that are not columns (the truth: monitor/demo/dutycases.py)
    {"id": "tax_12366", "title": "12366纳税服务平台", "type": "link", "hosts": ["12366.chinatax.gov.test"],
     "keywords": ["12366"], "applies_to": ["portal", "finance"], "basis": "一(一)5"},
    {"id": "annual_report", "title": "政府信息公开工作年度报告", "type": "document",
     "keywords": ["{year}年政府信息公开工作年度报告"], "applies_to": ["portal", "development_reform",
     "market_regulation", "commerce", "finance", "business_environment", "other"], "deadline": "01-31",
     "for_year": "previous", "basis": "五(三)；政府信息公开条例第五十条"},
    {"id": "policy_interpretation", "title": "政策文件与解读关联", "type": "pairing",
     "keywords": ["政策文件", "规范性文件"], "applies_to": ["portal"], "min_ratio": 1.0, "basis": "二(一)2"},
)

# Who fixes what (整改责任): some demo sites name an owner and contact, the others show the defaults.
OWNERS: Mapping[str, Mapping[str, str]] = {
    "shuangta": {"owner": "双塔区政务服务和数据管理局", "contact": "网站运维组 0421-2600000"},
    "kazuo": {"owner": "喀左县人民政府办公室", "contact": "0421-4800000"},
    "longcheng": {"owner": "龙城区人民政府办公室"},
    "scjg": {"owner": "朝阳市市场监督管理局办公室", "contact": "zwgk@scjg.example.test"},
}


def toml_value(value: Any) -> str:
    """A TOML literal for str/int/float/bool or a list of them (JSON strings are valid TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _table(header: str, values: Mapping[str, Any]) -> list[str]:
    return [header, *(f"{key} = {toml_value(value)}" for key, value in values.items()), ""]


def render_config(sites: Sequence[DemoSite], site_url: Mapping[str, str], *, dns_port: int, storage_url: str,
                  report_dir: str, title: str | None = None, ca_bundle: str | None = None,
                  wordlists: Sequence[str] = ()) -> str:
    """The whole sites.toml text for the listed `sites` (`site_url` maps id → homepage URL); `ca_bundle`
    is the demo CA's certificate file, trusted for every fetch and TLS probe; `wordlists` the demo's
    word list files (monitor.demo.screencases.WORDLIST) for content:wording."""
    lines = ["# govmon demo configuration: the bundled demo web on loopback (written by govmon demo).",
             "# Every name resolves through the demo nameserver; nothing leaves 127.0.0.0/8 and ::1.", ""]
    lines += _table("[crawl]", {**DEMO_CRAWL, **({"ca_bundle": ca_bundle} if ca_bundle else {})})
    lines += _table("[dns]", {"nameservers": ["127.0.0.1"], "port": dns_port, "timeout_s": DNS_TIMEOUT_S})
    # Scratch files stay beside the demo's report folder, not in the caller's working directory.
    work_dir = str(Path(report_dir).parent / "work")
    lines += _table("[storage]", {"url": storage_url, "work_dir": work_dir})
    report: dict[str, Any] = {"dir": report_dir}
    if title is not None:
        report["title"] = title
    lines += _table("[report]", report)
    lines += _table("[checks]", DEMO_CHECKS)
    if wordlists:
        lines += _table("[screening]", {"wordlists": list(wordlists)})
    for requirement in REQUIREMENTS:
        lines += _table("[[requirement]]", requirement)
    for site in sites:
        if not site.listed:
            continue
        entry: dict[str, Any] = {"id": site.id, "name": site.name, "url": site_url[site.id],
                                 "kind": site.kind, "level": site.level}
        for key in ("timeout_s", "max_pages", "max_depth", "max_links_per_page"):
            if getattr(site, key) is not None:
                entry[key] = getattr(site, key)
        if site.extra_hosts:
            entry["extra_hosts"] = list(site.extra_hosts)
        if site.scope != "site":
            entry["scope"] = site.scope
        entry.update(OWNERS.get(site.id, {}))
        lines.append(f"# {site.case}")
        lines += _table("[[site]]", entry)
    return "\n".join(lines)


def write_config(path: str | Path, text: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
