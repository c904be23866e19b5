"""Exports of stored results: the govmon.result/1 JSON document.

The schema is reports/schema/govmon.result-1.json; tests validate against it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from monitor.store import RunResults
from reports import i18n
from reports.render import write_atomic

SCHEMA = "govmon.result/1"
SCHEMA_FILE = Path(__file__).parent / "schema" / "govmon.result-1.json"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def result_document(rr: RunResults, *, language: str) -> dict[str, Any]:
    """The run as a govmon.result/1 document; summaries in `language`."""
    sites = []
    for site in rr.sites:
        site_checks = [{
            "id": r.check_id,
            "status": str(r.status),
            "severity": str(r.severity),
            "summary": i18n.message(r, language),
            "basis": r.basis,
            "message": {"key": r.message_key, "params": dict(r.message_params)},
            "metrics": dict(r.metrics),
            "evidence": [{k: v for k, v in asdict(e).items() if v is not None} for e in r.evidence],
        } for r in rr.results.get(site.id, ())]
        sites.append({"id": site.id, "name": site.name, "url": site.url, "kind": site.kind, "level": site.level,
                      "pages_crawled": rr.pages_crawled.get(site.id, 0), "checks": site_checks})
    run = rr.run
    return {"schema": SCHEMA,
            "run": {"id": run.id, "kind": run.kind, "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at), "code_version": run.code_version,
                    "config_digest": run.config_digest, "language": language},
            "sites": sites}


def write_json(rr: RunResults, path: Path, *, language: str) -> Path:
    path = Path(path)
    write_atomic(path, json.dumps(result_document(rr, language=language), ensure_ascii=False, indent=2, default=str))
    return path
