"""A failure stays where it happened: one bad set, a full disk or a killed run loses nothing else."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from metamg.io.atomic import write_atomic
from tests.conftest import CASES_DIR, run_cli

ROOT = Path(__file__).resolve().parents[1]


def _sets(tmp_path, *names):
    for n in names:
        shutil.copy(CASES_DIR / f"{n}.csv", tmp_path / f"{n}.csv")
    return [tmp_path / f"{n}.csv" for n in names]


@pytest.mark.without_debug
@pytest.mark.slow
def test_a_bug_in_one_set_does_not_stop_the_others(tmp_path, monkeypatch):
    import metamg.render.report as report

    real = report.write_funnel

    def broken(analysis, path, *args, **kwargs):
        if "egger2001" in str(path):
            raise RuntimeError("simulated plotting failure")
        return real(analysis, path, *args, **kwargs)

    monkeypatch.setattr(report, "write_funnel", broken)
    bcg, egger = _sets(tmp_path, "bcg", "egger2001")
    out = tmp_path / "out"
    code, stdout, err = run_cli("report", egger, bcg, "-o", out)
    assert code == 2
    assert f"{egger}: report not written: internal error: RuntimeError: simulated plotting failure" in err
    assert (out / "bcg.md").exists() and not (out / "egger2001.md").exists()
    assert "bcg.md" in (out / "index.md").read_text()


def test_output_under_a_regular_file_is_a_user_error(tmp_path):
    (bcg,) = _sets(tmp_path, "bcg")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = run_cli("report", bcg, "-o", blocker / "reports")
    assert code == 2
    assert f"{blocker} is a file, not a directory" in err and ".metamg-" not in err
    code, out, err = run_cli("pool", bcg, "-o", blocker / "result.json", "--format", "json")
    assert code == 2 and f"{blocker / 'result.json'}: cannot be written: {blocker} is a file" in err


def test_output_that_is_a_directory_is_a_user_error(tmp_path):
    (bcg,) = _sets(tmp_path, "bcg")
    (tmp_path / "d").mkdir()
    code, out, err = run_cli("forest", bcg, "-o", tmp_path / "d")
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize(
    "command,option",
    [("pool", "-o"), ("forest", "-o"), ("sensitivity", "-o"), ("bias", "-o"), ("funnel", "-o")],
)
def test_an_output_path_equal_to_the_input_is_refused(tmp_path, command, option):
    (bcg,) = _sets(tmp_path, "bcg")
    before = bcg.read_bytes()
    code, out, err = run_cli(command, bcg, option, bcg)
    assert code == 2 and ("input file" in err or "write figures as" in err)
    assert bcg.read_bytes() == before
    (tmp_path / "bcg.toml").write_text('title = "t"\n')
    code, out, err = run_cli("pool", bcg, "-o", tmp_path / "bcg.toml")
    assert code == 2 and "input file" in err and (tmp_path / "bcg.toml").read_text() == 'title = "t"\n'


def test_figures_are_written_as_png_svg_or_pdf(tmp_path):
    (bcg,) = _sets(tmp_path, "bcg")
    assert run_cli("forest", bcg, "-o", tmp_path / "f.pdf")[0] == 0
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    code, out, err = run_cli("forest", bcg, "-o", tmp_path / "f.jpg")
    assert code == 2 and "write figures as .png, .svg, .pdf, not .jpg" in err
    assert not (tmp_path / "f.jpg").exists()


def test_cli_option_ranges(tmp_path):
    (bcg,) = _sets(tmp_path, "bcg")
    code, out, err = run_cli("pool", bcg, "--cc", "-1")
    assert code == 2 and "--cc" in err and "bcg.csv:" not in err
    code, out, err = run_cli("sensitivity", bcg, "--subsets", "0")
    assert code == 2 and "--subsets" in err
    code, out, err = run_cli("regress", bcg, "--mods", " , ")
    assert code == 2 and "--mods" in err and "at least one moderator" in err
    one = tmp_path / "one.csv"
    one.write_text("study,yi,vi\nA,0.1,0.01\n")
    code, out, err = run_cli("sensitivity", one)
    assert code == 2 and "need at least 2 pooled studies" in err


def test_stale_temporary_files_of_dead_runs_are_removed(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    stale = tmp_path / f".metamg-{dead}-abc123.tmp"
    stale.write_text("half a report")
    mine = tmp_path / f".metamg-{os.getpid()}-keep.tmp"
    mine.write_text("this process is alive")
    write_atomic(tmp_path / "report.md", "whole")
    assert not stale.exists() and mine.exists()
    assert (tmp_path / "report.md").read_text() == "whole"


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path):
    """The CLI turns SIGTERM into an ordinary exit, so an interrupted write removes its file."""
    code = (
        "import os, sys, time\n"
        "from metamg.cli import _exit_cleanly_on_sigterm\n"
        "_exit_cleanly_on_sigterm()\n"
        "os.fsync = lambda fd: (print('writing', flush=True), time.sleep(60))\n"
        "from metamg.io.atomic import write_atomic\n"
        f"write_atomic({str(tmp_path / 'out.md')!r}, 'x' * 1000)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_sigterm_stops_report_workers_and_leaves_no_temporary_file(tmp_path):
    """With worker processes, SIGTERM to metamg stops them too, each removing its half-written
    file; nothing else is left behind."""
    bcg, egger = _sets(tmp_path, "bcg", "egger2001")
    out = tmp_path / "out"
    code = (
        "import os, sys, time\n"
        "os.fsync = lambda fd: (print('writing', os.getpid(), flush=True), time.sleep(60))\n"
        "from metamg.cli import main\n"
        f"main(['report', {str(bcg)!r}, {str(egger)!r}, '-o', {str(out)!r}, '-j', '2'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "METAMG_DEBUG"}  # debug runs one process
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    writers = {proc.stdout.readline().split()[1], proc.stdout.readline().split()[1]}
    assert len(writers) == 2 and str(proc.pid) not in writers  # two workers, each writing
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert [p.name for p in out.iterdir()] == []
    for pid in writers:  # the workers are gone
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)


@pytest.mark.slow
def test_a_report_from_a_pipe_hashes_the_bytes_it_read(tmp_path):
    """Process substitution (/dev/fd/N) can be read once: the report's SHA-256 is of those bytes."""
    import hashlib
    import threading

    data = (CASES_DIR / "bcg.csv").read_bytes()
    fifo = tmp_path / "studies.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(data))
    writer.start()
    code, out, err = run_cli("report", fifo, "-o", tmp_path / "out")
    writer.join(timeout=30)
    assert code == 0, err
    text = (tmp_path / "out" / "studies.md").read_text()
    assert f"SHA-256 `{hashlib.sha256(data).hexdigest()}`" in text


@pytest.mark.without_debug  # METAMG_DEBUG runs one process (its tracebacks are the user's)
@pytest.mark.slow
def test_worker_processes_write_the_same_reports_and_say_the_same(tmp_path, monkeypatch):
    bcg, egger = _sets(tmp_path, "bcg", "egger2001")
    bad = tmp_path / "broken.csv"
    bad.write_text("study,yi,vi\nA,0.1,-1\n")
    out = tmp_path / "out"
    import metamg.api as api

    started = []
    real = api._worker_count
    monkeypatch.setattr(
        api, "_worker_count", lambda jobs, sets: started.append(real(jobs, sets)) or started[-1]
    )
    runs = []
    for jobs in ("1", "2"):
        code, stdout, err = run_cli("report", bcg, bad, egger, "-o", out, "--jobs", jobs)
        files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
        runs.append((code, stdout, err, files))
    assert started == [1, 2]  # the second run had two workers
    assert runs[0] == runs[1]
    code, stdout, err, files = runs[0]
    assert (
        code == 2
        and f"{bad}:2:" in err
        and sorted(files)[:4] == ["bcg-forest.png", "bcg-funnel.png", "bcg.html", "bcg.md"]
    )
    assert stdout.splitlines()[1:] == [str(out / "bcg.md"), str(out / "egger2001.md")]


@pytest.mark.without_debug
def test_report_jobs_in_the_api(tmp_path):
    import metamg.api as api

    assert api._worker_count(2, 2) == 2 and api._worker_count(4, 2) == 2 and api._worker_count(1, 5) == 1
    (bcg,) = _sets(tmp_path, "bcg")
    outcomes = list(api.write_reports([bcg, tmp_path / "missing.csv"], tmp_path / "out", jobs=2))
    assert [o.ok for o in outcomes] == [True, False]
    assert outcomes[0].report == str(tmp_path / "out" / "bcg.md") and outcomes[0].index_entry["name"] == "bcg"
    assert outcomes[1].problems and "missing.csv" in str(outcomes[1].problems[0])
