"""Write a file whole or not at all.

A batch job that dies half-way through writing a workbook must not leave a truncated file where
the customer's file was.  :func:`atomic_path` hands out a temporary path in the destination's
directory and renames it over the destination only once the writer has finished.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path"]


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
        file system), named ``.<dst name>.<random>.tmp<dst suffix>``.  Write the result there.

    Notes
    -----
    On success the temporary file is flushed to disk (``fsync``), given the permissions of the
    file it replaces (or the usual ``0o666 & ~umask`` for a new file), and moved over `dst` with
    :func:`os.replace`, which is atomic on POSIX and Windows; the directory is then synced where
    the platform allows.  If the block raises (any exception, including ``KeyboardInterrupt``),
    the temporary file is removed and `dst` is left as it was.

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
    with tempfile.NamedTemporaryFile(
        delete=False, dir=directory, prefix=f".{dst.name}.", suffix=f".tmp{dst.suffix}"
    ) as handle:
        tmp = Path(handle.name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.chmod(tmp, _mode_for(dst))
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(directory)


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
