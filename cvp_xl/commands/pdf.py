"""``cvp-xl pdf BOOK.xlsx [-o OUT.pdf] [--sheets Summary,...]``: a workbook as a PDF.

LibreOffice prints the workbook headlessly, each sheet with the page setup the workbook
carries (the calculator's: one page wide, A4 or Letter, header rows repeated).  The PDF shows
the values the file holds (LibreOffice does not recompute on load), so it is the same
document the customer sees in Excel.

``--sheets`` prints the named sheets only, in the workbook's order: the others are hidden in a
private copy (the workbook itself is not touched).  Hidden sheets of the workbook are never
printed, nor are the calculator's template digests.

The file is checked before LibreOffice sees it (:func:`~cvp_xl.xlsx.safety.check_xlsx`) and
the PDF is written whole or not at all (:func:`~cvp_xl.xlsx.atomic.atomic_path`).  Several
workbooks can go through one LibreOffice run (:func:`export_pdfs`), since starting
LibreOffice costs a second or two.

Each PDF records, in its document information (an incremental update with pypdf), the
SHA-256 of the workbook's bytes and the sheets it shows, so :func:`shows` tells whether a PDF
still matches its workbook; :func:`pdfs_beside` (``cvp-xl batch --pdf``) prints only the
workbooks whose PDF does not.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as DefusedET

from cvp_xl.errors import CvpXlError, WorkbookError
from cvp_xl.hosts.libreoffice import SOFFICE_ENV, find_soffice
from cvp_xl.xlsx.atomic import atomic_path
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["export_pdf", "export_pdfs", "pdfs_beside", "shows", "drop_stale", "require_soffice",
           "PdfJob", "PdfReport", "PdfError", "workbook_sheets", "INSTALL_HINT", "SOURCE_KEY",
           "SHEETS_KEY"]

#: What the message says when LibreOffice is missing.
INSTALL_HINT = (
    "LibreOffice is needed to make a PDF and was not found. Install it (Debian or Ubuntu: "
    "sudo apt-get install libreoffice-calc-nogui; macOS: brew install --cask libreoffice; "
    f"Windows: the installer from libreoffice.org), or set {SOFFICE_ENV} to its soffice "
    "program.")
#: The PDF's document-information keys that record the workbook it shows: the SHA-256 of the
#: workbook's bytes, and the sheets printed (their names joined by ", ").
SOURCE_KEY, SHEETS_KEY = "/CvpXlWorkbook", "/CvpXlSheets"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_WORKBOOK = "xl/workbook.xml"


class PdfError(CvpXlError):
    """A PDF that cannot be made: LibreOffice missing or failing, a sheet that is not there."""


@dataclass(frozen=True)
class PdfJob:
    """One workbook to print: where it is, where its PDF goes, which sheets (None: all)."""

    book: Path
    out: Path
    sheets: tuple[str, ...] | None = None


def workbook_sheets(path: str | os.PathLike) -> list[tuple[str, str]]:
    """``(name, state)`` of every sheet, in order (``visible``, ``hidden`` or ``veryHidden``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            root = DefusedET.fromstring(archive.read(_WORKBOOK))
    except (KeyError, zipfile.BadZipFile, DefusedET.ParseError) as exc:
        raise WorkbookError(f"{path}: cannot read its list of sheets ({exc})") from None
    sheets = root.find(f"{_MAIN}sheets")
    return [(s.get("name", ""), s.get("state", "visible"))
            for s in (sheets if sheets is not None else [])]


def _chosen(path: Path, sheets: tuple[str, ...] | None) -> list[str]:
    """The sheets to print, in the workbook's order; a name that is not there is refused."""
    present = workbook_sheets(path)
    visible = [name for name, state in present if state == "visible"]
    if sheets is None:
        return visible
    by_key = {name.casefold(): name for name, _ in present}
    chosen = set()
    for name in sheets:
        found = by_key.get(name.strip().casefold())
        if found is None or found not in visible:
            what = "is hidden" if found is not None else "is not a sheet of it"
            raise PdfError(f"--sheets: '{name.strip()}' {what} ({path}); its sheets are "
                           f"{', '.join(visible)}")
        chosen.add(found)
    return [name for name in visible if name in chosen]


def _copy_showing(src: Path, dst: Path, keep: list[str]) -> None:
    """A copy of the workbook in which only the sheets ``keep`` are visible; every other
    part copied byte for byte."""
    with zipfile.ZipFile(src) as archive:
        text = archive.read(_WORKBOOK).decode("utf-8")
        names = [n for n, _ in workbook_sheets(src)]

        order = iter(names)  # the k-th <sheet> element is the k-th sheet

        def sheet_tag(match: re.Match) -> str:
            tag = match.group(0)
            if next(order, None) in keep:
                return tag
            tag = re.sub(r'\sstate="[^"]*"', "", tag)
            return re.sub(r"^<((?:\w+:)?sheet)\s", r'<\1 state="hidden" ', tag)

        text = re.sub(r"<(?:\w+:)?sheet\s[^>]*>", sheet_tag, text)
        hidden = {str(k) for k, name in enumerate(names) if name not in keep}

        def print_name(match: re.Match) -> str:
            # LibreOffice prints a hidden sheet that has a print area: drop the hidden
            # sheets' print areas and titles
            sheet = re.search(r'\blocalSheetId="(\d+)"', match.group(1))
            return "" if sheet is not None and sheet.group(1) in hidden else match.group(0)

        text = re.sub(r'<((?:\w+:)?definedName\s[^>]*name="_xlnm\.Print_(?:Area|Titles)"[^>]*)>'
                      r".*?</(?:\w+:)?definedName>", print_name, text, flags=re.S)
        first = names.index(keep[0])
        text = re.sub(r'\bactiveTab="\d+"', f'activeTab="{first}"', text)
        text = re.sub(r'\bfirstSheet="\d+"', f'firstSheet="{first}"', text)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                data = text.encode("utf-8") if info.filename == _WORKBOOK else \
                    archive.read(info)
                out.writestr(info, data)


def export_pdf(book: str | os.PathLike, out: str | os.PathLike | None = None,
               sheets: tuple[str, ...] | list[str] | None = None, *,
               timeout: float = 300) -> Path:
    """Print a workbook to a PDF with LibreOffice; return the PDF's path.

    Parameters
    ----------
    book : path-like
        The .xlsx workbook.
    out : path-like, optional
        The PDF (default: the workbook's name with ``.pdf``, next to it).  Its folder must
        exist; it must not be the workbook.
    sheets : sequence of str, optional
        The sheets to print (names as in the workbook, case ignored), in the workbook's order.
    timeout : float, optional
        Seconds LibreOffice may take.

    Raises
    ------
    PdfError
        LibreOffice is missing (the message says how to install it) or fails; a sheet named
        in ``sheets`` is not a visible sheet of the workbook; the output cannot be written.
    cvp_xl.errors.WorkbookError
        The workbook is refused (missing, not an xlsx, hostile).
    """
    book = Path(book)
    job = PdfJob(book, Path(out) if out is not None else book.with_suffix(".pdf"),
                 tuple(sheets) if sheets else None)
    return export_pdfs([job], timeout=timeout)[0]


def export_pdfs(jobs: list[PdfJob], *, timeout: float = 300) -> list[Path]:
    """Print several workbooks in one LibreOffice run (see :func:`export_pdf`).

    Every workbook is checked before LibreOffice starts.  The first workbook that could not
    be printed raises :class:`PdfError`; the PDFs of the others are written (each whole).
    """
    soffice = require_soffice()
    plans = [(job, _plan(job)) for job in jobs]
    outcomes = _convert(soffice, plans, timeout)
    failed = next((o for o in outcomes if not isinstance(o, Path)), None)
    if failed is not None:
        raise PdfError(failed)
    return outcomes


def require_soffice() -> str:
    """LibreOffice's ``soffice`` program; :class:`PdfError` saying how to install it if missing."""
    soffice = find_soffice()
    if soffice is None:
        raise PdfError(INSTALL_HINT)
    return soffice


def _plan(job: PdfJob) -> list[str]:
    """Check one job before LibreOffice sees it; return the sheets to print."""
    check_xlsx(job.book)
    if job.out.resolve() == job.book.resolve():
        raise PdfError(f"{job.out}: the PDF would overwrite the workbook")
    folder = job.out.parent
    if not folder.is_dir():
        raise PdfError(f"{job.out}: cannot write it: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise PdfError(f"{job.out}: cannot write it: the folder {folder} is not writable")
    keep = _chosen(job.book, job.sheets)
    if not keep:
        raise PdfError(f"{job.book}: no visible sheet to print")
    return keep


def _convert(soffice: str, plans: list[tuple[PdfJob, list[str]]],
             timeout: float) -> list[Path | str]:
    """Print the planned workbooks in one LibreOffice run; per job, the PDF written or why not.

    Each PDF records the SHA-256 of the workbook's bytes and the sheets it shows
    (:data:`SOURCE_KEY`, :data:`SHEETS_KEY`), so that :func:`shows` can tell later whether
    it still matches the workbook.
    """
    from cvp_xl.hosts.libreoffice import _run, _tail  # one way to run and stop soffice

    with tempfile.TemporaryDirectory(prefix="cvp_xl_pdf_") as tmp:
        work, made = Path(tmp) / "in", Path(tmp) / "out"
        work.mkdir()
        copies: list[Path | str] = []
        digests = []
        for k, (job, keep) in enumerate(plans):
            # the bytes read once: the PDF records the digest of the bytes it shows
            source, copy = work / f"source{k}.xlsx", work / f"book{k}.xlsx"
            try:
                data = job.book.read_bytes()
                source.write_bytes(data)
                _copy_showing(source, copy, keep)
            except (OSError, zipfile.BadZipFile, CvpXlError) as exc:
                copies.append(f"{job.book}: cannot read it ({exc})")
                digests.append(None)
                continue
            copies.append(copy)
            digests.append(hashlib.sha256(data).hexdigest())
        books = [c for c in copies if isinstance(c, Path)]
        profile = Path(tmp) / "profile"
        (profile / "user").mkdir(parents=True)
        command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                   "--norestore", "--nologo", "--nolockcheck", "--calc", "--convert-to",
                   "pdf:calc_pdf_Export", "--outdir", str(made), *map(str, books)]
        code, stdout, stderr = 0, "", ""
        try:
            if books:
                code, stdout, stderr = _run(command, timeout, len(books))
        except RuntimeError as exc:
            return [c if isinstance(c, str) else str(exc) for c in copies]
        if code != 0:
            why = f"LibreOffice exited with code {code}: {_tail(stderr or stdout)}"
            return [c if isinstance(c, str) else why for c in copies]
        outcomes: list[Path | str] = []
        for (job, keep), copy, digest in zip(plans, copies, digests):
            if isinstance(copy, str):
                outcomes.append(copy)
                continue
            pdf = made / (copy.stem + ".pdf")
            if not pdf.is_file():
                outcomes.append(f"{job.book}: LibreOffice made no PDF of it: "
                                f"{_tail(stderr or stdout)}")
                continue
            try:
                with atomic_path(job.out) as target:
                    _stamp(pdf, target, {SOURCE_KEY: digest, SHEETS_KEY: ", ".join(keep)})
            except OSError as exc:
                outcomes.append(f"{job.out}: cannot write it: {exc.strerror or exc}")
                continue
            except PdfError as exc:
                outcomes.append(str(exc))
                continue
            outcomes.append(job.out)
    return outcomes


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp(pdf: Path, target: Path, record: dict[str, str]) -> None:
    """Copy LibreOffice's PDF to ``target`` with ``record`` added to its document information
    (an incremental update: LibreOffice's bytes stay as they are)."""
    import pypdf

    try:
        writer = pypdf.PdfWriter(pdf, incremental=True)
        writer.add_metadata(record)
        with open(target, "wb") as f:
            writer.write(f)
    except pypdf.errors.PyPdfError as exc:
        raise PdfError(f"{target.name}: LibreOffice made a PDF that cannot be read "
                       f"({exc})") from None


def _record(pdf: Path) -> dict[str, str]:
    """What a PDF made here records of its workbook; empty for any other file."""
    import pypdf

    try:
        info = pypdf.PdfReader(pdf).metadata or {}
        return {k: str(info[k]) for k in (SOURCE_KEY, SHEETS_KEY) if k in info}
    except (OSError, pypdf.errors.PyPdfError, ValueError, KeyError):
        return {}


def shows(pdf: str | os.PathLike, book: str | os.PathLike) -> bool:
    """Whether ``pdf`` was made here from exactly the bytes of ``book``, all its sheets shown.

    Parameters
    ----------
    pdf, book : path-like
        A PDF and the workbook it should show.

    Returns
    -------
    bool
        False when the PDF is missing, unreadable, not made by cvp-xl, made of another
        version of the workbook or of only some of its sheets.
    """
    pdf, book = Path(pdf), Path(book)
    if not pdf.is_file() or not book.is_file():
        return False
    record = _record(pdf)
    if record.get(SOURCE_KEY) != _sha256(book):
        return False
    try:
        visible = [name for name, state in workbook_sheets(book) if state == "visible"]
    except CvpXlError:
        return False
    return record.get(SHEETS_KEY) == ", ".join(visible)


@dataclass
class PdfReport:
    """What :func:`pdfs_beside` did: PDFs written, PDFs that already matched their workbook,
    and ``(workbook, why)`` for each workbook that has no matching PDF now."""

    written: list[Path] = field(default_factory=list)
    current: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def pdfs_beside(books: list[Path], *, chunk_size: int = 50, workers: int = 1,
                progress: Callable[[int], None] | None = None) -> PdfReport:
    """Print each workbook to a PDF next to it (same name, ``.pdf``), every sheet it shows.

    A PDF that already shows the workbook's exact bytes (:func:`shows`) is left as it is, so
    a rerun prints only what changed; any other PDF of that name is replaced.  The workbooks
    go through LibreOffice ``chunk_size`` at a time (one start of LibreOffice per chunk),
    ``workers`` chunks at once.  A workbook that cannot be printed is listed with the reason
    and the others go on; a PDF made here from an earlier version of it is removed then, so
    that no PDF shows other numbers than the workbook next to it.  The reasons do not repeat
    the workbook's path (they may name the PDF's).

    Parameters
    ----------
    books : list of Path
        The workbooks.
    chunk_size : int, optional
        Workbooks per LibreOffice run.
    workers : int, optional
        LibreOffice runs at once (each with its own profile).
    progress : callable, optional
        Called with the number of workbooks done (printed, current or failed).

    Returns
    -------
    PdfReport

    Raises
    ------
    PdfError
        LibreOffice is missing (the message says how to install it), before any work.
    """
    soffice = require_soffice()
    report, plans = PdfReport(), []
    for book in books:
        out = book.with_suffix(".pdf")
        if shows(out, book):
            report.current.append(out)
            continue
        try:
            plans.append((PdfJob(book, out), _plan(PdfJob(book, out))))
        except CvpXlError as exc:
            report.failed.append((book, str(exc).removeprefix(f"{book}: ")))
    if progress:  # also when none is done yet: the printing starts
        progress(len(books) - len(plans))
    chunks = [plans[i:i + chunk_size] for i in range(0, len(plans), chunk_size)]

    def run(chunk):
        # LibreOffice starts in a few seconds and prints a calculator in well under one
        return chunk, _convert(soffice, chunk, timeout=120 + 10 * len(chunk))

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for chunk, outcomes in pool.map(run, chunks):
            for (job, _), outcome in zip(chunk, outcomes):
                if isinstance(outcome, Path):
                    report.written.append(outcome)
                else:
                    report.failed.append((job.book, outcome.removeprefix(f"{job.book}: ")))
            if progress:
                progress(len(chunk))
    for n, (book, why) in enumerate(report.failed):
        if drop_stale(book):
            report.failed[n] = (book, f"{why}; the PDF of an earlier version of it was "
                                      f"removed")
    report.written.sort()
    report.failed.sort()
    return report


def drop_stale(book: Path) -> bool:
    """Remove the PDF next to ``book`` if cvp-xl made it from other bytes; True if removed.

    A PDF without cvp-xl's record (one the user made) is never removed.
    """
    pdf = book.with_suffix(".pdf")
    if not pdf.is_file() or SOURCE_KEY not in _record(pdf) or shows(pdf, book):
        return False
    try:
        pdf.unlink()
    except OSError:
        return False
    return True
