"""https: certificate findings, expiry, redirection and absence, on literal tls probes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from checks import PlannedCheck, evaluate
from checks import https  # noqa: F401  (registers the check until checks/__init__ imports it)
from checks.base import Result, Status
from tests import builders as b

HOME = "http://www.s1.gov.cn/"
SECURE = "https://www.s1.gov.cn/"


def tls(outcome: str = "ok", *, days: int = 200, tls_error: str | None = None, redirects: bool | None = True,
        **extra: Any) -> Any:
    detail: dict[str, Any] = {"host": "www.s1.gov.cn", "protocol": "TLSv1.3", "issuer": "CN=Test CA",
                              "names": ["www.s1.gov.cn"], "redirects_to_https": redirects,
                              "not_after": (datetime.now(UTC) + timedelta(days=days, hours=1)).isoformat(),
                              "http_final_url": SECURE if redirects else HOME, **extra}
    if tls_error:
        detail["tls_error"] = tls_error
    return b.probe("tls", outcome, url=SECURE, status=None, detail=detail)


def judge(*probes: Any, params: dict[str, Any] | None = None) -> Result:
    snap = b.snapshot(b.site(url=HOME), probes=probes, collected={"probe:tls"})
    [result] = evaluate(snap, [PlannedCheck("https", "https", "basis", params or {"cert_warn_days": 30})])
    return result


def test_valid_certificate_that_http_redirects_to_passes() -> None:
    result = judge(tls())
    assert (result.status, result.message_key) == (Status.PASS, "ok")
    assert result.metrics["days_left"] == 200 and result.metrics["tls_version"] == "TLSv1.3"
    assert result.metrics["redirects_to_https"] is True


@pytest.mark.parametrize(("tls_error", "key"), [
    ("expired", "expired"), ("self_signed", "self_signed"), ("untrusted", "untrusted"),
    ("hostname_mismatch", "mismatch"), ("handshake", "tls_other"),
])
def test_certificate_findings_fail_with_their_kind(tls_error: str, key: str) -> None:
    result = judge(tls("tls", tls_error=tls_error))
    assert (result.status, result.message_key, result.metrics["tls_error"]) == (Status.FAIL, key, tls_error)


def test_expiring_within_the_warning_window_warns() -> None:
    result = judge(tls(days=10))
    assert (result.status, result.message_key, result.metrics["days_left"]) == (Status.WARN, "expiring", 10)
    assert judge(tls(days=10), params={"cert_warn_days": 5}).status is Status.PASS


def test_http_not_redirecting_where_https_exists_warns() -> None:
    result = judge(tls(redirects=False))
    assert (result.status, result.message_key) == (Status.WARN, "no_redirect")


def test_unknown_redirection_does_not_warn() -> None:
    assert judge(tls(redirects=None)).status is Status.PASS


def test_no_https_at_all_warns() -> None:
    result = judge(b.probe("tls", "refused", url=SECURE, status=None, detail={"redirects_to_https": False}))
    assert (result.status, result.message_key) == (Status.WARN, "no_https")


def test_unresolvable_or_unprobed_is_an_error() -> None:
    assert judge(b.probe("tls", "dns", url=SECURE, status=None)).status is Status.ERROR
    assert judge().status is Status.ERROR
