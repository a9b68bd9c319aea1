"""Recompute a calculator cvp-xl built by its own model, not by a spreadsheet engine.

A calculator that comes back from a customer names its spec (the About sheet carries the
spec's text and digest) and its template version, and carries the record of its template
(:mod:`cvp_xl.workbooks.calculator.digests`).  When

- its template version is this cvp-xl's and its spec text matches its digest,
- its template record is there and is the one its document property names,
- every input and price is valid (a number, in its allowed range: what the sheet's checks
  say "ok" to; ``cvp-xl check``'s input checks), and
- rebuilt from its spec with the customer's entries (inputs, prices, scenario, name: the
  rules of :func:`cvp_xl.commands.carry.plan`), its template is the file's: every formula
  of either is the other's, in the same cell (compared as ``cvp-xl check`` compares them,
  :func:`~cvp_xl.workbooks.calculator.digests.normalise_formula`, so a file Excel or
  LibreOffice saved is recognised), every protected value of the template is in the file
  (the customer's name may have changed), every entry the rebuild was given is the file's
  in the same cell (the cell the formulas read: values pasted into a sheet that looks like
  the Inputs sheet are not taken for its entries), and whatever else the file holds is no
  formula (a note in a free cell, a sheet of notes; number formats are not compared),

the value of every formula cell is the one the builder computes for the rebuilt workbook
with the vectorised Python model (``Book.values``): the value the file's own formulas give
for its entries.  Any other workbook, or a calculator edited beyond its entries, is left to
the general engine; :attr:`ByModel.why` says why.  So are entries that would lay the
calculator out otherwise than it was built (the Sensitivity rows are ordered by the swings of
the figures it was built with, the Low case takes the ends those figures made it take): the
builder lays out a workbook from the entries it is given, so such a rebuild is another
template, and the file's own formulas are computed by the engine.

What calculators of one spec share is kept, never what decides whether a file passes: the
spec on the About sheet is parsed once per process (:func:`~cvp_xl.workbooks.calculator.spec.
parse_spec` keeps the last specs by the sha256 of their text), and the file is read by the
streaming reader (``read_calculator(..., cells_only=True)``: its values and formulas, not its
styles); every file is compared with the template rebuilt from its own entries.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from cvp_xl.errors import CvpXlError

__all__ = ["ByModel", "calculator_values"]

#: The most uncompressed bytes a file computed here may have (a calculator has a few hundred
#: thousand); a larger one goes to the engine's path, which reads it within its limits.
_LARGEST = 32 << 20


@dataclass
class ByModel:
    """Every formula cell's value (``{(sheet, "A1"): value}``), or None and why not."""

    values: dict | None
    why: str = ""
    cells: int = 0  # the non-empty cells of the file


def _refuse(why: str) -> ByModel:
    return ByModel(None, why)


def calculator_values(path: str | os.PathLike, *, checked: bool = False) -> ByModel:
    """The values of every formula cell of the calculator at ``path``, by its model.

    Nothing is written.  See the module for when a file is computed here; ``why`` says why
    it is not (the general engine computes it then).

    Parameters
    ----------
    path : str or os.PathLike
        The workbook.
    checked : bool
        True when the caller has just passed ``path`` through
        :func:`~cvp_xl.xlsx.safety.check_xlsx` (as :func:`cvp_xl.commands.recalc.compute`
        does): it is not checked again.  False (the default): it is checked here, before
        anything reads it; a file the check refuses is not computed here (``why`` gives the
        check's message).
    """
    from cvp_xl.workbooks.calculator import builder, check, digests
    from cvp_xl.xlsx.safety import check_xlsx

    from .carry import plan
    from .entered import read_calculator, read_properties

    path = Path(path)
    if not checked:
        try:
            check_xlsx(path)
        except CvpXlError as exc:
            return _refuse(f"not a cvp-xl calculator ({exc})")
    if digests.DIGEST_PROPERTY not in read_properties(path):  # cheap: no workbook opened
        return _refuse(f"it carries no document property '{digests.DIGEST_PROPERTY}'")
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(i.file_size for i in archive.infolist())
    except (OSError, zipfile.BadZipFile) as exc:
        return _refuse(f"it cannot be read as a zip file ({exc})")
    if size > _LARGEST:  # the engine's path reads a large file with its limits
        return _refuse(f"{size:,} bytes of XML, more than a calculator has")
    try:
        calc = read_calculator(path, cells_only=True, checked=True)  # checked above
    except CvpXlError as exc:
        return _refuse(f"not a cvp-xl calculator ({exc})")
    if calc.spec is None:
        return _refuse(f"its spec is unknown ({calc.spec_problem})")
    if calc.template_version != builder.TEMPLATE_VERSION:
        return _refuse(f"built with template {calc.template_version!r}; this cvp-xl builds "
                       f"{builder.TEMPLATE_VERSION!r}")
    if calc.spec_digest != calc.spec.digest:
        return _refuse("the spec on its About sheet does not match its digest")
    record = digests.read_record(calc.wb)
    if record is None:
        return _refuse(f"it carries no template record (sheet '{digests.DIGEST_SHEET}')")
    if calc.properties.get(digests.DIGEST_PROPERTY) != digests.record_digest(record):
        return _refuse("its template record was edited")
    invalid = [p for p in check._inputs(calc.wb) if p.kind != "order"]  # noqa: SLF001
    if invalid:
        return _refuse(f"an input is not valid ({invalid[0]})")
    p = plan(calc, calc.spec, person=False)
    if p.blockers:
        return _refuse("; ".join(p.blockers))
    try:
        built_at = dt.datetime.strptime(str(record.build.get("built_at")),
                                        builder.BUILT_FORMAT)
    except ValueError:
        return _refuse("its template record has no build time")
    about = check._about(calc.wb)  # noqa: SLF001 - the About sheet by label, as check reads it
    spec = replace(p.spec, path=str(about.get("Spec") or p.spec.path))
    book, _ = builder._workbook(spec, p.given, p.scenario, built_at,  # noqa: SLF001
                                p.customer or None, None, None, p.carried or None)
    why = _not_the_template(calc, book.wb)
    if why:
        return _refuse(f"it is not its template rebuilt with its entries ({why})")
    values, cells = {}, 0
    for ws in calc.wb.worksheets:
        for cell in digests.cells(ws):
            cells += cell.value is not None
            if digests.formula_text(cell) is not None:
                values[(ws.title, cell.coordinate)] = book.values[(ws.title, cell.coordinate)]
    return ByModel(values, cells=cells)


def _entries(ws) -> dict:
    """``{ref: (formula text or None, cell)}`` of a sheet's cells that hold something."""
    from cvp_xl.workbooks.calculator import digests

    out = {}
    for cell in digests.cells(ws):
        formula = digests.formula_text(cell)
        if formula is None and (cell.value is None or cell.value == ""):
            continue
        out[cell.coordinate] = (formula, cell)
    return out


def _same_formula(a: str, b: str) -> bool:
    """The same formula (as saved by openpyxl, or rewritten by Excel or LibreOffice)."""
    from cvp_xl.workbooks.calculator import digests

    # the template's formulas come back in every file of a spec: their normal forms are kept
    return a == b or digests.normalised(a) == digests.normalised(b)


def _not_the_template(calc, rebuilt) -> str:
    """What keeps the file from being ``rebuilt`` (the template with its entries), or "".

    Every formula of either is the other's, in the same cell; every protected value of the
    template is in the file (the customer's name may differ: the file's is read as an
    entry); every entry of the template (an unlocked cell) is the file's, in the same cell
    (so the model computed with the entries the file's formulas read, not with those of
    another sheet that looks like the Inputs); a value the template does not have is a note,
    allowed where it is no formula.  Number formats are not compared: an input's depends on
    its figures, and no value does.
    """
    from cvp_xl.args import describe
    from cvp_xl.workbooks.calculator import digests

    from .entered import same_value

    sheets = [ws.title for ws in rebuilt.worksheets if ws.title != digests.DIGEST_SHEET]
    missing = [t for t in sheets if t not in calc.wb.sheetnames]
    if missing:
        return f"no sheet {missing[0]!r}"
    customer = calc.customer.cell
    # what a constant's content_entry digest is made of (compared here without the digest)
    constant = digests._constant  # noqa: SLF001
    for ws in calc.wb.worksheets:
        if ws.title == digests.DIGEST_SHEET:
            continue
        mine = _entries(ws)
        theirs = _entries(rebuilt[ws.title]) if ws.title in sheets else {}
        for ref, (formula, cell) in mine.items():
            want = theirs.get(ref)
            where = f"{ws.title}!{ref}"
            if formula is not None:
                if want is None or want[0] is None or not _same_formula(formula, want[0]):
                    return f"{where}: a formula the template does not have there"
            elif want is not None and want[0] is not None:
                return f"{where}: the template's formula was replaced by a value"
            elif want is not None and not want[1].protection.locked:
                if not same_value(cell.value, want[1].value):  # an entry the model was not given
                    return f"{where}: holds {describe(cell.value)}, not the entry " \
                           f"{describe(want[1].value)} it was read as"
            elif want is not None and where != customer and (
                    constant(cell.value) != constant(want[1].value)):
                return f"{where}: a protected value was changed"
        for ref, (formula, cell) in theirs.items():
            if ref not in mine and f"{ws.title}!{ref}" != customer:
                what = "formula" if formula else "value" if cell.protection.locked else "entry"
                return f"{ws.title}!{ref}: the template's {what} is missing"
    return ""
