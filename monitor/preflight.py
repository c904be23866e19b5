"""Before any network traffic: the places a run writes to must be usable.

`offline_problems(config)` is what `govmon validate` can tell without touching
anything (exit 2): the report dir, the work dir and a SQLite file's folder must be
folders this user may write in, or be creatable under one. `prepare(config)` makes
the report and work dirs at the start of a run and raises PreflightError (exit 3)
when it cannot, so a run never crawls for an hour to fail at its report. The work
dir holds scratch files only: a run's crawl spool segments, in a folder named by its
run id; a run removes its folder when done, and `clean_leftovers` those of runs that died
or kept a segment with unreadable lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Collection
from pathlib import Path

from monitor.config import Config

log = logging.getLogger(__name__)


class PreflightError(Exception):
    """A configured place cannot be used; one line per problem in `problems`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _dirs(config: Config) -> list[tuple[str, Path]]:
    found = [("report.dir", Path(config.report.dir)), ("storage.work_dir", Path(config.storage.work_dir))]
    database = sqlite_file(config.storage.url)
    if database is not None:
        found.append(("storage.url", database.parent))
    return found


def sqlite_file(url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url  # imported on use, as in monitor.config

    database = make_url(url).database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def _problem(path: Path) -> str | None:
    """Why `path` cannot be a folder we write in (None when it can be, or can be made)."""
    if path.exists():
        if not path.is_dir():
            return f"{path} exists and is not a folder"
        return None if os.access(path, os.W_OK | os.X_OK) else f"{path} is not writable"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot create {path}: {parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create {path}: {parent} is not writable"
    return None


def offline_problems(config: Config) -> list[str]:
    """One line per configured place that cannot be used, `file: key: reason`."""
    where = str(config.path) if config.path is not None else "config"
    return [f"{where}: {key}: {reason}" for key, path in _dirs(config) if (reason := _problem(path)) is not None]


def prepare(config: Config) -> None:
    """Create the report dir and the work dir (and a SQLite file's folder); PreflightError if any fails."""
    problems = offline_problems(config)
    for key, path in _dirs(config):
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".govmon-write-test-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            problems.append(f"{key}: cannot write in {path}: {exc.strerror or exc}")
    if problems:
        raise PreflightError(list(dict.fromkeys(problems)))


def spool_dir(config: Config, run_id: str) -> Path:
    """The scratch folder of one run."""
    return Path(config.storage.work_dir) / run_id


def clean_leftovers(config: Config, active: Collection[str]) -> list[str]:
    """Remove the scratch folders of runs that are not `active` (dead or finished); their names."""
    root = Path(config.storage.work_dir)
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in root.iterdir():
            if entry.is_dir() and entry.name not in active:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
    if removed:
        log.info("removed the scratch files of %d earlier runs from %s", len(removed), root)
    return removed
