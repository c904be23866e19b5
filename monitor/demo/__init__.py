"""The demo web: a small 朝阳-like set of government sites with known defects,
served on loopback (a DNS server and vhost HTTP servers on 127.0.0.1 and [::1])
with a ground truth derived from the same specs. See `DemoWeb`."""

from monitor.demo.web import DemoWeb

__all__ = ["DemoWeb"]
