"""The `govmon` command line: parses arguments, wires the pipeline, maps outcomes to exit codes.

Exit codes (documented in the README): 0 all pass, 1 findings (any warn, fail
or undecided result), 2 usage or config error, 3 internal error or failed run,
130 interrupted. No traceback reaches the user; -v shows one in the log.
"""

from __future__ import annotations

import logging
import shlex
import signal
import sys
import time
from collections.abc import Callable, Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click

from monitor import __version__, supervisor
from monitor.db import StorageError
from monitor.locks import Busy
from monitor.preflight import PreflightError
from monitor.config import KINDS, LEVELS, Config, ConfigError, Site, load, site_from_url

log = logging.getLogger("govmon")

DEFAULT_CONFIG = "config/sites.toml"
LIFELINE_GRACE_S = 3.0   # a run whose parent died gets this long to mark itself interrupted


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    INTERNAL = 3
    INTERRUPTED = 130


config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                             default=DEFAULT_CONFIG, show_default=True, envvar="GOVMON_CONFIG",
                             help="The sites.toml to use.")


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)   # basicConfig sets it only once; -v after the subcommand comes later
    for noisy in ("httpx", "httpcore", "aiohttp", "asyncio"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """-v/-q given after the subcommand: added to what came before it (`govmon -v run -v` is -vv)."""
    if not value or ctx.resilient_parsing:
        return
    state = ctx.find_root().ensure_object(dict)
    if param.name == "verbose":
        state["verbose"] = state.get("verbose", 0) + value
        _setup_logging(state["verbose"])
    else:
        state["quiet"] = True


def global_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The group's -v/-q, accepted after the subcommand too."""
    func = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_global,
                        help="No progress output.")(func)
    return click.option("-v", "--verbose", count=True, expose_value=False, callback=_global,
                        help="More log output (-vv for debug).")(func)


def _command(name: str, config_path: Path) -> str:
    """The command line to suggest, naming the config unless it is the default."""
    if str(config_path) == DEFAULT_CONFIG:
        return f"govmon {name}"
    return f"govmon {name} --config {shlex.quote(str(config_path))}"


def _progress(quiet: bool) -> Any:
    """A progress line on an interactive terminal; nothing under cron, in pipes or with -q."""
    if quiet or not sys.stderr.isatty():
        return None
    from monitor.terminal import ProgressLine

    return ProgressLine()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govmon")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Inspect government websites for the 政务公开 rules of a city."""
    _setup_logging(verbose)
    ctx.obj = {"quiet": quiet, "verbose": verbose}


@cli.command()
@config_option
@global_options
def validate(config_path: Path) -> int:
    """Check the config file and report every problem at once."""
    from monitor.preflight import offline_problems

    cfg = load(config_path)
    problems = offline_problems(cfg)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        return Exit.USAGE
    if not cfg.sites:
        # Valid but useless: a run would check nothing. A warning, not an error, so a config can be built up.
        click.echo(f"{config_path}: warning: no [[site]] entries: `govmon run` would check nothing "
                   "(see docs/config.md)", err=True)
    click.echo(f"{config_path}: ok ({len(cfg.sites)} sites, {len(cfg.requirements)} requirements)")
    return Exit.OK


@cli.command()
@config_option
@global_options
@click.option("--site", "site_ids", multiple=True, help="Only this site id (repeatable).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write govmon.result/1 JSON here.")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=0, show_default=True, metavar="SECONDS",
              help="If another run is using the database, wait this long for it to end before giving up.")
@click.option("--kind", type=click.Choice(["manual", "scheduled"]), default="manual", hidden=True)  # the daemon's child
@click.option("--distributed", is_flag=True,
              help="Crawl through the workers of [scale] (the default when the config has [scale]).")
@click.option("--no-work", "no_work", is_flag=True,
              help="With [scale]: queue the sites and link checks and wait for the workers, doing none here.")
@click.pass_context
def run(ctx: click.Context, config_path: Path, site_ids: Sequence[str], json_path: Path | None, wait_s: float,
        kind: str, distributed: bool, no_work: bool) -> int:
    """Run every check on the configured sites now (one run at a time per database)."""
    cfg = load(config_path)
    if (distributed or no_work) and cfg.scale is None:
        raise click.UsageError(f"{config_path}: --distributed and --no-work need a [scale] table with redis_url "
                               "(see docs/operations.md)")
    if no_work and cfg.scale is not None:
        cfg = cfg.model_copy(update={"scale": cfg.scale.model_copy(update={"run_works": False})})
    sites = cfg.sites
    if site_ids:
        unknown = sorted(set(site_ids) - {s.id for s in cfg.sites})
        if unknown:
            raise click.UsageError(f"unknown site id(s): {', '.join(unknown)}")
        sites = [s for s in cfg.sites if s.id in site_ids]
    return _execute(ctx, cfg, kind=kind, sites=sites, json_path=json_path, table="matrix", wait_s=wait_s)


@cli.command()
@config_option
@global_options
@click.argument("url")
@click.option("--kind", type=click.Choice(sorted(KINDS)), default="portal", show_default=True,
              help="Site kind, which decides the required columns.")
@click.option("--level", type=click.Choice(sorted(LEVELS)), default="county", show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write govmon.result/1 JSON here.")
@click.option("--store", "keep", is_flag=True,
              help="Keep the check in the database as an ad-hoc record and write its report page "
                   "(never part of the runs' history, trends or comparisons).")
@click.pass_context
def check(ctx: click.Context, config_path: Path, url: str, kind: str, level: str, json_path: Path | None,
          keep: bool) -> int:
    """Check one site now and print the result; the runs' history is never touched."""
    cfg = load(config_path)
    if urlsplit(url).scheme not in {"http", "https"}:
        raise click.BadParameter(f"not an http(s) URL: {url}", param_hint="URL")
    site = cfg.site_for_url(url) or site_from_url(url, kind, level)
    return _execute(ctx, cfg, kind="adhoc", sites=[site], json_path=json_path, table="checks", keep=keep)


@cli.command()
@global_options
@click.option("--dir", "work_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("var/demo"),
              show_default=True, help="Where the demo config, database and reports go.")
@click.option("--keep", is_flag=True,
              help="Keep the demo web running after the run, until Ctrl-C, to try `govmon check` against it.")
@click.option("--site", "site_ids", multiple=True, help="Only inspect this demo site id (repeatable).")
@click.pass_context
def demo(ctx: click.Context, work_dir: Path, keep: bool, site_ids: Sequence[str]) -> int:
    """Start the bundled demo web on loopback, inspect it, print the config and report paths."""
    from monitor.demo import DemoWeb
    from reports.i18n import ui

    work_dir = work_dir.resolve()
    with DemoWeb() as web:
        path = web.write_config(work_dir / "sites.toml", storage_url=f"sqlite:///{work_dir / 'govmon.db'}",
                                report_dir=str(work_dir / "reports"))
        cfg = load(path)
        sites = cfg.sites
        if site_ids:
            unknown = sorted(set(site_ids) - {s.id for s in cfg.sites})
            if unknown:
                raise click.UsageError(f"unknown demo site id(s): {', '.join(unknown)} "
                                       f"(known: {', '.join(s.id for s in cfg.sites)})")
            sites = [s for s in cfg.sites if s.id in site_ids]
        click.echo(ui("terminal_config", cfg.report.language, path=path))
        code = _execute(ctx, cfg, kind="demo", sites=sites, json_path=work_dir / "result.json", table="matrix")
        if code not in (Exit.OK, Exit.FINDINGS):
            return code
        if keep:
            model = next((s for s in cfg.sites if s.id == DEMO_MODEL_SITE), cfg.sites[0])
            _keep_demo(path, model.url)
    return Exit.OK


DEMO_MODEL_SITE = "chaoyang"   # the demo's model site (every check passes): the one to try `govmon check` on


def _keep_demo(config_path: Path, url: str) -> None:
    """Block until SIGINT or SIGTERM, also when SIGINT came in ignored (started with `&`), then return."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    try:
        click.echo(f"the demo web is running (config: {config_path}); Ctrl-C stops it. Try:")
        click.echo(f"  govmon check --config {shlex.quote(str(config_path))} {url}")
        click.echo(f"  govmon serve --config {shlex.quote(str(config_path))} --port 0")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


@cli.command()
@config_option
@global_options
@click.option("--run", "run_id", help="Run id (default: the latest complete run).")
@click.option("--pdf", "pdf_path", is_flag=False, flag_value="", default=None, metavar="[PATH]",
              help="Also print the summary and every site's 整改清单 to an A4 PDF (needs Chromium; "
                   "default: runs/<run id>/report.pdf in the report dir; a folder gets report-<run id>.pdf).")
def report(config_path: Path, run_id: str | None, pdf_path: str | None) -> int:
    """Re-render the HTML report set from the database, and with --pdf an A4 PDF to file."""
    from monitor.pipeline import open_store
    from reports.pdf import PdfError, write_pdf
    from reports.render import write_report_set

    cfg = load(config_path)
    with open_store(cfg) as session:
        try:
            path = write_report_set(session, cfg.report, run_id=run_id, timezone=cfg.schedule.timezone,
                                    weights=cfg.score.weights())
        except LookupError as exc:
            if run_id:
                raise click.UsageError(f"{exc} (`{_command('status', config_path)}` lists the runs)") from None
            raise click.UsageError(f"no complete run yet: run `{_command('run', config_path)}` first") from None
        click.echo(str(path))
        if pdf_path is not None:
            try:   # the run just rendered (its page is runs/<run id>/index.html), even if a newer one completed since
                pdf = write_pdf(session, cfg.report, run_id=path.parent.name, timezone=cfg.schedule.timezone,
                                path=Path(pdf_path) if pdf_path else None, weights=cfg.score.weights())
            except PdfError as exc:
                click.echo(f"govmon: {exc}", err=True)
                return Exit.INTERNAL
            click.echo(str(pdf))
    return Exit.OK


@cli.command()
@config_option
@global_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8800, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
def serve(config_path: Path, host: str, port: int) -> int:
    """Serve the report set read-only over HTTP until Ctrl-C."""
    from reports.serve import make_server

    cfg = load(config_path)
    directory = Path(cfg.report.dir)
    if not (directory / "index.html").is_file():
        raise click.UsageError(f"no report set in {directory} yet: `{_command('run', config_path)}` writes one "
                               f"(`{_command('report', config_path)}` renders the runs already stored)")
    try:
        server = make_server(directory, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # Ctrl-C and SIGTERM stop it, also when started in the background (`&`, nohup), where SIGINT
    # comes in ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    shown = f"[{host}]" if ":" in host else host
    try:
        click.echo(f"serving {directory} at http://{shown}:{server.server_address[1]}/ (Ctrl-C stops)")
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return Exit.OK


@cli.command()
@config_option
@global_options
@click.option("--limit", default=10, show_default=True)
def status(config_path: Path, limit: int) -> int:
    """Show the latest runs, whatever their state."""
    from monitor import store
    from monitor.pipeline import open_store
    from monitor.terminal import print_runs
    from reports.i18n import ui

    cfg = load(config_path)
    from monitor.daemon import schedule_lines

    language = cfg.report.language
    with open_store(cfg) as session:
        runs = store.list_runs(session, statuses=("running", "complete", "failed", "interrupted"), limit=limit)
        schedule = schedule_lines(session, cfg.schedule.timezone, language)
    if runs:
        print_runs(runs, language, cfg.schedule.timezone)
    else:
        click.echo(ui("terminal_no_runs", language, command=_command("run", config_path)))
    for line in schedule:
        click.echo(line)
    return Exit.OK


@cli.command()
@config_option
@global_options
@click.option("--keep", type=click.IntRange(min=1), metavar="N",
              help="Keep the crawl snapshots of this many complete runs (default: [storage] keep_snapshots).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
def prune(config_path: Path, keep: int | None, dry_run: bool) -> int:
    """Delete the crawl snapshots (pages, links, dates) of old runs; results, evidence and reports stay."""
    from monitor import retention
    from monitor.pipeline import open_store

    cfg = load(config_path)
    with open_store(cfg) as session:
        pruned = retention.prune(session, keep or cfg.storage.keep_snapshots, dry_run=dry_run)
    for line in retention.describe(pruned):
        click.echo(line)
    return Exit.OK


@cli.command()
@config_option
@global_options
@click.option("--once", is_flag=True, help="Exit when no queued run has a site left to take.")
@click.option("--segment-bytes", type=click.IntRange(min=1), metavar="N",
              help="Hand the crawl to the database every N bytes of spool (less lost when a worker dies).")
@click.pass_context
def worker(ctx: click.Context, config_path: Path, once: bool, segment_bytes: int | None) -> int:
    """Crawl sites of the runs queued in [scale]'s Redis into the run's database, until stopped."""
    from monitor.scale import worker as worker_mod
    from monitor.scale.queue import QueueError

    cfg = load(config_path)
    if cfg.scale is None:
        raise click.UsageError(f"{config_path}: govmon worker needs a [scale] table with redis_url "
                               "(see docs/operations.md)")
    root = logging.getLogger()
    if root.level > logging.INFO:  # a service logs one line per batch without -v
        root.setLevel(logging.INFO)
    quiet = ctx.obj["quiet"]
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # a stopped worker hands its sites back at once
    try:
        crawled = worker_mod.serve(cfg, say=lambda line: None if quiet else click.echo(line, err=True),
                                   once=once, segment_bytes=segment_bytes)
    except QueueError as exc:
        click.echo(f"govmon: {exc}", err=True)
        return Exit.INTERNAL
    click.echo(f"worker: {crawled} sites crawled", err=True)
    return Exit.OK


@cli.command()
@config_option
@global_options
@click.option("--run-timeout", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Hard time limit of one scheduled run (default: derived from [crawl]; see docs/operations.md).")
@click.option("--grace", type=click.FloatRange(min=0), default=60, show_default=True, metavar="SECONDS",
              help="On SIGTERM, how long the current run may go on before it is stopped and marked interrupted.")
def daemon(config_path: Path, run_timeout: float | None, grace: float) -> int:
    """Run the schedule: scheduled runs, availability probes, notifications (SIGTERM stops, SIGHUP reloads)."""
    import monitor.daemon as daemon_mod

    root = logging.getLogger()
    if root.level > logging.INFO:  # a service logs one line per job without -v
        root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(max(root.level, logging.WARNING))
    try:
        return daemon_mod.serve(config_path, daemon_mod.Options(run_timeout_s=run_timeout, grace_s=grace))
    except daemon_mod.AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None


def _execute(ctx: click.Context, cfg: Config, *, kind: str, sites: Sequence[Site], json_path: Path | None,
             table: str, wait_s: float = 0.0, keep: bool = True) -> int:
    from monitor.pipeline import execute
    from monitor.terminal import print_checks, print_matrix
    from reports import codes, i18n

    progress = _progress(ctx.obj["quiet"])
    try:
        outcome = execute(cfg, kind=kind, sites=sites, json_path=json_path, progress=progress, wait_s=wait_s,
                          keep=keep)
    finally:
        if progress is not None:
            progress.done()
    language = cfg.report.language
    if outcome.results is None:
        words, raw = codes.reason(outcome.error, language)
        line = i18n.ui("terminal_run_failed", language, run=outcome.run_id, reason=words)
        click.echo(f"govmon: {line}" + (f" ({i18n.ui('terminal_raw', language, raw=raw)})" if raw else ""), err=True)
        return Exit.INTERNAL
    if table == "checks":
        print_checks(outcome.results, language)
    else:
        print_matrix(outcome.results, language)
    if outcome.report:
        click.echo(i18n.ui("terminal_report", language, path=outcome.report))
    if outcome.json_path:
        click.echo(i18n.ui("terminal_json", language, path=outcome.json_path))
    statuses = {str(r.status) for rs in outcome.results.results.values() for r in rs}
    return Exit.FINDINGS if statuses & {"warn", "fail", "error"} else Exit.OK


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point: never lets a traceback reach the user."""
    if argv is None:    # the process's own entry, not a caller in the same process (the tests)
        supervisor.tune_gc()
    # Started by the daemon: a run whose daemon died stops, marking itself interrupted.
    supervisor.hold_lifeline(grace_s=LIFELINE_GRACE_S)
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="govmon", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = Exit.USAGE
    except ConfigError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        code = Exit.USAGE
    except StorageError as exc:
        click.echo(f"govmon: storage error: {exc}", err=True)
        code = Exit.INTERNAL
    except Busy as exc:
        click.echo(f"govmon: {exc}", err=True)
        code = Exit.INTERNAL
    except PreflightError as exc:
        for line in exc.problems:
            click.echo(f"govmon: {line}", err=True)
        code = Exit.INTERNAL
    except (KeyboardInterrupt, click.Abort):
        click.echo("govmon: interrupted", err=True)
        code = Exit.INTERRUPTED
    except Exception as exc:  # the last guard: one line for the user, the traceback in the debug log
        log.debug("internal error", exc_info=True)
        click.echo(f"govmon: internal error: {type(exc).__name__}: {exc} (run with -vv for details)", err=True)
        code = Exit.INTERNAL
    sys.exit(int(code or 0))
