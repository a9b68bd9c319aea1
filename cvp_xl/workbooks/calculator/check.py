"""``cvp-xl check``: every problem in a filled-in calculator, by cell.

Two kinds of problem are found:

- **inputs** (the Inputs sheet that :mod:`cvp_xl.workbooks.calculator.builder`
  writes): a blank required input, text in a number cell, a value outside its
  allowed range, a negative price, an unknown scenario; and low, base and high
  out of order (low above high turns the Low case into the high one);
- **tampering**: every formula and every protected cell is compared with the
  template the file was built from: with the digests the file carries
  (:mod:`cvp_xl.workbooks.calculator.digests`), or, when the spec is given,
  with the template rebuilt from it.  A formula replaced by a typed value or
  edited, a protected cell changed or unlocked, a number format changed, a
  sheet unprotected, a row or sheet added or deleted are each reported with
  their cell.

Each problem has a kind (:data:`KINDS`); :meth:`CheckReport.as_json` is what
``cvp-xl check --json`` prints (schema :data:`SCHEMA`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import column_index_from_string

from cvp_xl.args import describe
from cvp_xl.errors import WorkbookError
from cvp_xl.workbooks.calculator import digests
from cvp_xl.workbooks.calculator.builder import (
    BUILT_FORMAT,
    CARRIED_COLUMNS,
    CARRIED_SHEET,
    INPUT_FIRST_ROW,
    TEMPLATE_VERSION,
    template_print,
)
from cvp_xl.workbooks.calculator.spec import SCENARIOS, Spec
from cvp_xl.xlsx.safety import load_checked

__all__ = ["Problem", "CheckReport", "check_calculator", "open_calculator", "KINDS", "SCHEMA"]

COLUMNS = {"D": "base", "E": "low", "F": "high"}
SCHEMA = "cvp-xl-check/1"

#: Every kind of problem, as ``--json`` names it.
KINDS = {
    "input": "a blank, text or out-of-range input or price, or an unknown scenario",
    "order": "an input whose low, base and high are out of order",
    "formula-replaced": "a formula of the template replaced by a typed value, or deleted",
    "formula-edited": "a formula of the template changed",
    "cell-changed": "a protected value of the template (label, allowed range, ...) changed",
    "format-changed": "the number format of a formula or protected cell changed",
    "cell-unlocked": "a formula or protected cell unlocked (it can be typed over)",
    "cell-added": "content in a cell that the template leaves empty",
    "row-added": "a row added inside the model",
    "row-removed": "a row of the template deleted",
    "sheet-added": "a sheet added to the calculator",
    "sheet-removed": "a sheet of the template deleted",
    "sheet-unprotected": "a sheet that the template protects is not protected",
    "digests-missing": "the file carries no template digests to compare with",
    "digests-edited": "the template digests do not match their own digest or the rebuilt "
                      "template",
    "spec-mismatch": "the spec given is not the one the calculator names",
}


@dataclass(frozen=True)
class Problem:
    """One problem: where (sheet, cell; the cell is empty for a whole sheet), what, its kind."""

    sheet: str
    ref: str
    message: str
    kind: str = "input"
    expected: str | None = None  # the template's formula or value, when rebuilt from the spec

    def __str__(self) -> str:
        return f"{self.sheet}!{self.ref}: {self.message}" if self.ref else \
            f"{self.sheet}: {self.message}"

    def as_json(self) -> dict:
        out = {"kind": self.kind, "sheet": self.sheet, "cell": self.ref or None,
               "message": self.message}
        if self.expected is not None:
            out["expected"] = self.expected
        return out


@dataclass
class CheckReport:
    """What :func:`check_calculator` found, and what it compared the file with."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    spec_digest: str | None = None
    template_version: str | None = None
    compared_with: str = "none"          # "stored digests", "rebuilt template" or "none"
    spec: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def as_json(self) -> dict:
        """The ``--json`` document (schema ``cvp-xl-check/1``, see the README)."""
        return {"schema": SCHEMA, "file": str(self.path), "clean": self.clean,
                "spec_digest": self.spec_digest, "template_version": self.template_version,
                "compared_with": self.compared_with, "spec": self.spec, "notes": self.notes,
                "problems": [p.as_json() for p in self.problems]}


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def open_calculator(path: str | os.PathLike):
    """Check and open a calculator workbook (openpyxl), refusing anything else clearly."""
    path = Path(path)
    wb = load_checked(path)
    if "Inputs" not in wb.sheetnames or wb["Inputs"].cell(INPUT_FIRST_ROW - 1, 1).value != "Input":
        raise WorkbookError(f"{path}: not a cvp-xl calculator (no Inputs sheet with an "
                            f"'Input' column)")
    return wb


def check_calculator(path: str | os.PathLike, spec: Spec | None = None) -> CheckReport:
    """Every problem in a calculator workbook: its inputs, and any edit of its template.

    Parameters
    ----------
    path : path-like
        The calculator (.xlsx).
    spec : Spec, optional
        The spec it was built from: the template is rebuilt from it and the file
        compared with that.  Without it, the file is compared with the digests it
        carries.

    Returns
    -------
    CheckReport
        ``problems`` in this order: the template's (sheets, then cells by sheet,
        row and column), then the inputs'.
    """
    path = Path(path)
    wb = open_calculator(path)
    about = _about(wb)
    report = CheckReport(path, spec_digest=about.get("Spec digest (sha256, first 16)"),
                         template_version=about.get("Template version"),
                         spec=str(spec.path) if spec is not None else None)
    _template(wb, spec, about, report)
    report.problems.extend(_inputs(wb))
    return report


# ------------------------------------------------------------------------------------ inputs


def _inputs(wb) -> list[Problem]:
    ws = wb["Inputs"]
    problems: list[Problem] = []
    r = INPUT_FIRST_ROW
    while ws.cell(r, 1).value not in (None, ""):
        name, unit = ws.cell(r, 1).value, ws.cell(r, 2).value
        lo, hi = ws.cell(r, 7).value, ws.cell(r, 8).value
        for col, label in COLUMNS.items():
            v = ws[f"{col}{r}"].value
            where = f"'{name}' ({label})"
            if v is None or (isinstance(v, str) and not v.strip()):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where} is blank; expected a number in {unit}"))
            elif not _is_number(v):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where}: expected a number in {unit}, got {describe(v)}"))
            elif (_is_number(lo) and v < lo) or (_is_number(hi) and v > hi):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where} = {v:g} is outside the allowed range "
                                        f"{_allowed(lo, hi)}"))
        base, low, high = (ws[f"{c}{r}"].value for c in "DEF")
        if _is_number(low) and _is_number(high) and low > high:
            problems.append(Problem("Inputs", f"E{r}", f"'{name}': low ({low:g}) is greater than "
                                    f"high ({high:g}); the Low case may then total more than "
                                    f"Base",
                                    "order"))
        elif all(_is_number(v) for v in (base, low, high)) and not low <= base <= high:
            problems.append(Problem("Inputs", f"D{r}", f"'{name}': base ({base:g}) is not "
                                    f"between low ({low:g}) and high ({high:g})", "order"))
        r += 1
    # prices: the block under the header "Offering or alternative"
    while r < ws.max_row and ws.cell(r, 1).value != "Offering or alternative":
        r += 1
    r += 1
    while ws.cell(r, 1).value not in (None, ""):
        name = ws.cell(r, 1).value
        for col, label in (("D", "one-time price"), ("E", "recurring price per year"),
                           ("F", "value per year vs reference")):
            v = ws[f"{col}{r}"].value
            where = f"'{name}' ({label})"
            if v is None:
                problems.append(Problem("Inputs", f"{col}{r}", f"{where} is blank; expected "
                                                               f"an amount"))
            elif not _is_number(v):
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where}: expected an amount, got {describe(v)}"))
            elif v < 0 and col != "F":
                problems.append(Problem("Inputs", f"{col}{r}",
                                        f"{where} = {v:g} is negative; expected 0 or more"))
        r += 1
    scenario = wb["Summary"]["B4"].value if "Summary" in wb.sheetnames else None
    if scenario not in SCENARIOS:
        problems.append(Problem("Summary", "B4", f"scenario {describe(scenario)} is not one of "
                                                 f"{', '.join(SCENARIOS)}"))
    return problems


def _allowed(lo, hi) -> str:
    if _is_number(lo) and _is_number(hi):
        return f"{lo:g} to {hi:g}"
    return f"at least {lo:g}" if _is_number(lo) else f"at most {hi:g}"


# ---------------------------------------------------------------------------------- template


def _about(wb) -> dict:
    if "About" not in wb.sheetnames:
        return {}
    ws = wb["About"]
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(3, 20)
            if isinstance(ws.cell(r, 1).value, str)}


def _about_ref(wb, label: str) -> str:
    if "About" in wb.sheetnames:
        for r in range(3, 20):
            if wb["About"].cell(r, 1).value == label:
                return f"B{r}"
    return "A1"


def _property(wb, name: str) -> str | None:
    for prop in wb.custom_doc_props.props:
        if prop.name == name:
            return str(prop.value)
    return None


def _template(wb, spec: Spec | None, about: dict, report: CheckReport) -> None:
    """Compare the file with its template; add the problems and notes to ``report``."""
    problems = report.problems
    record = digests.read_record(wb)
    if record is None:
        problems.append(Problem(
            digests.DIGEST_SHEET, "", "missing: this calculator carries no template digests "
            "(built before cvp-xl kept them, or the sheet was deleted), so its formulas cannot "
            "be compared without the spec; pass --spec SPEC to rebuild the template, or "
            "rebuild the file with `cvp-xl upgrade`", "digests-missing"))
    elif (stored := _property(wb, digests.DIGEST_PROPERTY)) is None:
        problems.append(Problem(
            digests.DIGEST_SHEET, "", "the document property "
            f"'{digests.DIGEST_PROPERTY}' that holds the digest of the template digests is "
            "missing", "digests-edited"))
    elif digests.record_digest(record) != stored:
        problems.append(Problem(
            digests.DIGEST_SHEET, "", "the template digests were edited: their digest is not "
            f"the one in the document property '{digests.DIGEST_PROPERTY}'", "digests-edited"))
    expected, source = record, None
    if record is not None:
        report.compared_with = "stored digests"
    if spec is not None:
        named = about.get("Spec digest (sha256, first 16)")
        version = about.get("Template version")
        if named != spec.digest:
            problems.append(Problem(
                "About", _about_ref(wb, "Spec digest (sha256, first 16)"),
                f"the calculator names spec digest {named!r}; {spec.path} has digest "
                f"{spec.digest!r}: the template was not rebuilt from it", "spec-mismatch"))
        elif version != TEMPLATE_VERSION:
            report.notes.append(f"built with template {version!r}; this cvp-xl builds "
                                f"{TEMPLATE_VERSION!r}, so the template was not rebuilt")
        else:
            rebuilt, source = template_print(spec, record.build if record is not None
                                             else _params_from_file(wb), with_book=True)
            if record is not None and record.canonical() != rebuilt.canonical():
                problems.append(Problem(
                    digests.DIGEST_SHEET, "", f"the template digests are not those of the "
                    f"template rebuilt from {spec.path}", "digests-edited"))
            expected = rebuilt
            report.compared_with = "rebuilt template"
    if expected is None:
        return
    report.notes.append("compared with " + (
        f"the template rebuilt from {spec.path}" if report.compared_with == "rebuilt template"
        else "the digests stored in the file when it was built"))
    problems.extend(compare(wb, expected, source))


def _params_from_file(wb) -> dict:
    """Build parameters read from the file itself (when its digests are gone)."""
    about = _about(wb)
    ws = wb["Inputs"]
    inputs, r = {}, INPUT_FIRST_ROW
    while ws.cell(r, 1).value not in (None, ""):
        values = [ws.cell(r, c).value for c in (4, 5, 6)]
        if all(_is_number(v) for v in values):
            inputs[str(ws.cell(r, 1).value)] = [float(v) for v in values]
        r += 1
    carried = []
    if CARRIED_SHEET in wb.sheetnames:
        for row in wb[CARRIED_SHEET].iter_rows(min_row=4, values_only=True):
            if row and row[0] not in (None, ""):
                carried.append({k.lower(): v for k, v in zip(CARRIED_COLUMNS, row)})
    built = about.get("Built (UTC)")
    if isinstance(built, dt.datetime):
        built = built.strftime(BUILT_FORMAT)
    return {"customer": about.get("Customer") or "", "built_at": str(built),
            "inputs": inputs, "carried": carried}


def _show(value) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _signatures(entries: dict[str, digests.Entry], last: int) -> list[tuple]:
    """Per row 1..last: what survives a row moving (constants, and where formulas are)."""
    rows: list[list] = [[] for _ in range(last)]
    for ref, e in entries.items():
        col, row = _split(ref)
        if e.kind in ("f", "v") and row <= last:
            rows[row - 1].append((col, e.kind, e.digest if e.kind == "v" else ""))
    return [tuple(sorted(r)) for r in rows]


def _split(ref: str) -> tuple[str, int]:
    k = next(i for i, ch in enumerate(ref) if ch.isdigit())
    return ref[:k], int(ref[k:])


def _align(expected: dict, found: dict):
    """Rows of the file mapped to rows of the template: ({file: template}, added, removed)."""
    last_t = max((_split(r)[1] for r in expected), default=0)
    last_f = max((_split(r)[1] for r in found), default=0)
    t_sig, f_sig = _signatures(expected, last_t), _signatures(found, last_f)
    if t_sig == f_sig[:last_t]:
        return None, [], []
    mapping, added, removed = {}, [], []
    matcher = difflib.SequenceMatcher(None, t_sig, f_sig, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        n = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(n):
            mapping[j1 + k + 1] = i1 + k + 1
        added += [j + 1 for j in range(j1 + n, j2) if i1 + n < last_t]
        removed += [i + 1 for i in range(i1 + n, i2)]
    return mapping, added, removed


def _file_entries(ws, rows=None) -> dict[str, tuple[digests.Entry | None, object, bool]]:
    """Every non-empty cell of a sheet: (content entry, what it shows, locked)."""
    out = {}
    for cell in digests.cells(ws):
        entry = digests.content_entry(cell, rows)
        if entry is not None:
            shown = digests.formula_text(cell) or cell.value
            out[cell.coordinate] = (entry, shown, bool(cell.protection.locked))
    return out


def compare(wb, expected: digests.Fingerprint, source=None) -> list[Problem]:
    """Every difference between the file ``wb`` and the template ``expected``, by cell.

    ``source`` is the rebuilt template's workbook, when there is one: its formulas
    and values are quoted as ``expected`` in the problems.
    """
    problems: list[Problem] = []
    names = [ws.title for ws in wb.worksheets if ws.title != digests.DIGEST_SHEET]
    for name in expected.sheets:
        if name not in names:
            problems.append(Problem(name, "", "the sheet was deleted", "sheet-removed"))
    for name in names:
        if name not in expected.sheets:
            problems.append(Problem(name, "", "a sheet was added to the calculator",
                                    "sheet-added"))
    common = [n for n in names if n in expected.sheets]
    for name in common:
        if expected.sheets[name].protected and not wb[name].protection.sheet:
            problems.append(Problem(name, "", "the sheet is not protected; the template "
                                    "protects it so that formulas are not typed over",
                                    "sheet-unprotected"))
    found = {n: _file_entries(wb[n]) for n in common}
    moves, cell_problems = {}, []
    for name in common:
        plain = {ref: e for ref, (e, _, _) in found[name].items()}
        mapping, added, removed = _align(expected.sheets[name].cells, plain)
        if mapping is None:
            continue
        moves[name] = (mapping, set(added))
        for row in removed:
            cell_problems.append((name, row, 0, Problem(
                name, f"A{row}", f"row {row} of the template was deleted", "row-removed")))
        for row in added:
            cell_problems.append((name, row, 0, Problem(
                name, f"A{row}", f"row {row} was added inside the model", "row-added")))
    if moves:  # read the formulas again with their references moved back to the template
        rows = {n.upper(): m for n, (m, _) in moves.items()}
        found = {n: _file_entries(wb[n], rows) for n in common}
    for name in common:
        mapping, added = moves.get(name, (None, set()))
        template = expected.sheets[name].cells
        seen = set()
        for ref, (entry, shown, locked) in found[name].items():
            col, row = _split(ref)
            if row in added:
                continue
            t_row = mapping.get(row) if mapping is not None else row
            t_ref = f"{col}{t_row}" if t_row is not None else None
            want = template.get(t_ref) if t_ref else None
            seen.add(t_ref)
            problem = _cell_problem(name, ref, want, entry, shown, locked,
                                    _source(source, name, t_ref))
            if problem is not None:
                cell_problems.append((name, row, column_index_from_string(col), problem))
        inverse = {t: f for f, t in mapping.items()} if mapping is not None else None
        for t_ref, want in template.items():
            if t_ref in seen or want.kind == "i":
                continue
            col, t_row = _split(t_ref)
            row = inverse.get(t_row) if inverse is not None else t_row
            if row is None:
                continue  # its row was deleted: reported once for the row
            ref = f"{col}{row}"
            locked = _locked(wb[name], ref)
            problem = _cell_problem(name, ref, want, None, None, locked,
                                    _source(source, name, t_ref))
            if problem is not None:
                cell_problems.append((name, row, column_index_from_string(col), problem))
    order = {n: k for k, n in enumerate(names)}
    cell_problems.sort(key=lambda p: (order[p[0]], p[1], p[2]))
    return problems + [p for *_, p in cell_problems]


def _locked(ws, ref: str) -> bool:
    col, row = _split(ref)
    cell = ws._cells.get((row, column_index_from_string(col)))  # noqa: SLF001 - no new cell
    return True if cell is None else bool(cell.protection.locked)


def _source(source, sheet: str, ref: str | None) -> str | None:
    if source is None or ref is None or sheet not in source.sheetnames:
        return None
    cell = source[sheet][ref]
    text = digests.formula_text(cell)
    return text if text is not None else (None if cell.value is None else str(cell.value))


def _cell_problem(sheet, ref, want, got, shown, locked, expected) -> Problem | None:
    """The problem with one cell: the template's entry ``want`` against the file's ``got``."""
    def problem(kind, message):
        return Problem(sheet, ref, message, kind, expected)

    if want is None or want.kind == "i":
        if got is None or (want is not None and want.kind == "i"):
            return None
        what = f"a formula {shown}" if got.kind == "f" else f"the value {_show(shown)}"
        return problem("cell-added", f"{what} where the template has none")
    if want.kind == "f":
        if got is None:
            return problem("formula-replaced", "the formula was deleted; the cell is empty")
        if got.kind == "v":
            return problem("formula-replaced",
                           f"the formula was replaced by the typed value {_show(shown)}")
        if got.digest != want.digest:
            return problem("formula-edited", f"the formula was edited: now {shown}")
    else:
        if got is None:
            return problem("cell-changed", "the protected value was cleared")
        if got.kind == "f":
            return problem("cell-changed",
                           f"the protected value was replaced by the formula {shown}")
        if got.digest != want.digest:
            return problem("cell-changed", f"the protected value was changed to {_show(shown)}")
    if got.fmt != want.fmt:
        return problem("format-changed", "the number format was changed")
    if not locked:
        return problem("cell-unlocked", "the cell was unlocked; the template locks it")
    return None
