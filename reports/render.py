"""The one Jinja environment and atomic writing of the report set.

Reads only stored results (never the network). Every file is written to a
temporary name and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from sqlalchemy.orm import Session

from monitor import store
from reports import i18n, views

log = logging.getLogger(__name__)

MAX_TEXT = 300


def link_url(url: str | None) -> str | None:
    """The URL if it is safe to render as a link (http/https only), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in {"http", "https"} else None


def clip(text: str | None, limit: int = MAX_TEXT) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["link_url"] = link_url
    env.filters["clip"] = clip
    env.globals["t"] = lambda key: i18n.ui(key, language)
    env.globals["status_word"] = lambda s: i18n.status_word(s, language)
    env.globals["marks"] = i18n.STATUS_MARKS
    env.globals["status_order"] = i18n.STATUS_ORDER
    return env


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(env: jinja2.Environment, template: str, view: Any) -> str:
    return env.get_template(template).render(v=view)


def write_report_set(session: Session, report: Any, *, run_id: str | None = None, timezone: str) -> Path:
    """Render the index and one run (default: the latest complete one); return the run's page.

    `report` is the config's [report] section (dir, language, title).
    """
    out = Path(report.dir)
    language, title = report.language, report.title
    env = environment(language)
    run = store.get_run(session, run_id) if run_id else store.latest_complete_run(session)
    if run is None or run.status != "complete":
        raise LookupError(f"no complete run {run_id or ''}".strip())
    rr = store.load_results(session, run.id)
    run_dir = out / "runs" / run.id
    for site in rr.sites:
        write_atomic(run_dir / f"{site.id}.html",
                     render(env, "site.html", views.site_view(rr, site.id, title, language, timezone)))
    write_atomic(run_dir / "index.html", render(env, "run.html", views.run_view(rr, title, language, timezone)))
    write_index(session, env, out, title, language, timezone)
    return run_dir / "index.html"


def write_index(session: Session, env: jinja2.Environment, out: Path, title: str, language: str, tz: str) -> Path:
    runs = [store.load_results(session, r.id) for r in store.list_runs(session)]
    path = out / "index.html"
    write_atomic(path, render(env, "index.html", views.index_view(runs, title, language, tz)))
    return path
