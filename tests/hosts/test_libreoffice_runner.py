"""LibreOffice Calc recomputes xlsx workbooks headlessly; we read back what it computed.

Expected values are worked out by hand in the comments; the error codes and the number format
are what LibreOffice 7.4.7.2 (Debian's libreoffice-calc-nogui) writes.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cvp_xl.errors import ErrorValue, WorkbookError, as_error
from cvp_xl.hosts import libreoffice
from cvp_xl.hosts.libreoffice import (
    find_soffice,
    libreoffice_values,
    libreoffice_values_many,
    recalc_with_libreoffice,
)

requires_libreoffice = pytest.mark.skipif(
    find_soffice() is None,
    reason="LibreOffice (soffice) not found; install Debian's libreoffice-calc-nogui",
)
posix_only = pytest.mark.skipif(os.name != "posix", reason="fake soffice is a shell script")

# LibreOffice writes 15 significant digits (=2^0.5 comes back as 1.4142135623731).
REL = 1e-12


def _book(path: Path, cells: dict[str, object], title: str = "Calc") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for ref, value in cells.items():
        sheet[ref] = value
    book.save(path)
    return path


def _inject_cached_value(path: Path, formula: str, cached: str) -> None:
    """Give the cell whose formula is ``formula`` a (wrong) cached value, as a writer might."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                old = f"<f>{formula}</f><v></v>".encode()
                assert old in data, data
                data = data.replace(old, f"<f>{formula}</f><v>{cached}</v>".encode())
            dst.writestr(item, data)
    tmp.replace(path)


def _native(tmp_path: Path) -> Path:
    path = _book(
        tmp_path / "native.xlsx",
        {
            "A1": 2,
            "A2": 3,
            "A3": 10,
            "B1": "=SUM(A1:A3)",  # 2 + 3 + 10 = 15
            "B2": "=A1*A2-A3/4",  # 6 - 2.5 = 3.5
            "B3": '=IF(A1>A2,"more","less")',  # 2 > 3 is false: "less"
            "B4": "=IFERROR(A3/0,-1)",  # 10/0 is #DIV/0!, so -1
            "B5": "=ROUND(A3/3,2)",  # 3.333... to 2 places: 3.33
            "B6": "=NPV(0.1,100,100)",  # 100/1.1 + 100/1.21 = 90.9090... + 82.6446... = 21000/121
            "B7": '=INDEX(E1:E3,MATCH("plus",D1:D3,0))',  # "plus" is row 2 of D1:D3: E2 = 25
            "B8": "=A1<A2",  # 2 < 3: TRUE
            "B9": '="x"&A1',  # text "x2"
            "B10": '=""',  # empty text
            "D1": "basic",
            "D2": "plus",
            "D3": "pro",
            "E1": 10,
            "E2": 25,
            "E3": 40,
        },
    )
    book = openpyxl.load_workbook(path)
    looks_like_error = book["Calc"]["F1"]
    looks_like_error.value = "#N/A"  # openpyxl would store this as the error #N/A ...
    looks_like_error.data_type = "s"  # ... so force text: it must come back as text
    out = book.create_sheet("Out put")  # a sheet name with a blank needs quoting
    out["A1"] = "=Calc!B1*2"  # 15 * 2 = 30
    book.save(path)
    return path


def _wrong_cache(tmp_path: Path) -> Path:
    path = _book(tmp_path / "wrong_cache.xlsx", {"A1": 2, "A2": 3, "A3": "=A1+A2"})
    _inject_cached_value(path, "A1+A2", "999")
    return path


def _errors(tmp_path: Path) -> Path:
    return _book(
        tmp_path / "errors.xlsx",
        {
            "A1": 2,
            "A2": 3,
            "B1": "=A1/0",  # #DIV/0!
            "B2": "=CVP_ROI(A1,A2)",  # a function LibreOffice does not know: #NAME?
            "B3": "=NA()",  # #N/A
            "B4": "=SQRT(-1)",  # Excel: #NUM!; LibreOffice 7.4 writes #VALUE!
        },
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Recalculate the three workbooks above in one LibreOffice run, counting the runs."""
    if find_soffice() is None:
        pytest.skip("LibreOffice (soffice) not found; install Debian's libreoffice-calc-nogui")
    tmp = tmp_path_factory.mktemp("lo_batch")
    paths = [_native(tmp), _wrong_cache(tmp), _errors(tmp)]
    runs = []
    real_popen = subprocess.Popen

    def spy(*args, **kwargs):
        runs.append(args[0])
        return real_popen(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(libreoffice.subprocess, "Popen", spy)
        native, wrong, errors = libreoffice_values_many(paths, tmp / "out")
    return {"native": native, "wrong": wrong, "errors": errors, "runs": runs, "tmp": tmp}


@requires_libreoffice
def test_native_formulas_are_computed(batch):
    got = batch["native"]
    assert got[("Calc", "B1")] == 15
    assert got[("Calc", "B2")] == pytest.approx(3.5, rel=REL)
    assert got[("Calc", "B3")] == "less"
    assert got[("Calc", "B4")] == -1
    assert got[("Calc", "B5")] == pytest.approx(3.33, rel=REL)
    assert got[("Calc", "B6")] == pytest.approx(21000 / 121, rel=REL)
    assert got[("Calc", "B7")] == 25
    assert got[("Calc", "B8")] is True
    assert got[("Calc", "B9")] == "x2"
    assert got[("Calc", "B10")] == ""
    assert got[("Calc", "F1")] == "#N/A"
    assert got[("Out put", "A1")] == 30


@requires_libreoffice
def test_constants_come_back_and_blanks_are_left_out(batch):
    got = batch["native"]
    assert got[("Calc", "A1")] == 2
    assert got[("Calc", "D2")] == "plus"
    assert ("Calc", "C1") not in got
    assert ("Out put", "B1") not in got


@requires_libreoffice
def test_a_wrong_cached_value_is_recomputed(batch):
    wrong = batch["tmp"] / "wrong_cache.xlsx"
    sheet = openpyxl.load_workbook(wrong, data_only=True)["Calc"]
    assert sheet["A3"].value == 999  # the input really claims 999
    assert batch["wrong"][("Calc", "A3")] == 5  # 2 + 3


@requires_libreoffice
def test_error_cells_come_back_as_error_values(batch):
    got = batch["errors"]
    assert got[("Calc", "B1")] == ErrorValue("#DIV/0!")
    assert got[("Calc", "B2")] == ErrorValue("#NAME?")
    assert got[("Calc", "B3")] == ErrorValue("#N/A")
    assert got[("Calc", "B4")] == ErrorValue("#VALUE!")  # LibreOffice 7.4, not Excel's #NUM!


@requires_libreoffice
def test_many_files_take_one_soffice_run(batch):
    assert len(batch["runs"]) == 1
    command = batch["runs"][0]
    assert command.count("--convert-to") == 1
    assert [Path(arg).name for arg in command[-3:]] == [
        "native.xlsx",
        "wrong_cache.xlsx",
        "errors.xlsx",
    ]


@requires_libreoffice
def test_outputs_keep_the_input_order(tmp_path):
    paths = [_book(tmp_path / f"in{i:02d}.xlsx", {"A1": i, "A2": "=A1*A1"}) for i in range(5)]
    outputs = recalc_with_libreoffice(paths, tmp_path / "out")
    assert outputs == [tmp_path / "out" / f"in{i:02d}.xlsx" for i in range(5)]
    values = [libreoffice.read_values(p) for p in outputs]
    assert [v[("Calc", "A2")] for v in values] == [0, 1, 4, 9, 16]


@requires_libreoffice
def test_two_calls_at_once_do_not_clash(tmp_path):
    results: dict[int, object] = {}

    def work(i: int) -> None:
        path = _book(tmp_path / f"c{i}.xlsx", {"A1": i, "A2": "=A1+100"})
        try:
            results[i] = libreoffice_values(path)[("Calc", "A2")]
        except Exception as exc:  # reported below
            results[i] = exc

    threads = [threading.Thread(target=work, args=(i,)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {1: 101, 2: 102}


@requires_libreoffice
def test_a_file_libreoffice_cannot_load_is_named(tmp_path):
    junk = tmp_path / "junk.xlsx"
    with zipfile.ZipFile(junk, "w") as z:  # a zip, but not a workbook
        z.writestr("hello.txt", "hi")
    good = _book(tmp_path / "good.xlsx", {"A1": 1})
    with pytest.raises(WorkbookError, match=r"wrote no recalculated copy of .*junk\.xlsx"):
        recalc_with_libreoffice([good, junk], tmp_path / "out")


def test_a_file_that_is_not_a_zip_is_refused_before_running(tmp_path):
    text = tmp_path / "text.xlsx"
    text.write_text("not a workbook")  # LibreOffice would import this as CSV and "succeed"
    with pytest.raises(WorkbookError, match=r"not an xlsx workbook \(not a zip file\)"):
        recalc_with_libreoffice([text], tmp_path / "out")


def test_inputs_with_the_same_name_are_refused(tmp_path):
    a = _book(_mkdir(tmp_path / "a") / "same.xlsx", {"A1": 1})
    b = _book(_mkdir(tmp_path / "b") / "same.xlsx", {"A1": 2})
    with pytest.raises(ValueError, match="would both be written to"):
        recalc_with_libreoffice([a, b], tmp_path / "out")
    with pytest.raises(ValueError, match="output would overwrite it"):
        recalc_with_libreoffice([a], tmp_path / "a")


def test_no_files_start_no_soffice(tmp_path, monkeypatch):
    monkeypatch.setenv("CVP_XL_SOFFICE", str(tmp_path / "absent"))
    assert recalc_with_libreoffice([], tmp_path / "out") == []


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _fake_soffice(tmp_path: Path, body: str, monkeypatch) -> Path:
    script = tmp_path / "fake-soffice"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    monkeypatch.setenv("CVP_XL_SOFFICE", str(script))
    return script


@posix_only
def test_find_soffice_honours_the_environment(tmp_path, monkeypatch):
    script = _fake_soffice(tmp_path, "exit 0\n", monkeypatch)
    assert find_soffice() == str(script)
    monkeypatch.setenv("CVP_XL_SOFFICE", str(tmp_path / "absent"))
    assert find_soffice() is None


@posix_only
def test_exit_zero_without_output_names_the_input(tmp_path, monkeypatch):
    _fake_soffice(tmp_path, "exit 0\n", monkeypatch)
    path = _book(tmp_path / "lost.xlsx", {"A1": 1})
    with pytest.raises(WorkbookError, match=r"wrote no recalculated copy of .*lost\.xlsx"):
        recalc_with_libreoffice([path], tmp_path / "out")


@posix_only
def test_a_failing_soffice_is_reported(tmp_path, monkeypatch):
    _fake_soffice(tmp_path, "echo 'cannot start' >&2\nexit 3\n", monkeypatch)
    path = _book(tmp_path / "any.xlsx", {"A1": 1})
    with pytest.raises(RuntimeError, match="exited with code 3 converting 1 file.*cannot start"):
        recalc_with_libreoffice([path], tmp_path / "out")


@posix_only
def test_a_hung_soffice_is_killed_with_its_children(tmp_path, monkeypatch):
    pid_file = tmp_path / "child.pid"
    # like soffice, the script starts a child (soffice.bin) and waits for it
    _fake_soffice(tmp_path, f"sleep 300 &\necho $! > '{pid_file}'\nwait\n", monkeypatch)
    path = _book(tmp_path / "slow.xlsx", {"A1": 1})
    with pytest.raises(RuntimeError, match=r"did not finish recalculating 1 file\(s\) within 1 s"):
        recalc_with_libreoffice([path], tmp_path / "out", timeout=1)
    child = int(pid_file.read_text())
    assert not _alive(child)


def _alive(pid: int) -> bool:
    for _ in range(50):  # the orphaned child is reaped by init shortly after the kill
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.1)
    return True


def test_as_error_recognises_the_literals():
    assert as_error("#DIV/0!") == ErrorValue("#DIV/0!")
    assert as_error("#name?") == ErrorValue("#NAME?")
    assert as_error("#SPILL!") is None
    assert as_error(7) is None
    assert str(ErrorValue("#N/A")) == "#N/A"
