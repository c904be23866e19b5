"""footer — registers the footer check of checks.columns.

Not imported by checks/__init__.py yet: it needs `probe:footer`, which the
pipeline collects only once monitor.columnprobe.probe_footer is wired in; a
registered check whose input is never collected would be `error` on every
site. Wiring: add `from checks import footer` to checks/__init__.py in the
same change that makes the pipeline collect the probe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.base import Verdict, check
from checks.columns import FOOTER_DECLARATION, judge_footer
from checks.snapshot import SiteSnapshot


@check(**FOOTER_DECLARATION)
def footer(snap: SiteSnapshot, params: Mapping[str, Any]) -> Verdict:
    return judge_footer(snap)
