"""Operator word lists ([screening] wordlists, monitor/wordbook.py): the format, and one-line config errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, loads
from monitor.wordbook import Term, WordlistError, read_wordlist
from spiders.crawl import screening_for

SITE = '[[site]]\nid = "s1"\nname = "站点"\nurl = "http://www.s1.gov.test/"\nkind = "portal"\nlevel = "city"\n'


def test_a_word_list_reads_terms_severities_and_right_forms(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("\ufeff# 注释\n\n敏感词\n另一 词 fail  # 空格忽略\n政府办公室=人民政府办公室 warn\nＶＩＰ通道\n",
                    encoding="utf-8")
    assert read_wordlist(str(path)) == (
        Term("敏感词", "", "warn", "words.txt"), Term("另一词", "", "fail", "words.txt"),
        Term("政府办公室", "人民政府办公室", "warn", "words.txt"), Term("VIP通道", "", "warn", "words.txt"))


@pytest.mark.parametrize(("text", "reason"), [
    ("好词\n坏词 fatal\n", "words.txt:2: unknown severity 'fatal' (use fail or warn)"),
    ("=右\n", "words.txt:1: no term before '='"),
    ("# 只有注释\n", "words.txt: holds no term"),
], ids=["unknown-severity", "no-term", "empty"])
def test_a_bad_word_list_names_its_line(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "words.txt").write_text(text, encoding="utf-8")
    with pytest.raises(WordlistError) as caught:
        read_wordlist(str(tmp_path / "words.txt"))
    assert str(caught.value) == str(tmp_path / reason)


def test_the_config_validates_each_word_list_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.txt").write_text("敏感词 fail\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_text("坏词 fatal\n", encoding="utf-8")
    config = loads(f'[screening]\nwordlists = ["good.txt"]\n\n{SITE}', "c.toml")
    assert config.screening.wordlists == ["good.txt"]
    assert [t.wrong for t in screening_for(config).terms][-1] == "敏感词"
    with pytest.raises(ConfigError) as caught:
        loads(f'[screening]\nwordlists = ["good.txt", "bad.txt", "missing.txt"]\n\n{SITE}', "c.toml")
    assert caught.value.errors == [
        "c.toml:2: screening.wordlists[1]: bad.txt:1: unknown severity 'fatal' (use fail or warn)",
        "c.toml:2: screening.wordlists[2]: missing.txt: cannot read: No such file or directory"]


def test_the_crawl_child_reads_relative_lists_from_the_parents_directory(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "words.txt").write_text("敏感词\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("GOVMON_CWD", str(tmp_path))
    assert read_wordlist("words.txt")[0].wrong == "敏感词"


def test_disabled_content_checks_switch_their_screening_off() -> None:
    config = loads(f'[checks]\ndisabled = ["content:privacy"]\n\n{SITE}', "c.toml")
    screening = screening_for(config)
    assert (screening.privacy, screening.wording) == (False, True)
