"""LibreOffice Calc as an independent check: recompute xlsx workbooks headlessly.

LibreOffice opens each workbook, recalculates every formula, and saves it again as xlsx; we
then read back the values it computed.  One ``soffice`` process converts a whole batch of
files, since starting LibreOffice costs one to two seconds.

Each call runs LibreOffice with its own throw-away user profile, so calls may run at the same
time, never touch the user's own LibreOffice settings, and always recalculate on load.  By
default LibreOffice trusts the cached values an xlsx file carries ("Recalculation on file load:
never recalculate"), which would hand back whatever the writer of the file claimed; the private
profile sets ``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` (and
``ODFRecalcMode``) to 0, "always recalculate".

What LibreOffice 7.4 writes, as read back by openpyxl: numbers with 15 significant digits
(``=2^0.5`` comes back as 1.4142135623731), so compare with a relative tolerance, not
equality; booleans as ``True``/``False``; error cells with their literal, returned here as
``ErrorValue``; some errors with a different code than Excel gives (``=SQRT(-1)`` and
``=LN(0)`` give ``#VALUE!`` where Excel gives ``#NUM!``; a non-converging ``IRR`` gives
``#N/A``); a formula that returns ``""`` as an empty string; unknown functions such as
``CVP_*`` or ``XLOOKUP`` as ``#NAME?``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import openpyxl

from cvp_xl.errors import ErrorValue, WorkbookError, as_error

__all__ = [
    "find_soffice",
    "libreoffice_values",
    "libreoffice_values_many",
    "read_values",
    "recalc_with_libreoffice",
]

#: Environment variable naming the soffice executable to use instead of the one on PATH.
SOFFICE_ENV = "CVP_XL_SOFFICE"

#: The export filter: xlsx as LibreOffice's "Excel 2007-365" format.
_FILTER = "xlsx:Calc MS Excel 2007 XML"

#: The settings of the private profile: always recalculate xlsx and ods files on load.
_REGISTRY = """\
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

_WELL_KNOWN = (
    "/usr/lib/libreoffice/program/soffice",
    "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
)

Cells = dict[tuple[str, str], object]


def find_soffice() -> str | None:
    """Return the path of LibreOffice's ``soffice`` program, or None when it is not installed.

    The environment variable ``CVP_XL_SOFFICE`` (a path or a command name) takes precedence;
    then ``soffice`` and ``libreoffice`` on ``PATH``; then the usual install locations.

    Returns
    -------
    str or None
        An executable's path; None when none is found (or ``CVP_XL_SOFFICE`` names nothing
        executable).
    """
    override = os.environ.get(SOFFICE_ENV, "").strip()
    if override:
        return shutil.which(override)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in _WELL_KNOWN:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def recalc_with_libreoffice(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    timeout: float = 300,
) -> list[Path]:
    """Recalculate xlsx workbooks in LibreOffice Calc and save them to ``out_dir``.

    All files go through one headless ``soffice`` process::

        soffice -env:UserInstallation=file:///<temp profile> --headless --norestore
                --nologo --nolockcheck --calc
                --convert-to "xlsx:Calc MS Excel 2007 XML" --outdir OUT_DIR FILE ...

    with a fresh private profile that makes LibreOffice recalculate every formula on load.

    Parameters
    ----------
    paths : iterable of path-like, or one path-like
        The xlsx workbooks to recalculate.  Their names (without folder) must differ, since
        each output is ``out_dir / (name.stem + ".xlsx")``.
    out_dir : path-like
        Where the recalculated copies go; created if missing.  Existing files of the same
        names are replaced.  It must not be the folder of an input.
    timeout : float, optional
        Seconds LibreOffice may take for the whole batch before it is killed (default 300).

    Returns
    -------
    list of pathlib.Path
        The recalculated workbooks, in the order of ``paths``.

    Raises
    ------
    FileNotFoundError
        An input does not exist, or LibreOffice is not installed.
    ValueError
        Two inputs share a name, or an output would overwrite its input.
    cvp_xl.errors.WorkbookError
        An input is not an xlsx (zip) file, or LibreOffice wrote no output for it (it could
        not load the file).
    RuntimeError
        LibreOffice failed (non-zero exit) or did not finish within ``timeout`` seconds.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    inputs = [Path(p).resolve() for p in paths]
    out = Path(out_dir).resolve()
    if not inputs:
        return []
    outputs = [out / (p.stem + ".xlsx") for p in inputs]
    _check_inputs(inputs, outputs)
    soffice = find_soffice()
    if soffice is None:
        raise FileNotFoundError(
            "LibreOffice (soffice) not found; install Debian's libreoffice-calc-nogui "
            f"or set {SOFFICE_ENV}"
        )
    out.mkdir(parents=True, exist_ok=True)
    for target in outputs:  # a stale copy must not pass for LibreOffice's output
        target.unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix="cvp_xl_lo_profile_") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nolockcheck",
            "--calc",
            "--convert-to",
            _FILTER,
            "--outdir",
            str(out),
            *map(str, inputs),
        ]
        returncode, stdout, stderr = _run(command, timeout, len(inputs))

    if returncode != 0:
        raise RuntimeError(
            f"LibreOffice exited with code {returncode} converting {len(inputs)} file(s): "
            f"{_tail(stderr or stdout)}"
        )
    missing = [src for src, target in zip(inputs, outputs) if not target.is_file()]
    if missing:
        names = ", ".join(str(p) for p in missing)
        raise WorkbookError(
            f"LibreOffice wrote no recalculated copy of {names} (it could not load the file): "
            f"{_tail(stderr or stdout)}"
        )
    return outputs


def libreoffice_values(
    path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
) -> Cells:
    """Recalculate one workbook in LibreOffice and return the value of every non-empty cell.

    Parameters
    ----------
    path : path-like
        The xlsx workbook.
    out_dir : path-like, optional
        Where to keep LibreOffice's recalculated copy; by default a temporary folder that is
        removed afterwards.

    Returns
    -------
    dict
        ``{(sheet_name, "A1"): value}``: numbers (int or float), str, bool, datetime for
        date-formatted numbers, ``ErrorValue`` for error cells, ``""`` for formulas that
        return empty text.  Blank cells are left out.

    Raises
    ------
    FileNotFoundError, ValueError, cvp_xl.errors.WorkbookError, RuntimeError
        As `recalc_with_libreoffice` raises them.
    """
    return libreoffice_values_many([path], out_dir)[0]


def libreoffice_values_many(
    paths: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str] | None = None
) -> list[Cells]:
    """Recalculate many workbooks in one LibreOffice run and return their cell values.

    Parameters
    ----------
    paths : iterable of path-like
        The xlsx workbooks; their names must differ.
    out_dir : path-like, optional
        Where to keep the recalculated copies; by default a temporary folder.

    Returns
    -------
    list of dict
        For each input, in order, ``{(sheet_name, "A1"): value}`` as in `libreoffice_values`.
    """
    paths = list(paths)
    if out_dir is not None:
        return [read_values(p) for p in recalc_with_libreoffice(paths, out_dir)]
    with tempfile.TemporaryDirectory(prefix="cvp_xl_lo_out_") as tmp:
        return [read_values(p) for p in recalc_with_libreoffice(paths, tmp)]


def read_values(path: str | os.PathLike[str]) -> Cells:
    """Read the cached value of every non-empty cell of an xlsx file.

    Parameters
    ----------
    path : path-like
        An xlsx workbook whose formulas carry cached values (as LibreOffice writes them).

    Returns
    -------
    dict
        ``{(sheet_name, "A1"): value}``, with error cells as ``ErrorValue`` and formulas
        that returned empty text as ``""``.
    """
    values: Cells = {}
    try:
        book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise WorkbookError(f"cannot read {path}: {exc}") from exc
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    value = _cell_value(cell)
                    if value is not None:
                        values[(sheet.title, cell.coordinate)] = value
    finally:
        book.close()
    return values


def _cell_value(cell) -> object:
    kind = getattr(cell, "data_type", None)
    value = cell.value
    if kind == "e" and value is not None:
        return as_error(value) or ErrorValue(str(value))
    if kind == "str" and value is None:  # a formula whose text result is ""
        return ""
    return value


def _check_inputs(inputs: list[Path], outputs: list[Path]) -> None:
    seen: dict[Path, Path] = {}
    for src, target in zip(inputs, outputs):
        if not src.is_file():
            raise FileNotFoundError(f"no such workbook: {src}")
        if not zipfile.is_zipfile(src):
            # LibreOffice would import it as text and "succeed"
            raise WorkbookError(f"not an xlsx workbook (not a zip file): {src}")
        if target == src:
            raise ValueError(f"out_dir is the folder of {src}; the output would overwrite it")
        if target in seen:
            raise ValueError(
                f"{seen[target]} and {src} would both be written to {target}; "
                "rename one or recalculate them in separate calls"
            )
        seen[target] = src


def _run(command: list[str], timeout: float, count: int) -> tuple[int, str, str]:
    """Run soffice in its own process group; kill the whole group on timeout."""
    posix = os.name == "posix"
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=posix,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process, posix)
        _reap(process)
        raise RuntimeError(
            f"LibreOffice did not finish recalculating {count} file(s) within {timeout:g} s "
            f"and was killed (pid {process.pid})"
        ) from None
    except BaseException:
        _kill(process, posix)
        _reap(process)
        raise
    return process.returncode, stdout, stderr


def _kill(process: subprocess.Popen, posix: bool) -> None:
    if posix:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # soffice starts soffice.bin as a child
        except ProcessLookupError:
            pass
    else:
        process.kill()


def _reap(process: subprocess.Popen) -> None:
    try:
        process.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # a child outside the group still holds the pipes
        pass


def _tail(text: str, lines: int = 5) -> str:
    kept = [
        line
        for line in text.strip().splitlines()
        if line.strip() and "javaldx" not in line  # noise from every run without Java
    ]
    return " | ".join(kept[-lines:]) or "(no output)"
