"""Write a file whole or not at all, one writer at a time, and leave nothing behind.

Every command that writes follows one discipline, and its pieces live here:

1. **Check the destination before any work** (:func:`output_problem`, :func:`folder_problem`):
   its folder exists and can be written, it is not one of the command's inputs, a file there
   can be replaced.
2. **One writer at a time** (:func:`locked`): an advisory lock on the file, or on the folder
   a command fills; a second command waits a little (:data:`LOCK_WAIT`) or is refused.
3. **Write beside, sync, rename** (:func:`atomic_path`): the result goes to a temporary file
   in the destination's folder, is synced to disk and renamed over the destination, so the
   destination is whole or as it was.
4. **Temporary files carry their owner's process id** (``.<name>.<pid>.<random>.tmp<suffix>``)
   and are removed by their owner: when its block ends, when it is interrupted (SIGINT,
   SIGTERM) or when a worker's parent dies (:func:`worker_pool`).  What a process killed
   outright (``kill -9``, a power cut) left is removed by the next command writing there
   (:func:`clean_temporaries`), once no process of that id is alive.
5. **An operating-system error becomes a message** (:func:`not_written`): the path, the
   errno's meaning and name, and what happened to the file; the CLI prints it and exits 2.
"""

from __future__ import annotations

import contextlib
import errno as errno_module
import os
import re
import secrets
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from cvp_xl.errors import WorkbookError

__all__ = ["atomic_path", "scratch_path", "copy_atomic", "locked", "LOCK_WAIT", "FOLDER_LOCK",
           "not_written", "release", "output_problem", "folder_problem", "clean_temporaries",
           "temporary_owner", "destination_name", "alive", "new_folder", "worker_pool",
           "stop_workers", "DISK_ERRORS"]

#: How long a command waits for another writer of the same file or folder (seconds).
LOCK_WAIT = 10.0
#: The lock file of a folder a command fills (``batch --out``, ``upgrade``).
FOLDER_LOCK = ".cvp-xl.lock"
#: Errors that concern the destination, not one file: the next file would fail the same way.
DISK_ERRORS = frozenset({errno_module.ENOSPC, errno_module.EROFS, errno_module.EDQUOT,
                         errno_module.EIO})
#: The longest part of a destination's name a temporary file repeats (names stay < 255 bytes).
_NAME_PART = 120
_TEMPORARY = re.compile(r"^\.(?P<name>.*)\.(?P<pid>\d+)\.(?P<token>[0-9a-f]{8})\.tmp"
                        r"(?P<suffix>\.[^.]*)?$", re.DOTALL)
#: The temporary files this process is writing now (removed when it is told to stop).
_IN_PROGRESS: set[str] = set()


# -- temporary files ---------------------------------------------------------------------------


def _new_temporary(dst: Path) -> Path:
    """Create an empty file beside ``dst`` named for ``dst`` and this process, and register it."""
    for _ in range(100):
        name = f".{dst.name[:_NAME_PART]}.{os.getpid()}.{secrets.token_hex(4)}.tmp{dst.suffix}"
        path = dst.parent / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        os.close(fd)
        _IN_PROGRESS.add(os.fspath(path))
        return path
    raise FileExistsError(errno_module.EEXIST, "no free temporary name", os.fspath(dst))


def _drop(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()
    _IN_PROGRESS.discard(os.fspath(tmp))


def temporary_owner(name: str) -> int | None:
    """The process id in the name of a temporary file this module made, else None.

    Examples
    --------
    >>> temporary_owner(".C-0001.xlsx.4242.0f3a9c1e.tmp.xlsx")
    4242
    >>> temporary_owner("C-0001.xlsx") is None
    True
    """
    match = _TEMPORARY.match(name)
    return int(match.group("pid")) if match else None


def destination_name(name: str) -> str:
    """The name of the file a temporary file was made for (the name itself for another file).

    Examples
    --------
    >>> destination_name("..book.xlsx.17.0f3a9c1e.tmp.xlsx.17.9b8c7d6e.tmp.xlsx")
    'book.xlsx'
    """
    match = _TEMPORARY.match(name)
    while match:
        name = match.group("name")
        match = _TEMPORARY.match(name)
    return name


def alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (a zombie counts as alive)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would end the process there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
        code = ctypes.c_ulong()
        try:
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        finally:
            kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def clean_temporaries(folder: str | os.PathLike, names: Iterable[str] | None = None
                      ) -> list[Path]:
    """Remove the temporary files in ``folder`` whose owner is gone; return them.

    Parameters
    ----------
    folder : path-like
        Where to look (not in subfolders).  A folder that cannot be read is left alone.
    names : iterable of str, optional
        Only the temporaries of these destinations (file names in ``folder``); default all.

    Notes
    -----
    A temporary file is removed only when no process with the id in its name is alive: this
    process's own, and those of a command running now, stay.  Files of other programs, and
    temporary files named another way, are never touched.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     gone = pathlib.Path(folder) / ".out.xlsx.999999999.0f3a9c1e.tmp.xlsx"
    ...     _ = gone.write_bytes(b"half a workbook")
    ...     print([p.name for p in clean_temporaries(folder)], gone.exists())
    ['.out.xlsx.999999999.0f3a9c1e.tmp.xlsx'] False
    """
    wanted = None if names is None else {n[:_NAME_PART] for n in names}
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if not match or (wanted is not None and destination_name(entry.name) not in wanted):
            continue
        if alive(int(match.group("pid"))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that replaces `dst` when the ``with`` block succeeds.

    Parameters
    ----------
    dst : str or os.PathLike
        The file to create or replace.  Its directory must exist.  A symbolic link is
        followed: the file it points to is replaced (in its own directory) and the link stays.

    Yields
    ------
    pathlib.Path
        An empty, closed file in the same directory as `dst` (so the final rename stays on one
        file system), named ``.<dst name>.<process id>.<random>.tmp<dst suffix>``.  Write the
        result there.

    Notes
    -----
    On success the temporary file is flushed to disk (``fsync``), given the permissions of the
    file it replaces (or the usual ``0o666 & ~umask`` for a new file), and moved over `dst` with
    :func:`os.replace`, which is atomic on POSIX and Windows; the directory is then synced where
    the platform allows.  If the block raises (any exception, including ``KeyboardInterrupt``),
    the temporary file is removed and `dst` is left as it was.  A worker of
    :func:`worker_pool` stopped by a signal removes it too; one killed outright leaves it for
    :func:`clean_temporaries`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = pathlib.Path(folder) / "out.txt"
    ...     with atomic_path(target) as tmp:
    ...         _ = tmp.write_text("done")
    ...     print(target.read_text(), sorted(p.name for p in target.parent.iterdir()))
    done ['out.txt']
    """
    dst = Path(dst)
    if dst.is_symlink():  # replace the file the link points to, not the link
        dst = Path(os.path.realpath(dst))
    directory = dst.parent
    tmp = _new_temporary(dst)
    try:
        yield tmp
        _fsync_file(tmp)
        os.chmod(tmp, _mode_for(dst))
        os.replace(tmp, dst)
    except BaseException:
        _drop(tmp)
        raise
    _IN_PROGRESS.discard(os.fspath(tmp))
    _fsync_directory(directory)


@contextlib.contextmanager
def scratch_path(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary file beside ``dst`` (named as :func:`atomic_path` names it) for a
    step before the final write; it is removed when the block ends, whatever happens."""
    tmp = _new_temporary(Path(dst))
    try:
        yield tmp
    finally:
        _drop(tmp)


def copy_atomic(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Path:
    """Copy ``src`` to ``dst`` (contents and times) whole or not at all; return ``dst``."""
    with atomic_path(dst) as tmp:
        shutil.copy2(src, tmp)
    return Path(dst)


def new_folder(path: str | os.PathLike[str]) -> Path:
    """Create a folder no one made before: ``path``, else ``path-2``, ``path-3``, ...

    Creating is the test (``mkdir`` fails on a name taken), so two commands in the same
    second never share one.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     first = new_folder(pathlib.Path(folder) / "previous-20250101-120000")
    ...     second = new_folder(pathlib.Path(folder) / "previous-20250101-120000")
    ...     print(first.name, second.name)
    previous-20250101-120000 previous-20250101-120000-2
    """
    path = Path(path)
    target, n = path, 1
    while True:
        try:
            target.mkdir()
            return target
        except FileExistsError:
            n += 1
            target = path.with_name(f"{path.name}-{n}")


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX only; best effort)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _mode_for(dst: Path) -> int:
    """The permission bits the replacement should have."""
    try:
        return dst.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """Return the process umask without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # not thread-safe, but only reached off Linux
    os.umask(mask)
    return mask


# -- the destination, checked before any work --------------------------------------------------


def folder_problem(folder: str | os.PathLike[str], create: bool = False) -> str | None:
    """Why files cannot be written in ``folder``, or None.

    With ``create``, a folder that does not exist yet is fine when the nearest folder above
    it that exists can be written (it will be created).
    """
    folder = Path(folder) if str(folder) else Path(".")
    if not folder.exists():
        if not create:
            return f"the folder {folder} does not exist"
        above = folder.parent
        while not above.exists() and above != above.parent:
            above = above.parent
        if not above.is_dir():
            return f"{above} is not a folder"
        if not os.access(above, os.W_OK | os.X_OK):
            return f"the folder {above} cannot be written to"
        return None
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} cannot be written to"
    return None


def output_problem(output: str | os.PathLike[str], inputs: dict[str, os.PathLike] | None = None,
                   suffix: str | None = None) -> str | None:
    """Why the command should not write ``output``, or None; checked before any work.

    Parameters
    ----------
    output : path-like
        The file the command will create or replace.
    inputs : dict, optional
        The files the command reads, by the name the user knows them by (``{"SPEC": path}``):
        the output may not be one of them, by any path (a symbolic or hard link included).
    suffix : str, optional
        The ending the output must have (``".xlsx"``), case ignored.

    Returns
    -------
    str or None
        ``"is SPEC itself (spec.yaml); write the result to another file"``, ``"the folder
        out does not exist"``, ``"the folder out cannot be written to"``, ``"is read-only; not
        replaced"``, ...
    """
    output = Path(output)
    for name, given in (inputs or {}).items():
        given = Path(given)
        same = given.exists() and output.exists() and os.path.samefile(given, output)
        if same or os.path.realpath(given) == os.path.realpath(output):
            return f"is {name} itself ({given}); write the result to another file"
    if suffix is not None and output.suffix.lower() != suffix:
        return f"the file written is an {suffix} file; give a name that ends in {suffix}"
    if output.is_dir():
        return "is a folder; give a file name"
    real = Path(os.path.realpath(output))
    problem = folder_problem(real.parent if output.is_symlink() else output.parent)
    if problem:
        return problem
    if output.exists() and not os.access(output, os.W_OK):
        return "is read-only; not replaced"
    return None


# -- OS errors as messages ---------------------------------------------------------------------


def not_written(path: str | os.PathLike, exc: OSError, existed: bool = True) -> WorkbookError:
    """An OS error while writing ``path`` as the error the CLI prints (exit 2).

    Examples
    --------
    >>> import errno
    >>> print(not_written("out.xlsx", OSError(errno.ENOSPC, "No space left on device")))
    out.xlsx: not written: No space left on device (ENOSPC); the file is as it was
    """
    code = exc.errno
    meaning = os.strerror(code) if code else str(exc)
    name = f" ({errno_module.errorcode[code]})" if code in errno_module.errorcode else ""
    kept = "the file is as it was" if existed else "nothing was written"
    release(exc)
    return WorkbookError(f"{os.fspath(path)}: not written: {meaning}{name}; {kept}")


def release(exc: BaseException | None) -> None:
    """Free, now and quietly, what a failed read or write left open: on a full disk
    openpyxl's zip archive stays open, and closing it when it is collected fails again and
    prints an "Exception ignored" traceback; a malformed workbook leaves the file it was
    reading open (a ``ResourceWarning`` when it is collected)."""
    import gc
    import traceback
    import warnings

    hook = sys.unraisablehook
    sys.unraisablehook = lambda u: None if isinstance(
        u.exc_value, (OSError, ResourceWarning)) else hook(u)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            while exc is not None:
                traceback.clear_frames(exc.__traceback__)
                exc = exc.__context__
            gc.collect()  # what the frames held in reference cycles
    finally:
        sys.unraisablehook = hook


# -- one writer at a time ----------------------------------------------------------------------


@contextlib.contextmanager
def locked(path: str | os.PathLike, wait: float | None = None, *,
           folder: bool = False) -> Iterator[Path]:
    """Hold the advisory lock of the file (or folder) ``path`` while the ``with`` block runs.

    The lock is ``filelock``'s (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) on
    the file ``.<name>.lock`` beside the file a symbolic link points to, so every path to one
    file shares one lock; a folder's lock is the file :data:`FOLDER_LOCK` in it.  The
    operating system releases it when its holder dies, even by ``kill -9``; on POSIX the lock
    file is removed (while still held) when the block ends.

    Parameters
    ----------
    path : path-like
        The file to guard (it need not exist), or with ``folder`` the folder (it must exist).
    wait : float, optional
        Seconds to wait for another holder; default :data:`LOCK_WAIT`.
    folder : bool
        Guard a folder a command fills rather than one file.

    Yields
    ------
    pathlib.Path
        The file or folder guarded, symbolic links resolved.

    Raises
    ------
    cvp_xl.errors.WorkbookError
        Another holder kept the lock for ``wait`` seconds, or the lock file cannot be made
        (a read-only folder, a full disk, ...).
    """
    from filelock import FileLock, Timeout

    wait = LOCK_WAIT if wait is None else wait
    real = Path(os.path.realpath(path))
    lock_path = real / FOLDER_LOCK if folder else real.parent / f".{real.name}.lock"
    if not lock_path.parent.is_dir():  # filelock would make the folders
        missing = OSError(errno_module.ENOENT, os.strerror(errno_module.ENOENT))
        raise not_written(path, missing, existed=False)
    lock = FileLock(lock_path, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        what = "writing in it" if folder else "writing it"
        raise WorkbookError(f"{os.fspath(path)}: another cvp-xl command is {what} (waited "
                            f"{wait:g} s for {lock_path.name}); nothing was written, try again "
                            "when it has finished") from None
    except OSError as exc:
        raise not_written(path, exc, existed=os.path.exists(path)) from None
    try:
        yield real
    finally:
        if os.name == "posix":  # removed while held: a waiter on this inode tries again
            with contextlib.suppress(OSError):
                lock_path.unlink()
        lock.release()


# -- workers that die with their parent --------------------------------------------------------


def _stop_now(signum=signal.SIGTERM, frame=None) -> None:
    """Remove this process's temporaries in progress and end it at once."""
    for name in list(_IN_PROGRESS):
        with contextlib.suppress(OSError):
            os.unlink(name)
    os._exit(128 + int(signum))


def _watch_parent(parent: int) -> None:
    """End this worker when its parent is gone (where no parent-death signal exists)."""
    while True:
        if os.getppid() != parent:
            _stop_now()
        threading.Event().wait(0.25)


def _worker_start(parent: int) -> None:
    """Runs first in every worker: the parent decides on Ctrl-C; SIGTERM, or the parent's
    death, removes the temporaries in progress and ends the worker."""
    _IN_PROGRESS.clear()  # a forked worker inherits the parent's list
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_now)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the signal was asked for
        _stop_now()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="cvp-xl-parent-watch").start()


def stop_workers(executor, timeout: float = 5.0) -> None:
    """Cancel what has not started and end the workers of a ``ProcessPoolExecutor`` now:
    SIGTERM (each removes its temporaries in progress), then SIGKILL after ``timeout``."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join(timeout)


@contextlib.contextmanager
def worker_pool(jobs: int) -> Iterator[object | None]:
    """A ``ProcessPoolExecutor`` of ``jobs`` workers that never outlive the command (None for
    one job: the work runs in this process).

    Each worker ends when its parent ends, however it ends (``kill -9`` included:
    ``PR_SET_PDEATHSIG`` on Linux, a thread watching the parent elsewhere), removing the
    temporary files it was writing.  When the block raises (an error, Ctrl-C, SIGTERM turned
    into ``KeyboardInterrupt``), the work not started is cancelled and the workers are
    stopped at once; otherwise they finish and the pool is shut down.
    """
    if jobs <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(jobs, initializer=_worker_start, initargs=(os.getpid(),))
    try:
        yield executor
    except BaseException:
        stop_workers(executor)
        raise
    executor.shutdown()
