"""The writer discipline (`cvp_xl.xlsx.atomic`): temporary files named for their process and
cleaned only when it is gone, unique folders, locks with a clear refusal, destinations checked
before any work, OS errors as messages, and worker pools that die with their parent."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cvp_xl.errors import WorkbookError
from cvp_xl.xlsx import atomic
from cvp_xl.xlsx.atomic import (
    atomic_path,
    clean_temporaries,
    copy_atomic,
    locked,
    new_folder,
    not_written,
    output_problem,
    scratch_path,
    temporary_owner,
)


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _ended_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


# -- temporary files ---------------------------------------------------------------------------


def test_a_temporary_file_is_named_for_its_destination_and_process(tmp_path):
    dst = tmp_path / "C-0001.xlsx"
    with atomic_path(dst) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".C-0001.xlsx.")
        assert tmp.name.endswith(".tmp.xlsx") and temporary_owner(tmp.name) == os.getpid()
        assert os.fspath(tmp) in atomic._IN_PROGRESS  # what a stopped worker removes
        tmp.write_bytes(b"whole")
    assert dst.read_bytes() == b"whole" and _hidden(tmp_path) == []
    assert atomic._IN_PROGRESS == set()


def test_a_scratch_file_is_removed_whatever_happens(tmp_path):
    with pytest.raises(OSError), scratch_path(tmp_path / "out.xlsx") as tmp:
        tmp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")
    with scratch_path(tmp_path / "out.xlsx") as tmp:
        tmp.write_bytes(b"a step before the final write")
    assert list(tmp_path.iterdir()) == [] and atomic._IN_PROGRESS == set()


def test_only_the_temporaries_of_processes_that_are_gone_are_removed(tmp_path):
    gone, here, parent = _ended_pid(), os.getpid(), os.getppid()
    names = {
        f".C-0001.xlsx.{gone}.0f3a9c1e.tmp.xlsx": "removed",   # its process ended: a leftover
        f".summary.csv.{gone}.9b8c7d6e.tmp.csv": "removed",
        f".C-0002.xlsx.{here}.0f3a9c1e.tmp.xlsx": "kept",      # ours: we remove our own
        f".C-0003.xlsx.{parent}.0f3a9c1e.tmp.xlsx": "kept",    # a command running now
        ".C-0004.xlsx.notes": "kept",                          # someone else's hidden file
        "C-0005.xlsx": "kept",
    }
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = clean_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(n for n, v in names.items()
                                                     if v == "removed")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n, v in names.items() if v == "kept")


def test_cleaning_for_one_destination_leaves_the_others(tmp_path):
    gone = _ended_pid()
    mine = f".book.xlsx.{gone}.0f3a9c1e.tmp.xlsx"
    nested = f"..book.xlsx.{gone}.0f3a9c1e.tmp.xlsx.{gone}.9b8c7d6e.tmp.xlsx"  # share's
    other = f".other.xlsx.{gone}.0f3a9c1e.tmp.xlsx"
    for name in (mine, nested, other):
        (tmp_path / name).write_bytes(b"x")
    clean_temporaries(tmp_path, ["book.xlsx"])
    assert _hidden(tmp_path) == [other]


def test_a_copy_is_whole_or_absent(tmp_path, monkeypatch):
    src = tmp_path / "old.xlsx"
    src.write_bytes(b"the customer's file")
    backup = new_folder(tmp_path / "previous-20250101-120000")
    assert copy_atomic(src, backup / "old.xlsx").read_bytes() == b"the customer's file"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError):
        copy_atomic(src, backup / "again.xlsx")
    assert sorted(p.name for p in backup.iterdir()) == ["old.xlsx"]


def test_new_folders_never_share_a_name(tmp_path):
    # two upgrades in the same second: mkdir is the test, so the second gets its own
    stamp = tmp_path / "previous-20250101-120000"
    made = [new_folder(stamp) for _ in range(3)]
    assert [p.name for p in made] == ["previous-20250101-120000", "previous-20250101-120000-2",
                                      "previous-20250101-120000-3"]


# -- locks -------------------------------------------------------------------------------------


def test_a_second_writer_of_a_file_is_refused_after_waiting(tmp_path):
    path = tmp_path / "cases.xlsx"
    with locked(path):
        with pytest.raises(WorkbookError) as refused, locked(path, wait=0.1):
            pass
    assert str(refused.value) == (f"{path}: another cvp-xl command is writing it (waited 0.1 s "
                                  "for .cases.xlsx.lock); nothing was written, try again when "
                                  "it has finished")
    assert list(tmp_path.iterdir()) == []  # the lock file goes with the lock


def test_a_second_command_in_a_folder_is_refused_after_waiting(tmp_path):
    with locked(tmp_path, folder=True) as real:
        assert real == tmp_path.resolve() and _hidden(tmp_path) == [".cvp-xl.lock"]
        with pytest.raises(WorkbookError) as refused, locked(tmp_path, wait=0.1, folder=True):
            pass
    assert str(refused.value) == (f"{tmp_path}: another cvp-xl command is writing in it (waited "
                                  "0.1 s for .cvp-xl.lock); nothing was written, try again when "
                                  "it has finished")
    with locked(tmp_path, wait=0.1, folder=True):  # free again
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_lock_that_cannot_be_made_is_an_os_error_message(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(WorkbookError) as refused, locked(missing / "cases.xlsx"):
        pass
    assert str(refused.value) == (f"{missing / 'cases.xlsx'}: not written: No such file or "
                                  "directory (ENOENT); nothing was written")


# -- the destination, before any work ----------------------------------------------------------


def test_destinations_refused_before_any_work(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: x\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(spec)
    os.link(spec, tmp_path / "hard.csv")
    (tmp_path / "notes.txt").write_text("notes", encoding="utf-8")
    inputs = {"SPEC": spec}
    cases = {
        spec: "is SPEC itself ({spec}); write the result to another file",
        tmp_path / "link.csv": "is SPEC itself ({spec}); write the result to another file",
        tmp_path / "hard.csv": "is SPEC itself ({spec}); write the result to another file",
        tmp_path / "no" / "t.csv": "the folder {tmp}/no does not exist",
        tmp_path / "notes.txt" / "t.csv": "{tmp}/notes.txt is not a folder",
        tmp_path: "is a folder; give a file name",
        tmp_path / "t.csv": None,
    }
    for output, message in cases.items():
        expected = message and message.format(spec=spec, tmp=tmp_path)
        assert output_problem(output, inputs) == expected, output
    assert output_problem(tmp_path / "t.csv", suffix=".xlsx") == (
        "the file written is an .xlsx file; give a name that ends in .xlsx")


def test_not_written_says_what_happened_to_the_file():
    exc = OSError(errno.EROFS, os.strerror(errno.EROFS))
    assert str(not_written("out.xlsx", exc, existed=False)) == (
        "out.xlsx: not written: Read-only file system (EROFS); nothing was written")
    assert str(not_written("out.xlsx", exc)) == (
        "out.xlsx: not written: Read-only file system (EROFS); the file is as it was")


def _in_own_mounts(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True,
                          text=True, timeout=120)


requires_mounts = pytest.mark.skipif(
    shutil.which("unshare") is None
    or _in_own_mounts("mount -t tmpfs -o size=16k tmpfs /mnt").returncode != 0,
    reason="needs `unshare --mount` and mount (root in a container, as CI runs): a real "
           "read-only folder")


@requires_mounts
def test_a_real_read_only_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"earlier")
    check = ("from cvp_xl.xlsx.atomic import output_problem, folder_problem; import sys; "
             "print(output_problem(sys.argv[1])); print(folder_problem(sys.argv[2], True))")
    done = _in_own_mounts(
        f"mount --bind {tmp_path} {tmp_path} && mount -o remount,ro,bind {tmp_path} && "
        f"{sys.executable} -c '{check}' {tmp_path}/t.csv {tmp_path}/new/deeper")
    assert done.stdout == (f"the folder {tmp_path} cannot be written to\n"
                           f"the folder {tmp_path} cannot be written to\n"), done.stderr


# -- workers that die with their parent --------------------------------------------------------

POOL = r"""
import os, sys, time
from pathlib import Path
from cvp_xl.xlsx.atomic import atomic_path, worker_pool

out = Path(sys.argv[1])

def slow(name):
    with atomic_path(out / name) as tmp:
        tmp.write_bytes(b"half")
        (out / f"started-{os.getpid()}").touch()
        time.sleep(300)  # the parent is killed meanwhile
    return name

if __name__ == "__main__":
    with worker_pool(2) as pool:
        futures = [pool.submit(slow, f"C-{k}.xlsx") for k in range(2)]
        if sys.argv[2] == "raise":
            while not (out / "stop").exists():  # the test says when
                time.sleep(0.01)
            raise SystemExit("the parent stops")
        [f.result() for f in futures]
"""


def _wait_for(predicate, limit=60.0) -> bool:
    """Poll ``predicate`` until true or ``limit`` seconds (a bound for a slow machine, not a
    measurement)."""
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


@pytest.mark.parametrize("how", ["kill -9 of the parent", "the parent's block raises"])
def test_workers_die_with_their_parent_and_remove_their_temporaries(tmp_path, how):
    parent = subprocess.Popen([sys.executable, "-c", POOL, str(tmp_path),
                               "raise" if "raises" in how else "wait"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert _wait_for(lambda: len(list(tmp_path.glob("started-*"))) == 2)
    workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("started-*")]
    assert len(_hidden(tmp_path)) == 2  # each worker is writing its temporary file
    if "kill" in how:
        parent.kill()
    else:
        (tmp_path / "stop").touch()
    parent.communicate(timeout=60)
    assert _wait_for(lambda: all(_gone(pid) for pid in workers)), "a worker outlived its parent"
    assert _hidden(tmp_path) == []  # each removed its own temporary file on the way out
    assert not list(tmp_path.glob("C-*.xlsx"))  # and nothing half-written took a real name
    assert parent.returncode == (-signal.SIGKILL if "kill" in how else 1)


def test_a_worker_stopped_by_sigterm_removes_what_it_was_writing(tmp_path):
    # the pool is then broken: the executor ends the other worker too (SIGTERM), and each
    # removes the temporary file it was writing
    parent = subprocess.Popen([sys.executable, "-c", POOL, str(tmp_path), "wait"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: len(list(tmp_path.glob("started-*"))) == 2)
        workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("started-*")]
        os.kill(workers[0], signal.SIGTERM)
        assert _wait_for(lambda: all(_gone(pid) for pid in workers))
        assert _hidden(tmp_path) == []
    finally:
        parent.kill()
        parent.communicate(timeout=60)
