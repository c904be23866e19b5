"""The command line as a user meets it: output, exit codes, no tracebacks."""

import logging
from pathlib import Path

import pytest

from monitor.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "config" / "sites.toml"


def govmon(*argv: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    return int(exited.value.code)


def minimal_config(tmp_path: Path, extra: str = "", site_extra: str = "") -> Path:
    path = tmp_path / "sites.toml"
    # The resolver points at a loopback port where nothing answers: nothing here leaves the machine.
    path.write_text(f"""
[storage]
url = "sqlite:///{tmp_path / 'govmon.db'}"
[report]
dir = "{tmp_path / 'reports'}"
[dns]
nameservers = ["127.0.0.1"]
port = 9
timeout_s = 0.2
{extra}
[[site]]
id = "x"
name = "测试站"
url = "http://www.x.test/"
kind = "portal"
level = "county"
{site_extra}
""", encoding="utf-8")
    return path


def test_validate_shipped_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert govmon("validate", "--config", str(SHIPPED)) == 0
    assert "13 sites, 9 requirements" in capsys.readouterr().out


def test_validate_bad_config_prints_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = minimal_config(tmp_path, site_extra='kindd = "x"')
    assert govmon("validate", "--config", str(path)) == 2
    line = path.read_text(encoding="utf-8").splitlines().index('kindd = "x"') + 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{path}:{line}: site[0] (id=\"x\").kindd: unknown key 'kindd' (did you mean 'kind'?)"]


def test_missing_config_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert govmon("validate", "--config", str(tmp_path / "nope.toml")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_run_with_bad_config_touches_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = minimal_config(tmp_path, extra="[crawl]\ntimeout_s = \"soon\"\n")
    assert govmon("run", "--config", str(path)) == 2
    assert "crawl.timeout_s" in capsys.readouterr().err
    assert not (tmp_path / "govmon.db").exists(), "no run may start on an invalid config"


@pytest.mark.parametrize("argv", [
    pytest.param(["check", "ftp://www.x.test/"], id="non-http-url"),
    pytest.param(["check", "http://www.x.test/", "--kind", "portl"], id="unknown-kind"),
    pytest.param(["run", "--site", "nosuchsite"], id="unknown-site"),
    pytest.param(["frobnicate"], id="unknown-command"),
])
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    path = minimal_config(tmp_path)
    assert govmon(*argv, "--config", str(path)) == 2
    err = capsys.readouterr().err
    assert err and "Traceback" not in err
    assert not (tmp_path / "govmon.db").exists()


def test_internal_error_is_one_line_and_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    path = minimal_config(tmp_path)
    path.write_text(path.read_text().replace(str(tmp_path / "govmon.db"), str(blocker / "sub" / "govmon.db")))
    assert govmon("status", "--config", str(path)) == 3
    err = capsys.readouterr().err
    assert err.startswith("govmon: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_validate_refuses_a_report_dir_that_cannot_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the report folder should go", encoding="utf-8")
    path = minimal_config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(str(tmp_path / "reports"), str(blocker / "reports")),
                    encoding="utf-8")
    assert govmon("validate", "--config", str(path)) == 2
    assert f"report.dir: cannot create {blocker / 'reports'}: {blocker} is not a folder" in capsys.readouterr().err
    assert govmon("-q", "run", "--config", str(path)) == 3   # refused before the crawl, not after it
    assert "report.dir" in capsys.readouterr().err
    assert not (tmp_path / "govmon.db").exists(), "nothing was started"


def test_run_keeps_scratch_files_in_the_work_dir_and_removes_those_of_dead_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    # No IPv6 checks: their route test would look beyond loopback.
    path = minimal_config(tmp_path, extra='[checks]\ndisabled = ["ipv6:homepage", "ipv6:links"]\n')
    text = path.read_text(encoding="utf-8").replace("[report]\n", f'work_dir = "{work}"\n[report]\n', 1)
    path.write_text(text, encoding="utf-8")
    dead = work / "20200101T000000Z-dead00"
    dead.mkdir(parents=True)
    (dead / "crawl.jsonl").write_text('{"type": "page"', encoding="utf-8")
    assert govmon("-q", "run", "--config", str(path)) in (0, 1)
    assert list(work.iterdir()) == [], "the dead run's spool and this run's are gone"
    assert not (tmp_path / "runs").exists(), "nothing is written beside the report folder"


@pytest.mark.parametrize("argv", [
    pytest.param(["-vv", "-q", "status"], id="before-the-subcommand"),
    pytest.param(["status", "-vv", "-q"], id="after-the-subcommand"),
    pytest.param(["-v", "status", "-v", "--quiet"], id="both-add-up"),
])
def test_global_options_work_before_or_after_the_subcommand(tmp_path: Path, argv: list[str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = root.level
    try:
        assert govmon(*argv, "--config", str(minimal_config(tmp_path))) == 0
        assert root.level == logging.DEBUG, "-vv (or -v twice) means debug logging"
    finally:
        root.setLevel(before)
    assert "no such option" not in capsys.readouterr().err


def test_validate_warns_on_a_config_without_sites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = minimal_config(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("[[site]]")], encoding="utf-8")
    assert govmon("validate", "--config", str(path)) == 0
    captured = capsys.readouterr()
    assert "warning: no [[site]] entries" in captured.err
    assert "ok (0 sites" in captured.out


def test_commands_on_an_empty_database_say_what_to_run_first(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = minimal_config(tmp_path)
    assert govmon("status", "--config", str(path)) == 0
    assert capsys.readouterr().out.strip() == f"还没有巡检记录：请先运行 `govmon run --config {path}`"
    assert govmon("report", "--config", str(path)) == 2
    assert f"no complete run yet: run `govmon run --config {path}` first" in capsys.readouterr().err
    assert govmon("report", "--config", str(path), "--run", "nosuchrun") == 2
    assert f"`govmon status --config {path}` lists the runs" in capsys.readouterr().err
    assert govmon("serve", "--config", str(path), "--port", "0") == 2
    err = capsys.readouterr().err
    assert f"`govmon run --config {path}` writes one" in err and "Traceback" not in err
