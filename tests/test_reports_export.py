"""govmon.result/1: the document validates against the schema shipped in the repo."""

import json
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy.orm import Session

from monitor import store
from reports import export
from tests import builders as b
from tests.test_reports_render import stored_run

SCHEMA = json.loads(export.SCHEMA_FILE.read_text(encoding="utf-8"))


def test_document_validates_and_carries_summaries(sqlite_session: Session, tmp_path: Path) -> None:
    ev = b.evidence("http://x.test/", detail="http_5xx 500", text="首页")
    run_id = stored_run(sqlite_session, {"s": [b.result(status="fail", message_key="down_http",
                                                        message_params={"status": 500}, metrics={"status": 500},
                                                        evidence=[ev])]})
    path = export.write_json(store.load_results(sqlite_session, run_id), tmp_path / "out" / "r.json", language="zh")
    doc = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())
    [site] = doc["sites"]
    [check] = site["checks"]
    assert (check["id"], check["status"], check["summary"]) == ("availability", "fail", "首页返回 HTTP 500")
    assert check["evidence"] == [{"url": "http://x.test/", "detail": "http_5xx 500", "text": "首页"}]
    assert doc["run"]["id"] == run_id


def test_schema_rejects_an_unknown_status() -> None:
    bad = {"schema": "govmon.result/1", "run": {"id": "r", "kind": "manual", "started_at": "2026-01-01T00:00:00+00:00",
                                                "finished_at": None},
           "sites": [{"id": "s", "name": "n", "url": "u", "kind": "portal", "pages_crawled": 0,
                      "checks": [{"id": "availability", "status": "ok", "summary": "", "basis": "", "metrics": {},
                                  "evidence": []}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
