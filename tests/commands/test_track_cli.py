"""`cvp-xl track --add` and `cvp-xl cases`: appends that keep every earlier cell, refusals
that change nothing, case histories from verified entries; two writers at once, kill -9 and
OS errors that lose nothing and leave no copies behind."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cvp_xl.commands.cli import main
from cvp_xl.workbooks import tracker as tracker_module
from cvp_xl.workbooks.case_table import read_cases
from cvp_xl.workbooks.tracker import (
    EXAMPLES,
    FIRST_ROW,
    SHEET,
    build_example_workbooks,
    locked,
    read_tracker,
)

HEADER = "customer,period,period end,promised,documented,verified by\n"
Q3 = (HEADER + "Northwind Plastics,2025-Q3,2025-09-30,21000,20500,\"Plant manager\"\n"
      "contoso foods,2025-Q3,2025-09-30,4000,,\n")


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    return build_example_workbooks(tmp_path_factory.mktemp("tracker_cli"))[0]


@pytest.fixture
def tracker(tmp_path, example):
    path = tmp_path / "tracker.xlsx"
    shutil.copy(example, path)
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _cells(path, max_row):
    """Every cell of the Tracker sheet up to max_row: formulas and cached values."""
    out = {}
    for data_only in (False, True):
        ws = openpyxl.load_workbook(path, data_only=data_only)[SHEET]
        for row in ws.iter_rows(min_row=1, max_row=max_row, max_col=12):
            for c in row:
                out[(data_only, c.coordinate)] = c.value
    return out


def test_add_twice_keeps_every_earlier_cell(tracker, tmp_path):
    before = _cells(tracker, FIRST_ROW + 8)
    result = run("track", tracker, "--add", EXAMPLES / "2025-Q2.csv")
    assert result.exit_code == 0, result.output
    assert result.output == f"{tracker}: 4 entries added (2025-Q2); recalculated\n"
    middle = _cells(tracker, FIRST_ROW + 12)
    assert {k: v for k, v in middle.items() if int(k[1][1:]) <= FIRST_ROW + 8} == before
    q3 = tmp_path / "q3.csv"
    q3.write_text(Q3, encoding="utf-8")
    result = run("track", tracker, "--add", q3)
    assert result.exit_code == 0, result.output
    after = _cells(tracker, FIRST_ROW + 14)
    assert {k: v for k, v in after.items() if int(k[1][1:]) <= FIRST_ROW + 12} == middle
    ws = openpyxl.load_workbook(tracker, data_only=True)[SHEET]
    last = FIRST_ROW + 14
    assert ws[f"A{last}"].value == "Contoso Foods"  # the Customers sheet's spelling
    assert ws[f"I{last}"].value == 2_600 + 3_900  # cumulative documented, Q3 blank
    assert ws[f"J{last}"].value == "open"


def _refused(tracker, csv_text, tmp_path, expected_lines):
    csv = tmp_path / "period.csv"
    csv.write_text(csv_text, encoding="utf-8")
    before = tracker.read_bytes()
    result = run("track", tracker, "--add", csv)
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"Error: {csv}: {len(expected_lines)} problem{'s' * (len(expected_lines) != 1)}; "
        "nothing was written:", *(f"  {line}" for line in expected_lines)]
    assert tracker.read_bytes() == before
    assert sorted(p.name for p in tracker.parent.iterdir() if p.name.startswith(".")) == []


def test_duplicate_in_the_file_is_refused_and_nothing_changes(tracker, tmp_path):
    _refused(tracker, HEADER + "Fabrikam Metals,2025-Q1,2025-03-31,8500,7900,\n", tmp_path, [
        "line 2, column 'period': Fabrikam Metals, 2025-Q1 is already in the tracker (row 16); "
        "edit that row instead of adding it again"])


def test_duplicate_within_the_csv_is_refused(tracker, tmp_path):
    _refused(tracker, HEADER + "Tailspin Logistics,2025-Q2,2025-06-30,5000,4100,\n"
             "TAILSPIN LOGISTICS,2025-q2,2025-06-30,5000,4200,\n", tmp_path, [
                 "line 3, column 'period': Tailspin Logistics, 2025-q2 appears twice in the "
                 "file (first on line 2)"])


@pytest.mark.parametrize("rows,expected", [
    ("Umbrella Corp,2025-Q2,2025-06-30,100,90,\n",
     ["line 2, column 'customer': 'Umbrella Corp' is not on the Customers sheet; add the "
      "customer there first"]),
    ("Contoso Foods,2025-Q2,30/06/2025,4000,about 4k,Quality lead\n"
     ",2025-Q2,2025-06-30,-5,,Someone\n",
     ["line 2, column 'period end': expected a date (YYYY-MM-DD), got '30/06/2025'",
      "line 2, column 'documented': expected a number or a blank cell, got 'about 4k'",
      "line 3, column 'customer': expected a customer name, got an empty text",
      "line 3, column 'promised': expected a promised value of 0 or more, got -5",
      "line 3, column 'verified by': 'Someone' verified a value, but there is no documented "
      "value"]),
    ("Contoso Foods,2025-Q2,2025-06-29,4000,3900,\n"
     "Fabrikam Metals,2025-Q2,2025-06-30,8500,8000,\n",
     ["line 3, column 'period end': period '2025-Q2' ends on 2025-06-29 on line 2, not "
      "2025-06-30"]),
    ("Northwind Plastics,2024-Q2,2024-06-30,21000,20000,\n",
     ["line 2, column 'period end': Northwind Plastics already has 2025-Q1 ending 2025-03-31; "
      "periods are added in time order, so this one must end later"]),
])
def test_bad_lines_are_all_listed(tracker, tmp_path, rows, expected):
    _refused(tracker, HEADER + rows, tmp_path, expected)


def test_bad_csv_and_refused_files(tracker, tmp_path):
    csv = tmp_path / "wrong.csv"
    csv.write_text("customer,quarter\nA,1\n", encoding="utf-8")
    result = run("track", tracker, "--add", csv)
    assert result.exit_code == 2
    assert result.output.splitlines()[1:] == [
        "  line 1, column 'period': missing from the header line",
        "  line 1, column 'period end': missing from the header line",
        "  line 1, column 'promised': missing from the header line",
        "  line 1, column 'documented': missing from the header line",
        "  line 1, column 'verified by': missing from the header line",
        "  line 1, column 'quarter': not a tracker column (expected: customer, period, "
        "period end, promised, documented, verified by)"]
    missing = run("track", tmp_path / "nope.xlsx", "--add", csv)
    assert (missing.exit_code, missing.output) == (2, f"Error: {tmp_path / 'nope.xlsx'}: "
                                                      "no such file\n")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook", encoding="utf-8")
    result = run("track", fake, "--add", csv)
    assert (result.exit_code, result.output) == (
        2, f"Error: {fake}: not an .xlsx file (not a zip archive)\n")
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    result = run("track", other, "--add", csv)
    assert result.exit_code == 2
    assert "not a value tracker" in result.output and "Traceback" not in result.output
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_bytes(b"\xff\xfe\x00garbage")
    result = run("track", tracker, "--add", bad_csv)
    assert result.exit_code == 2 and "cannot be read as a UTF-8 CSV file" in result.output


def test_cases_from_verified_entries(tracker, tmp_path):
    cases = tmp_path / "cases.xlsx"
    result = run("cases", tracker, "--to", cases)
    assert result.exit_code == 0, result.output
    assert result.output == (f"{cases}: 4 case histories added from {tracker} (0 already "
                             "there); 4 in all\n")
    got = read_cases(cases)
    first = got.iloc[0]
    assert first["customer"] == "Northwind Plastics" and first["period"] == "2024-Q3"
    assert first["documented value per year"] == 18_500 * 4  # 4 periods per year
    assert first["category"] == "technical" and first["currency"] == "EUR"
    assert str(first["date"].date()) == "2024-09-30"
    assert first["verified by"] == "Plant manager, Northwind Plastics"
    assert first["before"] != first["before"]  # NaN: the tracker has no physical figures
    again = run("cases", tracker, "--to", cases)
    assert again.output == (f"{cases}: no new verified entries in {tracker} (4 already "
                            "there); not written\n")
    run("track", tracker, "--add", EXAMPLES / "2025-Q2.csv")
    more = run("cases", tracker, "--to", cases)
    assert more.output == (f"{cases}: 3 case histories added from {tracker} (4 already "
                           "there); 7 in all\n")
    assert read_cases(cases).iloc[:4].equals(got)
    wb = openpyxl.load_workbook(cases)
    assert "Summary" in wb.sheetnames and "Case 7" in wb.sheetnames


def test_cases_refuses_a_customer_without_category(tracker, tmp_path):
    wb = openpyxl.load_workbook(tracker)
    wb["Customers"]["F3"] = "financial"  # Contoso Foods
    wb.save(tracker)
    cases = tmp_path / "cases.xlsx"
    result = run("cases", tracker, "--to", cases)
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"Error: {tracker}: 1 problem in the case-history table:",
        "  Customers row 3, column 'category': expected one of technical, economic, service, "
        "social for Contoso Foods, got 'financial'"]
    assert not cases.exists()


# -- one writer at a time; kills and faults leave the tracker whole and no copies behind --------

Q2_FIRST = (HEADER + "Northwind Plastics,2025-Q2,2025-06-30,21000,23100,\n"
            "Contoso Foods,2025-Q2,2025-06-30,4000,3900,\n")
Q2_SECOND = (HEADER + "Fabrikam Metals,2025-Q2,2025-06-30,8500,8200,\n"
             "Tailspin Logistics,2025-Q2,2025-06-30,5000,4100,\n")


def _start(*args) -> subprocess.Popen:
    """`cvp-xl ARGS` in a process of its own."""
    return subprocess.Popen([sys.executable, "-m", "cvp_xl.commands.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _periods(tracker) -> list[tuple[str, str]]:
    entries = read_tracker(tracker).entries
    return sorted(zip(entries["customer"], entries["period"]))


def test_two_adds_at_once_both_land(tracker, tmp_path):
    # without the lock both read the same tracker and the second rename drops the first's rows
    before = _periods(tracker)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(Q2_FIRST, encoding="utf-8")
    second.write_text(Q2_SECOND, encoding="utf-8")
    procs = [_start("track", tracker, "--add", csv) for csv in (first, second)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert [out for out, _ in outputs] == [
        f"{tracker}: 2 entries added (2025-Q2); recalculated\n"] * 2
    added = [(c, "2025-Q2") for c in ("Contoso Foods", "Fabrikam Metals", "Northwind Plastics",
                                      "Tailspin Logistics")]
    assert _periods(tracker) == sorted(before + added)
    assert _hidden(tmp_path) == []


def test_a_writer_that_keeps_the_lock_refuses_the_second(tracker, tmp_path, monkeypatch):
    monkeypatch.setattr(tracker_module, "LOCK_WAIT", 0.2)
    before = tracker.read_bytes()
    with locked(tracker):
        result = run("track", tracker, "--add", EXAMPLES / "2025-Q2.csv")
    assert result.exit_code == 2
    assert result.output == (f"Error: {tracker}: another cvp-xl command is writing it (waited "
                             "0.2 s for .tracker.xlsx.lock); nothing was written, try again "
                             "when it has finished\n")
    assert tracker.read_bytes() == before
    assert _hidden(tmp_path) == []


def test_temporaries_of_a_run_that_is_gone_are_removed_by_the_next(tracker, tmp_path):
    dead = _start("--version")
    dead.communicate()
    pid = dead.pid  # a process that has ended
    left = [f".tracker.xlsx.{pid}.cvp-track.xlsx",  # the staging copy
            f"..tracker.xlsx.{pid}.cvp-track.k2j4h1sd.xlsx",  # what Book.save writes first
            f"..tracker.xlsx.{pid}.cvp-track.xlsx.a8f3kq0z.tmp.xlsx"]  # and atomic_path
    kept = [f".other.xlsx.{pid}.cvp-track.xlsx", ".tracker.xlsx.notes"]  # not this tracker's
    for name in left + kept:
        shutil.copy(tracker, tmp_path / name)  # full hidden copies, as a kill leaves them
    result = run("track", tracker, "--add", EXAMPLES / "2025-Q2.csv")
    assert result.exit_code == 0, result.output
    assert _hidden(tmp_path) == sorted(kept)


def test_kill_9_while_writing_then_a_rerun(tracker, tmp_path):
    before = tracker.read_bytes()
    proc = _start("track", tracker, "--add", EXAMPLES / "2025-Q2.csv")
    seen = []
    while proc.poll() is None and not seen:
        seen = [n for n in _hidden(tmp_path) if ".cvp-track." in n]
        if seen:
            os.kill(proc.pid, signal.SIGKILL)
        time.sleep(0.002)
    proc.communicate(timeout=120)
    assert seen and proc.returncode == -signal.SIGKILL  # killed while a temporary existed
    untouched = tracker.read_bytes() == before  # else the kill came after the rename
    rerun = run("track", tracker, "--add", EXAMPLES / "2025-Q2.csv")
    if untouched:
        assert rerun.exit_code == 0, rerun.output
    else:
        assert rerun.exit_code == 2 and "already in the tracker" in rerun.output
    q2 = [p for p in _periods(tracker) if p[1] == "2025-Q2"]
    assert len(q2) == 4 and len(set(q2)) == 4  # every entry there, once
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["disk-full", "read-only"])
@pytest.mark.parametrize("which", ["first", "last"])
def test_an_os_error_while_writing_names_the_tracker(tracker, tmp_path, monkeypatch, code,
                                                     which):
    # fault injection: the first rename (the staging copy, written whole) or the last (over
    # the tracker) fails as on a full disk or a read-only file system
    real_replace = os.replace

    def failing(src, dst, *args, **kwargs):
        if which == "first" or os.fspath(dst) == os.fspath(tracker):
            raise OSError(code, os.strerror(code))
        return real_replace(src, dst, *args, **kwargs)

    before = tracker.read_bytes()
    monkeypatch.setattr(os, "replace", failing)
    result = run("track", tracker, "--add", EXAMPLES / "2025-Q2.csv")
    monkeypatch.undo()
    assert result.exit_code == 2
    assert result.output == (f"Error: {tracker}: not written: {os.strerror(code)} "
                             f"({errno.errorcode[code]}); the file is as it was\n")
    assert tracker.read_bytes() == before
    assert _hidden(tmp_path) == []


def _in_own_mounts(script: str) -> subprocess.CompletedProcess:
    """Run a shell script in a mount namespace of its own (its mounts vanish with it)."""
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True,
                          text=True, timeout=300)


requires_mounts = pytest.mark.skipif(
    shutil.which("unshare") is None
    or _in_own_mounts("mount -t tmpfs -o size=16k tmpfs /mnt").returncode != 0,
    reason="needs `unshare --mount` and mount (root in a container, as CI runs): a real full "
           "disk and a real read-only folder")
CLI = Path(sys.executable).parent / "cvp-xl"


@requires_mounts
@pytest.mark.parametrize("size", ["20k", "28k"])
def test_a_real_full_disk(tracker, tmp_path, size):
    # the 11.5 KB tracker fits a 20 or 28 KiB tmpfs; its new version and the temporaries do not
    disk = tmp_path / "disk"
    disk.mkdir()
    done = _in_own_mounts(
        f"mount -t tmpfs -o size={size} tmpfs {disk} && cp {tracker} {disk}/tracker.xlsx && "
        f"{CLI} track {disk}/tracker.xlsx --add {EXAMPLES / '2025-Q2.csv'}; echo \"exit $?\"; "
        f"cmp {tracker} {disk}/tracker.xlsx && echo same; ls -A {disk}")
    assert done.stderr == (f"Error: {disk}/tracker.xlsx: not written: No space left on device "
                           "(ENOSPC); the file is as it was\n")
    assert done.stdout.split() == ["exit", "2", "same", "tracker.xlsx"]


@requires_mounts
def test_a_real_read_only_folder(tracker, tmp_path):
    before = tracker.read_bytes()
    done = _in_own_mounts(
        f"mount --bind {tmp_path} {tmp_path} && mount -o remount,ro,bind {tmp_path} && "
        f"{CLI} track {tracker} --add {EXAMPLES / '2025-Q2.csv'}; echo \"exit $?\"")
    assert done.stderr == (f"Error: {tracker}: not written: Read-only file system (EROFS); the "
                           "file is as it was\n")
    assert done.stdout == "exit 2\n"
    assert tracker.read_bytes() == before and _hidden(tmp_path) == []
