"""Faults: kill -9 at chosen points (then a rerun finishes the work), a full disk and a
read-only folder for every writing command, two commands at once, SIGINT and SIGTERM.

What holds after each: every file whole, every value there (each calculator's values are its
table row's, computed by the spec's model), no stray process, no temporary file, an exit
code and a message that say what happened, the user's files as they were.

Kill points are chosen, not timed: a driver runs the command in a process of its own with
``os.replace`` (or the progress bar's ``update``) wrapped, and kills itself with SIGKILL at
the n-th call that matches (before or after the rename).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import close

from cvp_xl.commands.batch import stored_digest
from cvp_xl.commands.cli import main
from cvp_xl.commands.entered import read_calculator
from cvp_xl.workbooks import tracker as tracker_module
from cvp_xl.workbooks.calculator import load_spec, model
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.workbooks.tracker import read_tracker
from cvp_xl.xlsx import atomic
from cvp_xl.xlsx.atomic import locked, temporary_owner

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "workbooks" / "calculators" / "fleet-routing.yaml"
Q2 = ROOT / "workbooks" / "tracker" / "2025-Q2.csv"
N = 25  # customers: two chunks, of 20 and 5 files

DRIVER = r"""
import fnmatch, multiprocessing, os, signal, sys, time
from pathlib import Path

kind, *rest = os.environ["CVP_XL_TEST_FAULT"].split("|")
action = rest.pop()
main_pid = os.getpid()

def stop_here():
    children = " ".join(str(p.pid) for p in multiprocessing.active_children())
    Path(os.environ["CVP_XL_TEST_PIDS"]).write_text(children)
    if action == "pause":
        Path(os.environ["CVP_XL_TEST_PIDS"] + ".paused").touch()
        while not Path(os.environ["CVP_XL_TEST_PIDS"] + ".go").exists():
            time.sleep(0.01)
        return
    if action == "int":  # Ctrl-C: the terminal signals the whole process group
        os.killpg(os.getpgid(0), signal.SIGINT)
    else:
        os.kill(os.getpid(), {"kill": signal.SIGKILL, "term": signal.SIGTERM}[action])

if kind == "replace":  # the n-th rename onto a path matching the pattern, before or after
    pattern, n, when = rest[0], int(rest[1]), rest[2]
    real, seen = os.replace, [0]
    def replace(src, dst, *args, **kwargs):
        hit = os.getpid() == main_pid and fnmatch.fnmatch(os.fspath(dst), pattern)
        seen[0] += hit
        if hit and seen[0] == n and when == "before":
            stop_here()
        out = real(src, dst, *args, **kwargs)
        if hit and seen[0] == n and when == "after":
            stop_here()
        return out
    os.replace = replace
elif kind == "progress":  # after the n-th step of the progress bar (a chunk of files done)
    import tqdm
    n, real_update, calls = int(rest[0]), tqdm.tqdm.update, [0]
    def update(self, k=1):
        out = real_update(self, k)
        calls[0] += 1
        if calls[0] == n:
            stop_here()
        return out
    tqdm.tqdm.update = update

from cvp_xl.commands.cli import main
main(sys.argv[1:], prog_name="cvp-xl")
"""


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def driven(tmp_path: Path, fault: str, *args) -> tuple[subprocess.CompletedProcess, list[int]]:
    """``cvp-xl ARGS`` in a process of its own with ``fault`` (see DRIVER); the result and
    the ids of its worker processes when the fault struck."""
    pids = tmp_path / "pids"
    env = {**os.environ, "CVP_XL_TEST_FAULT": fault, "CVP_XL_TEST_PIDS": str(pids)}
    done = subprocess.run([sys.executable, "-c", DRIVER, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600,
                          start_new_session=True)  # a process group of its own
    return done, [int(p) for p in pids.read_text().split()] if pids.exists() else []


def _wait_for(predicate, limit=60.0) -> bool:
    """Poll until true (``limit`` seconds bounds a slow machine; nothing is measured)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for a parent that may never reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return not atomic.alive(pid)
    return state in ("Z", "X")


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def whole(path: Path) -> bool:
    """A complete xlsx: every zip member's checksum is right and openpyxl reads it."""
    with zipfile.ZipFile(path) as archive:
        if archive.testzip() is not None:
            return False
    openpyxl.load_workbook(path, read_only=True).close()
    return True


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder``: relative path -> sha256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC)


@pytest.fixture(scope="module")
def layout(spec, tmp_path_factory):
    return build(spec, tmp_path_factory.mktemp("layout") / "one.xlsx")


def table_for(spec, n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {"customer_id": [f"C-{k:04d}" for k in range(n)],
            "customer_name": [f"Customer {k}" for k in range(n)]}
    for i in spec.inputs:
        data[i.name] = np.round(rng.uniform(i.low, i.high, n), 6)
    return pd.DataFrame(data)


@pytest.fixture()
def customers(spec, tmp_path) -> tuple[Path, pd.DataFrame]:
    frame = table_for(spec, N)
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    return path, frame


def check_batch(out: Path, spec, frame: pd.DataFrame, layout) -> None:
    """One whole calculator per row, named for it, holding that row's results (the spec's
    model evaluated on the row), and a summary with one line per row."""
    ids = list(frame["customer_id"])
    assert sorted(p.name for p in out.glob("*.xlsx")) == sorted(
        [f"{cid}.xlsx" for cid in ids] + ["summary.xlsx"])  # none twice, none missing
    expected = model.evaluate(spec, {i.name: frame[i.name].to_numpy() for i in spec.inputs},
                              "Base").total_per_year
    ref = layout.results["total_per_year"]
    for cid, total in zip(ids, expected):
        path = out / f"{cid}.xlsx"
        assert whole(path) and stored_digest(path) is not None, cid
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        assert close(wb["Summary"][ref].value, float(total)), cid
        wb.close()
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["Customer id"]) == ids
    assert set(summary["Status"]) <= {"written", "up to date"}
    assert all(close(a, float(b)) for a, b in zip(summary["Total value per year (USD)"],
                                                   expected))


# -- kill -9, then a rerun ---------------------------------------------------------------------

KILLS = [
    # (name, fault, jobs, what the kill left: "temporary" (a whole file not yet renamed) or
    #  "nothing")
    ("before the 10th rename", "replace|*/C-*.xlsx|10|before|kill", 1, "temporary"),
    ("after the 10th rename", "replace|*/C-*.xlsx|10|after|kill", 1, "nothing"),
    ("while writing the summary", "replace|*/summary.xlsx|1|before|kill", 1, "temporary"),
    ("--jobs 2, after the first chunk", "progress|1|kill", 2, "nothing"),
]


@pytest.mark.parametrize("name, fault, jobs, left", KILLS, ids=[k[0] for k in KILLS])
def test_batch_killed_then_rerun(spec, layout, customers, tmp_path, name, fault, jobs, left):
    table, frame = customers
    out = tmp_path / "out"
    args = ["batch", SPEC, "--customers", table, "--out", out, "--quiet", "-j", jobs]
    killed, workers = driven(tmp_path, fault, *args)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(workers) == (2 if jobs == 2 else 0)  # the workers were running at the kill
    assert _wait_for(lambda: all(_gone(pid) for pid in workers)), "a worker outlived its parent"
    for path in out.glob("C-*.xlsx"):  # every file there is whole
        assert whole(path), path
    temporaries = [n for n in hidden(out) if n != ".cvp-xl.lock"]
    assert len(temporaries) == (1 if left == "temporary" else 0), temporaries
    assert all(temporary_owner(n) == killed_pid(n) for n in temporaries)
    rerun = run(*args)
    assert rerun.exit_code == 0, rerun.output
    check_batch(out, spec, frame, layout)
    assert hidden(out) == []  # the dead run's temporary and lock file are gone


def killed_pid(name: str) -> int | None:
    """The owner of a temporary file, if it is not alive (as after a kill)."""
    pid = temporary_owner(name)
    return pid if pid is not None and not atomic.alive(pid) else None


def v2(tmp_path: Path) -> Path:
    """Version 1.1 of the spec: the licences cost 38,000 a year instead of 36,000."""
    text = SPEC.read_text(encoding="utf-8")
    assert 'version: "1.0"' in text and "recurring: 36000" in text
    path = tmp_path / "fleet-routing-v1.1.yaml"
    path.write_text(text.replace('version: "1.0"', 'version: "1.1"')
                    .replace("recurring: 36000", "recurring: 38000", 1), encoding="utf-8")
    return path


def test_upgrade_killed_between_two_files_then_rerun(spec, tmp_path):
    frame = table_for(spec, 3)
    folder = tmp_path / "calcs"
    table = tmp_path / "three.csv"
    frame.to_csv(table, index=False)
    assert run("batch", SPEC, "--customers", table, "--out", folder, "--quiet").exit_code == 0
    new = v2(tmp_path)
    killed, _ = driven(tmp_path, f"replace|{folder}/C-*.xlsx|2|before|kill", "upgrade",
                       folder, "--spec", new, "--quiet")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    new_spec = load_spec(new)
    digests = {p.name: read_calculator(p).spec_digest for p in folder.glob("C-*.xlsx")}
    assert digests == {"C-0000.xlsx": new_spec.digest, "C-0001.xlsx": spec.digest,
                       "C-0002.xlsx": spec.digest}  # one moved into place, two not yet
    rerun = run("upgrade", folder, "--spec", new, "--quiet")
    assert rerun.exit_code == 0, rerun.output
    assert rerun.stdout.startswith(f"{folder}: 2 upgraded, 1 already at this spec, 0 for "
                                   "another offering, 0 failed; old files in ")
    given = {i.name: frame[i.name].to_numpy() for i in spec.inputs}
    expected = model.evaluate(new_spec, given, "Base")
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary["Customer id"]) == ["C-0000", "C-0001", "C-0002"]
    assert list(summary["Status"]) == ["upgraded"] * 3  # the killed run's line included
    for k, cid in enumerate(frame["customer_id"]):
        calc = read_calculator(folder / f"{cid}.xlsx")
        assert calc.spec_digest == new_spec.digest and whole(folder / f"{cid}.xlsx")
        assert {n: e.base.value for n, e in calc.inputs.items()} == {
            n: float(frame.at[k, n]) for n in spec.input_names}  # the customer's values kept
        assert close(summary.at[k, "NPV (USD)"], float(expected.npv[k]))
    assert hidden(folder) == []  # no staging folder, no lock, no temporary


@pytest.fixture()
def tracker(tmp_path) -> Path:
    path = tmp_path / "tracker.xlsx"
    tracker_module.build(path)
    return path


def _periods(path: Path) -> list[tuple[str, str]]:
    entries = read_tracker(path).entries
    return sorted(zip(entries["customer"], entries["period"]))


@pytest.mark.parametrize("when", ["before", "after"])
def test_track_killed_at_the_rename_then_rerun(tracker, tmp_path, when):
    before = tracker.read_bytes()
    killed, _ = driven(tmp_path, f"replace|*/tracker.xlsx|1|{when}|kill", "track", tracker,
                       "--add", Q2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (tracker.read_bytes() == before) == (when == "before") and whole(tracker)
    rerun = run("track", tracker, "--add", Q2)
    if when == "before":
        assert rerun.exit_code == 0, rerun.output
    else:  # the entries landed before the kill: a rerun refuses them, nothing twice
        assert rerun.exit_code == 2 and "already in the tracker" in rerun.output
    q2 = [p for p in _periods(tracker) if p[1] == "2025-Q2"]
    assert len(q2) == 4 and len(set(q2)) == 4  # 2025-Q2.csv has four entries, each once
    assert hidden(tmp_path) == []


@pytest.fixture()
def book(tmp_path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"] = 200_000, 50_000
    ws["B1"] = "=CVP_ROI(A1,A2)"  # (200,000 - 50,000) / 50,000 = 3 (prezentor.com example)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def test_recalc_in_place_killed_at_the_rename_then_rerun(book, tmp_path):
    before = book.read_bytes()
    killed, _ = driven(tmp_path, "replace|*/book.xlsx|1|before|kill", "recalc", book)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert book.read_bytes() == before
    assert len(hidden(tmp_path)) == 1  # the whole new file, not yet renamed
    rerun = run("recalc", book)
    assert rerun.exit_code == 0, rerun.output
    values = openpyxl.load_workbook(book, data_only=True).active
    assert values["B1"].value == 3  # (200,000 - 50,000) / 50,000
    assert hidden(tmp_path) == []


# -- SIGINT and SIGTERM ------------------------------------------------------------------------

SIGNALS = [("SIGTERM, --jobs 2", "progress|1|term", 2, 143, "SIGTERM"),
           ("Ctrl-C, --jobs 2", "progress|1|int", 2, 130, "SIGINT"),
           ("SIGTERM, one process", "replace|*/C-*.xlsx|3|after|term", 1, 143, "SIGTERM")]


@pytest.mark.parametrize("name, fault, jobs, code, signame", SIGNALS, ids=[s[0] for s in SIGNALS])
def test_a_signal_stops_the_batch_cleanly(spec, layout, customers, tmp_path, name, fault, jobs,
                                         code, signame):
    table, frame = customers
    out = tmp_path / "out"
    args = ["batch", SPEC, "--customers", table, "--out", out, "--quiet", "-j", jobs]
    stopped, workers = driven(tmp_path, fault, *args)
    assert stopped.returncode == code
    assert stopped.stderr == (f"{table}: {N} rows (UTF-8, comma-separated)\n"
                              f"Error: interrupted ({signame}); every file written is whole "
                              "and the one being written was left out; run the command again "
                              "to finish\n")  # nothing from the workers: no traceback
    assert _wait_for(lambda: all(_gone(pid) for pid in workers))
    assert hidden(out) == []  # temporaries removed, lock released
    for path in out.glob("C-*.xlsx"):
        assert whole(path)
    rerun = run(*args)
    assert rerun.exit_code == 0, rerun.output
    check_batch(out, spec, frame, layout)


# -- two commands at once ----------------------------------------------------------------------


def test_two_batches_into_one_folder_at_once(spec, layout, customers, tmp_path, monkeypatch):
    table, frame = customers
    out = tmp_path / "out"
    args = ["batch", SPEC, "--customers", table, "--out", out, "--quiet"]
    pids = tmp_path / "pids"
    env = {**os.environ, "CVP_XL_TEST_FAULT": "replace|*/C-*.xlsx|5|before|pause",
           "CVP_XL_TEST_PIDS": str(pids)}
    first = subprocess.Popen([sys.executable, "-c", DRIVER, *map(str, args)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(lambda: Path(f"{pids}.paused").exists(), 300)
        in_progress = [n for n in hidden(out) if temporary_owner(n) == first.pid]
        assert len(in_progress) == 1  # the first batch is writing its fifth file
        monkeypatch.setattr(atomic, "LOCK_WAIT", 0.3)
        second = run(*args)
        assert second.exit_code == 2
        assert second.stderr.endswith(
            f"Error: {out}: another cvp-xl command is writing in it (waited 0.3 s for "
            ".cvp-xl.lock); nothing was written, try again when it has finished\n")
        assert [n for n in hidden(out) if temporary_owner(n) == first.pid] == in_progress
        Path(f"{pids}.go").touch()
        _, err = first.communicate(timeout=300)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0, err
    check_batch(out, spec, frame, layout)
    again = run(*args)
    assert again.exit_code == 0 and f"{out}: 0 written, {N} up to date" in again.stdout


def test_a_second_batch_waits_for_the_first(spec, layout, customers, tmp_path):
    table, frame = customers
    out = tmp_path / "out"
    out.mkdir()
    holding, released = threading.Event(), threading.Event()

    def hold():
        with locked(out, folder=True):
            holding.set()
            released.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(30)
    threading.Timer(0.3, released.set).start()  # well inside the 10 s a command waits
    result = run("batch", SPEC, "--customers", table, "--out", out, "--quiet")
    holder.join()
    assert result.exit_code == 0, result.output
    check_batch(out, spec, frame, layout)


def test_upgrade_and_cases_refuse_while_another_command_holds_the_lock(spec, tracker, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setattr(atomic, "LOCK_WAIT", 0.2)
    folder = tmp_path / "calcs"
    frame = table_for(spec, 1)
    frame.to_csv(tmp_path / "one.csv", index=False)
    assert run("batch", SPEC, "--customers", tmp_path / "one.csv", "--out", folder,
               "--quiet").exit_code == 0
    before = snapshot(folder)
    with locked(folder, folder=True):
        result = run("upgrade", folder, "--spec", v2(tmp_path), "--quiet")
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {folder}: another cvp-xl command is writing in it "
                             "(waited 0.2 s for .cvp-xl.lock); nothing was written, try again "
                             "when it has finished\n")
    assert snapshot(folder) == before
    cases = tmp_path / "cases.xlsx"
    with locked(cases):
        result = run("cases", tracker, "--to", cases)
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {cases}: another cvp-xl command is writing it (waited "
                             "0.2 s for .cases.xlsx.lock); nothing was written, try again when "
                             "it has finished\n")
    assert not cases.exists()


def test_two_upgrades_in_the_same_second_keep_separate_backups(spec, tmp_path, monkeypatch):
    # the backup folder is named by the second; the second run's name is taken when it
    # creates it, as if the first had made it a moment before
    from cvp_xl.commands import upgrade as upgrade_module

    folder = tmp_path / "calcs"
    table_for(spec, 1).to_csv(tmp_path / "one.csv", index=False)
    run("batch", SPEC, "--customers", tmp_path / "one.csv", "--out", folder, "--quiet")
    taken = folder / "previous-20250101-120000"
    taken.mkdir()
    (taken / "C-0000.xlsx").write_bytes(b"the first run's backup")
    monkeypatch.setattr(upgrade_module, "backup_folder", lambda f: taken)
    result = run("upgrade", folder, "--spec", v2(tmp_path), "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"old files in {taken}-2; summary.xlsx refreshed\n")
    assert (taken / "C-0000.xlsx").read_bytes() == b"the first run's backup"
    assert whole(Path(f"{taken}-2") / "C-0000.xlsx")


# -- a full disk and a read-only folder, for every writing command -----------------------------

RUNNER = r"""
import hashlib, json, sys
from pathlib import Path
from click.testing import CliRunner
from cvp_xl.commands.cli import main

def snap(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith("fill")}

def run_all(folder, commands):
    results = []
    for args in commands:
        before = snap(folder)
        r = CliRunner().invoke(main, args, prog_name="cvp-xl")
        after = snap(folder)
        crashed = r.exception is not None and not isinstance(r.exception, SystemExit)
        results.append({"code": r.exit_code, "stderr": r.stderr, "crashed": crashed,
                        "changed": sorted(k for k in set(before) | set(after)
                                          if before.get(k) != after.get(k))})
    return results

if __name__ == "__main__":
    print(json.dumps(run_all(Path(sys.argv[1]), json.loads(sys.argv[2]))))
"""

RESEARCH_SPEC = ROOT / "workbooks" / "calculators" / "packaging-line-maintenance.yaml"
FINDINGS = ROOT / "workbooks" / "research" / "findings.csv"


def writing_commands(d: Path, tmp: Path) -> list[tuple[str, list[str]]]:
    """Every command that writes, writing into the folder ``d``; inputs from elsewhere."""
    return [(name, [str(a) for a in args]) for name, args in [
        ("recalc in place", ["recalc", d / "book.xlsx"]),
        ("recalc -o", ["recalc", d / "book.xlsx", "-o", d / "out.xlsx"]),
        ("share in place", ["share", d / "book.xlsx"]),
        ("add-functions in place", ["add-functions", d / "book.xlsx"]),
        ("functions --workbook", ["functions", "--workbook", "-o", d / "lib.xlsx"]),
        ("build", ["build", SPEC, "-o", d / "calc.xlsx"]),
        ("customers", ["customers", SPEC, "-o", d / "t.csv"]),
        ("research", ["research", FINDINGS, "--spec", RESEARCH_SPEC, "-o", d / "new.yaml"]),
        ("track", ["track", d / "tracker.xlsx", "--add", Q2]),
        ("cases", ["cases", d / "tracker.xlsx", "--to", d / "cases.xlsx"]),
        ("collect", ["collect", d / "calcs", "-o", d / "collected.xlsx", "--quiet"]),
        ("upgrade", ["upgrade", d / "calcs", "--spec", tmp / "fleet-routing-v1.1.yaml",
                     "--quiet"]),
        ("batch into a new folder", ["batch", SPEC, "--customers", tmp / "one.csv", "--out",
                                     d / "out", "--quiet"]),
        ("batch over a calculator", ["batch", SPEC, "--customers", tmp / "one.csv", "--out",
                                     d / "calcs", "--quiet", "--force"]),
    ]]


def _full(path, kept=False):
    return (f"Error: {path}: not written: No space left on device (ENOSPC); "
            f"{'the file is as it was' if kept else 'nothing was written'}\n")


def _refused(command, argument, option, path, folder):
    return (f"Usage: cvp-xl {command} [OPTIONS] {argument}\nTry 'cvp-xl {command} --help' for "
            f"help.\n\nError: Invalid value for {option}: {path}: the folder {folder} cannot be "
            "written to\n")


def _batch_full(d, out, kept):
    kept_text = "the file is as it was" if kept else "nothing was written"
    return (f"{d.parent}/one.csv: 1 row (UTF-8, comma-separated)\n"
            f"Error: {out}/summary.csv: not written: No space left on device (ENOSPC); "
            f"{kept_text}\n"
            f"Error: {out}: the run stopped: C-0000.xlsx: not written: No space left on device "
            f"(ENOSPC); {kept_text}\n"
            "Written (0, each whole):\n"
            "Not written (1; run the command again when there is room):\n"
            f"  customer 'C-0000': C-0000.xlsx: not written: No space left on device (ENOSPC); "
            f"{kept_text}\n")


def expected_full(d: Path) -> dict[str, str]:
    """What each command says on a full disk (every message names the file and the error)."""
    return {
        "recalc in place": _full(d / "book.xlsx", kept=True),
        "recalc -o": _full(d / "out.xlsx"),
        "share in place": _full(d / "book.xlsx", kept=True),
        "add-functions in place": _full(d / "book.xlsx", kept=True),
        "functions --workbook": _full(d / "lib.xlsx"),
        "build": _full(d / "calc.xlsx"),
        "customers": _full(d / "t.csv"),
        "research": _full(d / "new.yaml"),
        "track": _full(d / "tracker.xlsx", kept=True),
        "cases": _full(d / "cases.xlsx"),
        "collect": _full(d / "collected.xlsx"),
        "upgrade": "C-0000.xlsx: not written: No space left on device (ENOSPC); the file is as "
                   f"it was\nError: {d}/calcs: the upgrade stopped: C-0000.xlsx: not written: No "
                   "space left on device (ENOSPC); the file is as it was; 0 files upgraded, 1 "
                   "not (every file is whole; run the command again when there is room)\n",
        "batch into a new folder": _batch_full(d, d / "out", kept=False),
        "batch over a calculator": _batch_full(d, d / "calcs", kept=True),
    }


def expected_read_only(d: Path) -> dict[str, str]:
    """What each command says in a read-only folder: most refuse before any work."""
    out = "'-o' / '--output'"
    return {
        "recalc in place": _refused("recalc", "BOOK", "BOOK", d / "book.xlsx", d),
        "recalc -o": _refused("recalc", "BOOK", out, d / "out.xlsx", d),
        "share in place": _refused("share", "BOOK", "BOOK", d / "book.xlsx", d),
        "add-functions in place": _refused("add-functions", "BOOK", "BOOK", d / "book.xlsx", d),
        "functions --workbook": _refused("functions", "[NAME]", out, d / "lib.xlsx", d),
        "build": _refused("build", "SPEC", out, d / "calc.xlsx", d),
        "customers": _refused("customers", "SPEC", out, d / "t.csv", d),
        "research": _refused("research", "FINDINGS", out, d / "new.yaml", d),
        "track": f"Error: {d}/tracker.xlsx: not written: Read-only file system (EROFS); the "
                 "file is as it was\n",
        "cases": _refused("cases", "[TRACKER]", "'--to'", d / "cases.xlsx", d),
        "collect": _refused("collect", "FOLDER", out, d / "collected.xlsx", d),
        "upgrade": _refused("upgrade", "FOLDER", "FOLDER", d / "calcs", d / "calcs"),
        "batch into a new folder": _refused("batch", "SPEC", "'--out'", d / "out", d),
        "batch over a calculator": _refused("batch", "SPEC", "'--out'", d / "calcs",
                                            d / "calcs"),
    }


@pytest.fixture()
def workspace(spec, tmp_path) -> Path:
    """``work/``: a workbook, a tracker and a folder with one calculator; beside it the
    inputs (one customer's row, version 1.1 of the spec)."""
    work = tmp_path / "work"
    work.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["B1"] = 200_000, 50_000, "=CVP_ROI(A1,A2)"
    wb.save(work / "book.xlsx")
    tracker_module.build(work / "tracker.xlsx")
    table_for(spec, 1).to_csv(tmp_path / "one.csv", index=False)
    assert run("batch", SPEC, "--customers", tmp_path / "one.csv", "--out", work / "calcs",
               "--quiet").exit_code == 0
    v2(tmp_path)
    return work


def _check_every_command(results, names, expected):
    for name, result in zip(names, results):
        assert not result["crashed"], (name, result["stderr"])
        assert (result["code"], result["stderr"]) == (2, expected[name]), name
        assert result["changed"] == [], (name, result["changed"])  # nothing changed, nothing new


def test_a_failed_rename_in_every_writing_command(workspace, monkeypatch):
    # fault injection: every rename fails as on a full disk
    def full(src, dst, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    names, commands = zip(*writing_commands(workspace, workspace.parent))
    runner: dict = {"__name__": "runner"}
    exec(RUNNER, runner)
    monkeypatch.setattr(os, "replace", full)
    results = runner["run_all"](workspace, list(commands))
    monkeypatch.undo()
    _check_every_command(results, names, expected_full(workspace))


def _in_own_mounts(script: str) -> subprocess.CompletedProcess:
    """Run a shell script in a mount namespace of its own (its mounts vanish with it)."""
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True,
                          text=True, timeout=600)


requires_mounts = pytest.mark.skipif(
    shutil.which("unshare") is None
    or _in_own_mounts("mount -t tmpfs -o size=16k tmpfs /mnt").returncode != 0,
    reason="needs `unshare --mount` and mount (root in a container, as CI runs): a real full "
           "disk and a real read-only folder")


@requires_mounts
@pytest.mark.parametrize("fault", ["a full disk", "a read-only folder"])
def test_every_writing_command_on(workspace, fault):
    names, commands = zip(*writing_commands(workspace, workspace.parent))
    saved = workspace.parent / "saved"
    shutil.copytree(workspace, saved)
    if fault == "a full disk":  # a 1 MiB file system holding the files, then filled up
        setup = (f"mount -t tmpfs -o size=1m tmpfs {workspace} && cp -a {saved}/. {workspace}/ "
                 f"&& (dd if=/dev/zero of={workspace}/fill bs=4k; "
                 f"dd if=/dev/zero of={workspace}/fill2 bs=512; true) 2>/dev/null")
        expected = expected_full(workspace)
    else:  # a read-only bind mount: root may not write there either
        setup = (f"mount --bind {workspace} {workspace} && "
                 f"mount -o remount,ro,bind {workspace}")
        expected = expected_read_only(workspace)
    done = _in_own_mounts(f"{setup} && {sys.executable} -c '{RUNNER}' {workspace} "
                          f"'{json.dumps(list(commands))}'")
    assert done.returncode == 0, done.stderr
    _check_every_command(json.loads(done.stdout), names, expected)
    assert snapshot(workspace) == snapshot(saved)  # and outside the namespace, as it was


# -- refused before any work -------------------------------------------------------------------

REFUSED = [
    # (name, arguments given the folder d, the message after the usage lines ("" for none))
    ("recalc -o into a missing folder", lambda d: ["recalc", d / "book.xlsx", "-o",
                                                   d / "no" / "out.xlsx"],
     lambda d: f"Invalid value for '-o' / '--output': {d}/no/out.xlsx: the folder {d}/no does "
               "not exist"),
    ("share -o into a missing folder", lambda d: ["share", d / "book.xlsx", "-o",
                                                  d / "no" / "out.xlsx"],
     lambda d: f"Invalid value for '-o' / '--output': {d}/no/out.xlsx: the folder {d}/no does "
               "not exist"),
    ("customers -o into a missing folder", lambda d: ["customers", SPEC, "-o", d / "no" / "t.csv"],
     lambda d: f"Invalid value for '-o' / '--output': {d}/no/t.csv: the folder {d}/no does not "
               "exist"),
    ("customers SPEC -o SPEC", lambda d: ["customers", d / "spec.yaml", "-o", d / "spec.yaml"],
     lambda d: f"Invalid value for '-o' / '--output': {d}/spec.yaml: is SPEC itself "
               f"({d}/spec.yaml); write the result to another file"),
    ("research -o into a missing folder",
     lambda d: ["research", FINDINGS, "--spec", RESEARCH_SPEC, "-o", d / "no" / "new.yaml"],
     lambda d: f"Invalid value for '-o' / '--output': {d}/no/new.yaml: the folder {d}/no does "
               "not exist"),
    ("collect -o into a missing folder",
     lambda d: ["collect", d / "calcs", "-o", d / "no" / "r.xlsx", "--quiet"],
     lambda d: f"Invalid value for '-o' / '--output': {d}/no/r.xlsx: the folder {d}/no does not "
               "exist"),
    ("cases --to into a missing folder",
     lambda d: ["cases", d / "tracker.xlsx", "--to", d / "no" / "cases.xlsx"],
     lambda d: f"Invalid value for '--to': {d}/no/cases.xlsx: the folder {d}/no does not exist"),
    ("cases --to the tracker", lambda d: ["cases", d / "tracker.xlsx", "--to", d / "tracker.xlsx"],
     lambda d: f"Invalid value for '--to': {d}/tracker.xlsx: is TRACKER itself "
               f"({d}/tracker.xlsx); write the result to another file"),
    ("batch with an empty table",
     lambda d: ["batch", SPEC, "--customers", d / "empty.csv", "--out", d / "out"],
     lambda d: f"{d}/empty.csv: not a readable CSV file (no header line)"),
    ("track with an empty CSV", lambda d: ["track", d / "tracker.xlsx", "--add", d / "empty.csv"],
     lambda d: f"{d}/empty.csv: cannot be read as a UTF-8 CSV file (no header line)"),
    ("research with empty findings",
     lambda d: ["research", d / "empty.csv", "--spec", RESEARCH_SPEC, "-o", d / "new.yaml"],
     lambda d: f"{d}/empty.csv: cannot be read as a CSV file (no header line)"),
    ("build with an empty SPEC", lambda d: ["build", ""],  # found by the fuzz test
     lambda d: "Invalid value for SPEC: '.': expected a spec file (.yaml)"),
    ("pdf with an empty BOOK", lambda d: ["pdf", ""],
     lambda d: "Invalid value for BOOK: '.': expected a workbook (.xlsx)"),
    ("an argument holding NUL", lambda d: ["recalc", f"{d}/book.xlsx\x00.txt"],
     lambda d: f"'{d}/book.xlsx\\x00.txt': an argument cannot hold the character NUL (\\x00)"),
]


@pytest.mark.parametrize("name, args, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_before_any_work(workspace, name, args, message):
    d = workspace
    shutil.copy(SPEC, d / "spec.yaml")
    (d / "empty.csv").write_bytes(b"")
    before = snapshot(d)
    result = CliRunner().invoke(main, [str(a) for a in args(d)], prog_name="cvp-xl")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stderr.endswith(f"Error: {message(d)}\n"), result.stderr
    assert result.stderr.startswith("Usage: ") == ("Invalid value" in message(d)
                                                   or "NUL" in message(d))
    assert snapshot(d) == before and sorted(p.name for p in d.iterdir()) == [
        "book.xlsx", "calcs", "empty.csv", "spec.yaml", "tracker.xlsx"]
