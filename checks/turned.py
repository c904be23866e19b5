"""What kind of site a fetched page is, when it is one a government page must never
link to: a parked domain (for sale, parking service), a gambling or an adult
site. The shipped term lists are the words such pages carry in their title and
text (never the words a government notice about them uses: 赌博, 色情 alone
say nothing). The link check (monitor.linkcheck) calls `classify` on each HTML
page it fetches and keeps the answer in the target's detail ("turned: gambling:
百家乐, 真人娱乐"); a page that says nothing of the kind is still parked when its
host's CNAME chain leads to a parking service (`parked_by_dns`) or its domain's
nameservers are a parking service's (`parked_by_ns`). links:turned reads the mark.

Pure: text in, a word out; no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["KINDS", "MARK", "PARKING_DNS", "TERMS", "classify", "parked_by_dns", "parked_by_ns", "parse"]

MARK = "turned: "
KINDS = ("parked", "gambling", "adult")
TERMS: Mapping[str, tuple[str, ...]] = {
    # One of these is enough: a parking page says little else.
    "parked": ("域名出售", "此域名出售", "该域名出售", "域名转让", "域名停放", "this domain is for sale",
               "this domain may be for sale", "buy this domain", "domain is parked", "parked free",
               "sedoparking", "parkingcrew", "bodis.com", "dan.com", "afternic"),
    # Two different ones, or one in the title.
    "gambling": ("百家乐", "真人娱乐", "娱乐城", "在线投注", "体育投注", "彩票投注", "老虎机", "注册送", "彩金",
                 "葡京", "威尼斯人", "太阳城", "博彩", "赌场", "棋牌游戏", "六合彩"),
    "adult": ("成人视频", "成人电影", "激情视频", "裸聊", "约炮", "av在线", "色情视频", "成人网站", "一本道",
              "无码"),
}
PARKING_DNS = ("sedoparking.com", "parkingcrew.net", "bodis.com", "above.com", "parklogic.com", "cashparking.com",
               "dan.com", "afternic.com", "hugedomains.com", "parkingpage.namecheap.com")
"""Domains of parking services: a host whose CNAME chain leads under one of them, or whose domain's nameservers
are under one of them (ns1.sedoparking.com, dns1.parkingcrew.net, ns1.bodis.com, ns1.dan.com), is a parked
domain, whatever its page says."""
_SPACES = re.compile(r"\s+")


def classify(title: str, text: str) -> str:
    """"kind: term, term" for a parked, gambling or adult page, else ""."""
    title_folded = _SPACES.sub(" ", title.lower())
    body = _SPACES.sub(" ", text.lower())
    for kind in KINDS:
        found = [term for term in TERMS[kind] if term in title_folded or term in body]
        in_title = any(term in title_folded for term in found)
        if found and (kind == "parked" or len(found) >= 2 or in_title):
            return f"{kind}: {', '.join(found[:5])}"
    return ""


def parked_by_dns(cname_chain: tuple[str, ...] | list[str]) -> str:
    """"parked: CNAME <name>" when a name of the host's CNAME chain is under a parking service, else ""."""
    folded = _parking_name(cname_chain)
    return f"parked: CNAME {folded}" if folded else ""


def parked_by_ns(nameservers: tuple[str, ...] | list[str]) -> str:
    """"parked: NS <name>" when a nameserver of the host's domain is under a parking service, else ""."""
    folded = _parking_name(sorted(nameservers))
    return f"parked: NS {folded}" if folded else ""


def _parking_name(names: tuple[str, ...] | list[str]) -> str:
    for name in names:
        folded = name.lower().rstrip(".")
        if any(folded == service or folded.endswith("." + service) for service in PARKING_DNS):
            return folded
    return ""


def parse(detail: str) -> tuple[str, str] | None:
    """(kind, terms) of a link target's detail the link check marked, else None."""
    if not detail.startswith(MARK):
        return None
    kind, _, terms = detail[len(MARK):].partition(": ")
    return (kind, terms) if kind in KINDS else None
