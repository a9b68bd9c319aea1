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
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as DefusedET

from cvp_xl.errors import CvpXlError, WorkbookError
from cvp_xl.hosts.libreoffice import SOFFICE_ENV, find_soffice
from cvp_xl.xlsx.atomic import atomic_path
from cvp_xl.xlsx.safety import check_xlsx

__all__ = ["export_pdf", "export_pdfs", "PdfJob", "PdfError", "workbook_sheets",
           "INSTALL_HINT"]

#: What the message says when LibreOffice is missing.
INSTALL_HINT = (
    "LibreOffice is needed to make a PDF and was not found. Install it (Debian or Ubuntu: "
    "sudo apt-get install libreoffice-calc-nogui; macOS: brew install --cask libreoffice; "
    f"Windows: the installer from libreoffice.org), or set {SOFFICE_ENV} to its soffice "
    "program.")
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
    """Print several workbooks in one LibreOffice run (see :func:`export_pdf`)."""
    soffice = find_soffice()
    if soffice is None:
        raise PdfError(INSTALL_HINT)
    plans = []
    for job in jobs:
        check_xlsx(job.book)
        if job.out.resolve() == job.book.resolve():
            raise PdfError(f"{job.out}: the PDF would overwrite the workbook")
        folder = job.out.parent
        if not folder.is_dir():
            raise PdfError(f"{job.out}: cannot write it: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise PdfError(f"{job.out}: cannot write it: the folder {folder} is not writable")
        plans.append((job, _chosen(job.book, job.sheets)))
    from cvp_xl.hosts.libreoffice import _run, _tail  # one way to run and stop soffice

    with tempfile.TemporaryDirectory(prefix="cvp_xl_pdf_") as tmp:
        work, made = Path(tmp) / "in", Path(tmp) / "out"
        work.mkdir()
        copies = []
        for k, (job, keep) in enumerate(plans):
            if not keep:
                raise PdfError(f"{job.book}: no visible sheet to print")
            copy = work / f"book{k}.xlsx"
            _copy_showing(job.book, copy, keep)
            copies.append(copy)
        profile = Path(tmp) / "profile"
        (profile / "user").mkdir(parents=True)
        command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                   "--norestore", "--nologo", "--nolockcheck", "--calc", "--convert-to",
                   "pdf:calc_pdf_Export", "--outdir", str(made), *map(str, copies)]
        try:
            code, stdout, stderr = _run(command, timeout, len(copies))
        except RuntimeError as exc:
            raise PdfError(str(exc)) from None
        if code != 0:
            raise PdfError(f"LibreOffice exited with code {code}: {_tail(stderr or stdout)}")
        written = []
        for (job, _), copy in zip(plans, copies):
            pdf = made / (copy.stem + ".pdf")
            if not pdf.is_file():
                raise PdfError(f"{job.book}: LibreOffice made no PDF of it: "
                               f"{_tail(stderr or stdout)}")
            try:
                with atomic_path(job.out) as target:
                    shutil.copyfile(pdf, target)
            except OSError as exc:
                raise PdfError(f"{job.out}: cannot write it: {exc.strerror or exc}") from None
            written.append(job.out)
    return written
