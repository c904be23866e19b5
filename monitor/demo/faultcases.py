"""Named faults of issue 11 on the demo web: CNAME loops and hostile TLS servers.

朝阳市大数据局 (sjj.chaoyang.gov.test) links, from its homepage, to a host whose
CNAME chain loops inside one answer (www.cyrsj.gov.test → cyrsj.cdn.test →
back), to one whose loop the resolver only sees across queries (each alias
points into another zone), to an HTTPS server that never answers the TLS
ClientHello and to one that answers it with an SSH banner. 朝阳市人力资源和社会
保障局 is listed with the looping name as its homepage. Each link is dead:
`dns` (cname_loop), `dns` (cname_loop), `timeout`, `tls`.

Pure data; the two TLS listeners are `tlsfaults.FaultListeners`.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.demo.build import SitePlan
from monitor.demo.columns import Column
from monitor.demo.spec import DnsSpec, LinkSpec, Ref
from monitor.outcomes import FetchKind

LOOP_HOST = "www.cyrsj.gov.test"            # loops in one answer of the demo nameserver
LOOP_TARGET = "cyrsj.cdn.test"
SPLIT_LOOP_HOST = "hrss.ln.gov.test"        # loops across two zones: one query per step
SPLIT_LOOP_TARGET = "hrss.ln.cdn.test"
TLS_STALL = "ca.ln.gov.test"                # accepts TCP, never answers the ClientHello
TLS_GARBAGE = "vpn.ln.gov.test"             # answers the ClientHello with an SSH banner
TLS_FAULTS: Mapping[str, str] = {TLS_STALL: "stall", TLS_GARBAGE: "garbage"}
FAULT_KINDS: Mapping[str, FetchKind] = {TLS_STALL: FetchKind.TIMEOUT, TLS_GARBAGE: FetchKind.TLS}
"""What an https fetch of each hostile listener's host ends with."""

FAULT_DNS: Mapping[str, DnsSpec] = {
    LOOP_TARGET: DnsSpec.alias(LOOP_HOST),
    SPLIT_LOOP_HOST: DnsSpec.alias(SPLIT_LOOP_TARGET, alone=True),
    SPLIT_LOOP_TARGET: DnsSpec.alias(SPLIT_LOOP_HOST, alone=True),
    TLS_STALL: DnsSpec.v4_only(),
    TLS_GARBAGE: DnsSpec.v4_only(),
}
"""Names of the fault cases that are not a site's host (the looping site's host is its own)."""


def _columns(lag: int) -> tuple[Column, ...]:
    zwgk = (Column("通知公告", "/zwgk/tzgg/", (lag + 1, lag + 8), home=3),
            Column("政策文件", "/zwgk/zcwj/", (lag + 6, lag + 30), titles="zcwj"))
    return (Column("工作动态", "/gzdt/", (lag, lag + 4, lag + 11), home=3, titles="xwdt"),
            Column("政务公开", "/zwgk/", children=zwgk))


def fault_case_plans() -> tuple[SitePlan, ...]:
    links = (LinkSpec("a", Ref(LOOP_HOST), "朝阳市人力资源和社会保障局"),
             LinkSpec("a", Ref(SPLIT_LOOP_HOST), "辽宁省人力资源和社会保障厅"),
             LinkSpec("a", Ref(TLS_STALL, "/", scheme="https"), "辽宁省数字证书认证中心"),
             LinkSpec("a", Ref(TLS_GARBAGE, "/", scheme="https"), "省政务外网VPN"))
    return (
        SitePlan("chaoyang-sjj", "sjj.chaoyang.gov.test", "朝阳市大数据局", "other", "city", "2113000207",
                 _columns(1),
                 case="issue 11: links to a CNAME loop (in one answer and across queries), an HTTPS server "
                      "that stalls the TLS handshake and one that answers with an SSH banner",
                 extras={"/": links}),
        SitePlan("chaoyang-rsj", LOOP_HOST, "朝阳市人力资源和社会保障局", "other", "city", "2113000208",
                 _columns(3), dns=DnsSpec.alias(LOOP_TARGET),
                 case="issue 11: the homepage host's CNAME chain loops (www.cyrsj.gov.test → cyrsj.cdn.test → "
                      "www.cyrsj.gov.test)"),
    )
