"""Whether spiders.extract still says the same about every page: its output, saved and compared.

For work on extraction speed, which must not change what is extracted: save
the output of `extract` on a checkout before the change, compare on the one
after. The pages are extract_speed.py's (the bench web's pages, generated
list pages, every HTML page of the demo web) and the HTML fixtures of the
tests. No network. Run from the repository root:

    .venv/bin/python bench/extract_golden.py save /tmp/extract-before.json
    .venv/bin/python bench/extract_golden.py compare /tmp/extract-before.json

Exit status 1 when a page's output differs (the first differences are printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.extract_speed import demo_pages, government_page
from bench.web import page_html
from monitor.htmltext import decode_html
from spiders.extract import extract

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "html"


def pages(today: date) -> dict[str, tuple[str, str, str]]:
    """Name -> (text, URL, encoding) of every page compared."""
    found: dict[str, tuple[str, str, str]] = {}
    for number in range(5):
        found[f"bench/{number}"] = (page_html(number % 3, number, 2000, 3, today, 8080, 9),
                                    f"http://www.h{number % 3}.bench.test/p/{number}.html", "utf-8")
    listed = "http://www.zgcy.gov.cn/zwgk/tzgg/index.html"
    for label, size, items in (("typical", 30_000, 30), ("dense", 30_000, None), ("large", 600_000, None)):
        found[f"generated/{label}"] = (government_page(size, today, items), listed, "utf-8")
    for fixture in sorted(FIXTURES.glob("*.html")):
        text, codec = decode_html(fixture.read_bytes(), None)
        found[f"fixture/{fixture.name}"] = (text, "http://www.zgcy.gov.cn/zwgk/index.html", codec)
    for text, url, codec in demo_pages(today):
        found[f"demo/{url}"] = (text, url, codec)
    return found


def outputs(today: date) -> dict[str, object]:
    """Each page's extract output, without the screening's CPU time (a measurement, not what was read)."""
    return {name: json.loads(json.dumps({k: v for k, v in dataclasses.asdict(
        extract(text, url, today=today, encoding=codec)).items() if k != "screen_s"}, default=str, ensure_ascii=False))
            for name, (text, url, codec) in pages(today).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(),
                        help="the day the pages are dated against (both runs must use the same)")
    args = parser.parse_args()
    found = outputs(args.today)
    if args.action == "save":
        args.file.write_text(json.dumps({"today": args.today.isoformat(), "pages": found}, ensure_ascii=False))
        print(f"saved the output on {len(found)} pages to {args.file}")
        return 0
    saved = json.loads(args.file.read_text())
    if saved["today"] != args.today.isoformat():
        print(f"{args.file} was saved for {saved['today']}: pass --today {saved['today']}")
        return 2
    differ = [name for name in saved["pages"].keys() | found.keys() if saved["pages"].get(name) != found.get(name)]
    for name in sorted(differ)[:5]:
        before, after = saved["pages"].get(name) or {}, found.get(name) or {}
        fields = [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]
        print(f"{name}: {', '.join(sorted(fields)) or 'missing'} differ")
    print(f"{len(found) - len(differ)} of {len(found)} pages the same" + (f", {len(differ)} differ" if differ else ""))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
