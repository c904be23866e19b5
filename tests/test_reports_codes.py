"""reports.codes: coded values shown in words, the raw text kept apart."""

import pytest

from checks import spec_for
from reports import codes


@pytest.mark.parametrize("code, zh, en", [
    ("http_4xx 404", "404 未找到", "404 not found"),
    ("http_4xx 410", "410 已删除", "410 gone"),
    ("http_4xx 418", "页面不存在或拒绝访问（4xx）（HTTP 418）", "client error (4xx) (HTTP 418)"),
    ("soft_404", "页面显示“不存在”（软 404）", "page says it does not exist (soft 404)"),
    ("dns", "域名无法解析", "host name does not resolve"),
    ("no_answer", "无此类记录", "no record of this type"),
    ("hostname_mismatch", "证书与域名不符", "certificate does not match the host"),
    ("no_such_code", "no_such_code", "no_such_code"),
], ids=["status-with-a-phrase", "gone", "status-without-a-phrase", "soft-404", "fetch-kind", "dns-kind",
        "tls-error", "unknown-code-as-stored"])
def test_outcome_codes_read_as_words(code: str, zh: str, en: str) -> None:
    assert (codes.outcome_words(code, "zh"), codes.outcome_words(code, "en")) == (zh, en)


def test_a_code_is_read_in_its_own_vocabulary_first() -> None:
    assert codes.coded_words("dns", "refused", "zh", None)[0] == "域名服务器拒绝查询"
    assert codes.coded_words("fetch", "refused", "zh", None)[0] == "连接被拒绝"


@pytest.mark.parametrize("raw, words", [
    ("ConnectionRefusedError: [Errno 111] Connection refused", "连接被拒绝"),
    ("ConnectError: [Errno 111] Connect call failed ('127.0.0.2', 80)", "连接被拒绝"),
    ("A www.x.gov.cn: nxdomain the name does not exist", "域名不存在"),
    ("cname_loop: CNAME loop: a.x → b.x → a.x", "CNAME 记录形成循环"),
    ("handshake: TLS handshake stalled: no answer to the ClientHello within 2 s", "TLS 握手无响应"),
    ("not a TLS server: [SSL: WRONG_VERSION_NUMBER] wrong version number", "该端口不是 TLS 服务"),
    ("ReadTimeout: timed out", "访问超时"),
    ("http://x/ was already visited", "重定向循环"),
    ("RuntimeError: something odd", "技术故障（详见原始记录）"),
], ids=["refused", "refused-httpx", "nxdomain", "cname-loop", "stalled-handshake", "not-tls", "timeout",
        "redirect-loop", "unknown-exception"])
def test_raw_reasons_read_as_words_and_keep_the_raw_text(raw: str, words: str) -> None:
    assert codes.reason(raw, "zh") == (words, raw)


@pytest.mark.parametrize("raw, words", [
    ("refused", "连接被拒绝"), ("http_5xx 503", "503 服务不可用"), ("HTTP 200", ""),
    ("over_limit 3, robots 2", "超出检查上限（未请求） 3 个，robots.txt 禁止访问（未请求） 2 个"),
], ids=["a-code", "a-code-with-status", "a-status-the-kind-names", "counts-by-kind"])
def test_reasons_that_are_codes_need_no_raw_text(raw: str, words: str) -> None:
    assert codes.reason(raw, "zh") == (words, "")


def test_counts_by_kind_read_as_a_sentence() -> None:
    assert codes.counts_words({"http_4xx": 3, "refused": 1}, "zh") == "页面不存在或拒绝访问（4xx） 3 个，连接被拒绝 1 个"
    assert codes.counts_words({"dns": 2}, "en") == "host name does not resolve: 2"
    assert codes.counts_words({}, "zh") == "—"


def test_words_phrases_inputs_and_booleans() -> None:
    spec = spec_for("ipv6:homepage")
    assert codes.coded_words("phrases", "status 200 ≠ 404; final URL a ≠ b", "zh", spec)[0] == \
        "状态码 200 ≠ 404；最终地址 a ≠ b"
    assert codes.coded_words("words", "headline, not a column", "zh", spec_for("column:x"))[0] == "是新闻标题，不是栏目"
    assert codes.coded_words("inputs", "probe:links, crawl", "zh", None)[0] == "链接检查、网站抓取"
    assert codes.coded_words("inputs", "probe:column http://x/", "en", None)[0] == "the column probe http://x/"
    assert codes.coded_words("bool", False, "zh", None)[0] == "否"
