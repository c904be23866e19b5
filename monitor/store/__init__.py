"""Every read and write of govmon's data: the only package mapping rows to and
from the dataclasses of checks.snapshot and checks.base.

Every function takes a Session and is one transaction: it commits what it
writes and ends what it reads, so call it outside a transaction of your own
(finish_run commits results and the run's completion together). Never fetches,
never reads the clock (callers pass times), never renders. SQLAlchemy errors
leave as monitor.db.StorageError, with the session rolled back. JSON columns
give back JSON: a tuple stored in metrics comes back as a list.

By concern: `runs` (runs and sites), `snapshot` (what a run collected, read
back for the checks; `pagecodec` is a page's stored links and dates),
`results` (check results and their history), `daemon` (notifications, the
job store). The crawl's writer, monitor.ingest, sits beside the package.
"""

from monitor.store.daemon import NotificationInfo, list_notifications, record_notification, scheduled_jobs
from monitor.store.results import (PastResult, ResultHistory, RunResults, finish_run, load_results,
                                   result_history, save_site_results, site_judged, stored_results)
from monitor.store.runs import (HISTORY_KINDS, RunInfo, RunKind, RunStatus, discard_run, fail_run, get_run,
                                heartbeat, latest_complete_run, list_runs, new_run_id, pid_alive,
                                previous_complete_run, recover_stale_runs, run_of_process, start_run, sync_sites)
from monitor.store.snapshot import (Probed, clear_crawl, clear_probes, crawl_of, load_probes, load_snapshot,
                                    save_dns, save_link_targets, save_probes, targets_to_check)

__all__ = [
    "HISTORY_KINDS", "NotificationInfo", "PastResult", "Probed", "ResultHistory", "RunInfo", "RunKind", "RunResults",
    "RunStatus", "clear_crawl", "clear_probes", "crawl_of", "discard_run", "fail_run", "finish_run", "get_run",
    "heartbeat", "latest_complete_run", "list_notifications", "list_runs", "load_probes", "load_results",
    "load_snapshot", "new_run_id", "pid_alive", "previous_complete_run", "record_notification", "recover_stale_runs",
    "result_history", "run_of_process", "save_dns", "save_link_targets", "save_probes", "save_site_results",
    "scheduled_jobs", "site_judged", "start_run", "stored_results", "sync_sites", "targets_to_check",
]
