"""Screening of page text (spiders/screen.py): personal numbers masked, look-alikes left alone, wording in one
pass; and how extract() carries the findings without a whole number anywhere in its result."""

from __future__ import annotations

import pickle
import re
from datetime import date

import pytest

from monitor.demo.screencases import id_number, luhn
from monitor.wordbook import SHIPPED, Term, fold
from spiders.extract import extract
from spiders.screen import _URL, DEFAULT, Screening, mask, screen

TODAY = date(2026, 12, 7)
ID = id_number("21130219880315421")
CARD = luhn("622200000000000")


def found(text: str, screening: Screening = DEFAULT) -> list[tuple[str, str]]:
    return [(f.kind, f.masked) for f in screen(text, screening, TODAY).findings]


@pytest.mark.parametrize(("text", "expected"), [
    (f"身份证号：{ID}", [("id_card", mask(ID))]),
    (f"身份证号：{ID.translate({ord(c): ord(c) + 0xFEE0 for c in '0123456789X'})}", [("id_card", mask(ID))]),
    ("身份证号码：211302800303004", [("id_card", "2113*******3004")]),
    ("电话 13800000001", [("mobile", "138****0001")]),
    ("电话 +86 159 0000 0002", [("mobile", "159****0002")]),
    ("电话 0086-186-0000-0003", [("mobile", "186****0003")]),
    ("手机：13800000001、13800000001", [("mobile", "138****0001")]),
    (f"银行卡号：{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}", [("bank_card", mask(CARD))]),
    (f"{CARD}（开户银行：朝阳市农村信用社）", [("bank_card", mask(CARD))]),
    (f"证件编号：{ID}", [("id_card", mask(ID))]),
], ids=["id-card", "id-card-full-width", "old-15-digit-id-beside-its-word", "mobile-plain", "mobile-plus86-spaces",
        "mobile-0086-dashes", "repeats-are-one-finding", "bank-card-grouped-after-its-word",
        "bank-card-before-its-word", "a-personal-word-beats-a-serial-label"])
def test_personal_numbers_are_found_masked(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    f"身份证号：{ID[:17]}{'1' if ID[17] != '1' else '2'}",
    f"身份证号：{id_number('21130219901332005')}",
    f"身份证号：{id_number('99130219880315421')}",
    f"身份证号：{id_number('21130230000101001')}",
    f"证书编号：{ID}",
    "订单号：13800000009",
    "文号：朝民发〔2024〕13800000009号",
    "流水号 2024120713800000009",
    "详见 http://www.example.gov.test/bmcx/13800000010.html 。",
    "查询地址 bmcx/q.jsp?sjh=13800000011&t=1",
    "热线 12345，电话 0421-2612345，(0421)2612346，400-600-1234",
    f"统计代码 {CARD} 为内部口径，与个人无关。",
    f"卡号：{CARD[:-1]}{(int(CARD[-1]) + 1) % 10}",
    "档案 211302800404007",
    "号段 14000000012、12000000013、10086",
], ids=["wrong-check-digit", "impossible-birth-date", "unknown-province", "born-after-today", "labelled-serial",
        "order-number", "document-number", "flow-number", "number-in-a-url", "number-in-a-query-written-without-scheme",
        "hotlines-and-landlines", "luhn-valid-without-bank-word", "luhn-invalid-after-card-word",
        "old-id-without-its-word", "unassigned-ranges"])
def test_look_alikes_are_not_findings(text: str) -> None:
    assert found(text) == []


def test_context_never_shows_a_second_number_whole() -> None:
    finding = screen(f"张某某 {ID} 13800000001 李某某", DEFAULT, TODAY).findings[0]
    assert finding.masked in finding.context and "13800000001" not in finding.context
    assert "0000001" not in finding.context and ID[:10] not in finding.context


def test_redact_masks_the_page_numbers_in_other_texts() -> None:
    screened = screen(f"联系人 张某某 138-0000-0001，身份证 {ID}", DEFAULT, TODAY)
    assert screened.redact("张某某 +86 138 0000 0001") == "张某某 +86 138****0001"
    assert screened.redact(f"证件 {ID}") == f"证件 {mask(ID)}"
    assert screened.redact("2024-12-07 13900000002") == "2024-12-07 13900000002"   # not this page's number


@pytest.mark.parametrize(("text", "expected"), [
    ("根据国务院办工厅通知", [("国务院办工厅", "国务院办公厅", "fail")]),
    ("根据国务院 办工厅通知", [("国务院办工厅", "国务院办公厅", "fail")]),
    ("现将工作按排如下", [("按排", "安排", "warn")]),
    ("按排名先后；既使用线上渠道", []),
    ("国务院办公厅、中华人民共和国", []),
], ids=["severe-misspelling", "white-space-inside", "common-misspelling", "allowed-phrases", "right-forms"])
def test_wording_in_one_pass(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(f.masked, f.right, f.severity) for f in screen(text, DEFAULT, TODAY).findings] == expected


def test_a_right_form_containing_a_wrong_form_shields_it() -> None:
    terms = (Term("政府办公室", "人民政府办公室", "fail", "words.txt"), Term("VIP通道", "", "warn", "words.txt"))
    screening = Screening(terms)
    assert found("报送朝阳市人民政府办公室", screening) == []
    assert found("报送朝阳市政府办公室", screening) == [("wording", "政府办公室")]
    assert found("开设ＶＩＰ通道", screening) == [("wording", "VIP通道")]   # full width folded


def test_every_shipped_entry_has_a_source_and_a_severity() -> None:
    assert SHIPPED and all(t.source and t.severity in ("fail", "warn") and t.wrong != t.right for t in SHIPPED)
    assert {t.severity for t in SHIPPED} == {"fail", "warn"}


def test_switches_and_pickling() -> None:
    off = Screening(privacy=False, wording=False)
    assert found("13800000001 国务院办工厅", off) == []
    assert found("13800000001 国务院办工厅", Screening(privacy=False)) == [("wording", "国务院办工厅")]
    screen("国务院办工厅", DEFAULT, TODAY)                     # its automaton is built now
    copy = pickle.loads(pickle.dumps(DEFAULT))                # a worker process can be handed it
    assert copy == DEFAULT and "automaton" not in copy.__dict__
    assert found("国务院办工厅", copy) == [("wording", "国务院办工厅")]


def test_extract_screens_visible_text_only_and_stores_no_whole_number() -> None:
    html = ("<html><head><title>公示 13800000001</title><style>/* 国务院办工厅 */</style></head><body>"
            f'<div class="main"><p>联系人 <a href="/x">张某某 138-0000-0001</a></p><p>身份证号：{ID}</p>'
            '<script>var a = "13900000002 国务院办工厅";</script><p title="13900000003 中华人名共和国">正文</p>'
            '<!-- 13900000004 --><a href="/q?sjh=13900000005">查询</a></div></body></html>')
    extracted = extract(html, "http://a.test/", today=TODAY)
    assert sorted((f.kind, f.masked, f.count) for f in extracted.findings) == [
        ("id_card", mask(ID), 1), ("mobile", "138****0001", 2)]
    assert extracted.title == "公示 138****0001"
    assert [link.text for link in extracted.links if link.url == "http://a.test/x"] == ["张某某 138****0001"]
    assert extracted.screen_s >= 0
    assert "13800000001" not in repr(extracted) and ID not in repr(extracted)


def test_text_nodes_are_read_apart() -> None:
    html = "<html><body><table><tr><td>1</td><td>13800000001</td><td>2</td></tr></table></body></html>"
    assert [(f.kind, f.masked) for f in extract(html, "http://a.test/", today=TODAY).findings] == [
        ("mobile", "138****0001")]


@pytest.mark.parametrize("text", [
    "", "朝阳市人民政府", "\u3000\u3000为贯彻落实，\u3000现通知如下", "电话：１３８００００００01 ＋86－ＡＢｃ",
    "ＸＸ\u3000ｘ１２\u3000３", "\uff0b\uff0d\uff10\uff19\uff21\uff3a\uff41\uff5a\uff1a\uff09",
], ids=["empty", "nothing-wide", "ideographic-spaces", "digits-letters-signs", "repeats", "each-range-edge"])
def test_fold_makes_full_width_digits_letters_signs_and_the_ideographic_space_half_width(text: str) -> None:
    wide = {*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B), 0xFF0B, 0xFF0D}
    expected = "".join(" " if c == "\u3000" else chr(ord(c) - 0xFEE0) if ord(c) in wide else c for c in text)
    assert fold(text) == expected


@pytest.mark.parametrize("text", [
    "见 http://www.x.gov.cn/a?id=13800000001 。", "HTTPS://X.GOV.CN/13800000001", "WwW.x.cn/1 和 wWw.y.cn",
    "hTtp:/x httpſ://a.cn/ſ\u212a\u0130\u0131 end", "http:// https://", "无网址的文字 13800000001",
], ids=["lower", "upper", "mixed-www", "folded-letters", "bare-schemes", "none"])
def test_the_url_pattern_is_the_case_blind_one(text: str) -> None:
    case_blind = re.compile(r"(?:https?://|www\.)[!-~]+", re.IGNORECASE)
    assert [m.span() for m in _URL.finditer(text)] == [m.span() for m in case_blind.finditer(text)]


def test_a_mobile_number_inside_a_url_written_in_upper_case_is_no_finding() -> None:
    assert found("网址：HTTP://WWW.X.GOV.CN/13812345678 电话 13912345678") == [("mobile", "139****5678")]
