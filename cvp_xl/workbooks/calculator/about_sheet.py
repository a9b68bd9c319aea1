"""The About sheet (what the calculator is, its definitions, how to verify it, the spec it
was built from) and the "Carried over" sheet of ``cvp-xl upgrade``."""

from __future__ import annotations

from pathlib import Path

from openpyxl.styles import Alignment

from cvp_xl.workbooks.calculator import digests
from cvp_xl.workbooks.calculator.parts import Theme, header, print_setup
from cvp_xl.workbooks.style import BOLD
from cvp_xl.xlsx.write import set_text

__all__ = ["about_sheet", "carried_sheet", "CARRIED_SHEET", "CARRIED_COLUMNS"]

CARRIED_SHEET = "Carried over"
CARRIED_COLUMNS = ("Input", "Unit", "Base", "Low", "High", "Source")
_KEYS = {"Customer": ("customer",), "Built (UTC)": ("built",)}


def about_sheet(spec, ws, built_at, customer, theme: Theme,
                template_version: str, built_format: str, book=None) -> None:
    """The About sheet; ``book`` (a :class:`~cvp_xl.workbooks.book.Book`) is told which
    cells are the customer's name and the time of the build."""
    rows = [
        ("Calculator", spec.name),
        ("Customer", customer or ""),
        ("Spec", Path(spec.path).name),
        ("Spec version", spec.version),
        ("Spec digest (sha256, first 16)", spec.digest),
        ("Template version", template_version),
        ("Built (UTC)", built_at.strftime(built_format)),
        ("Scenarios", "Base: the yellow Base column. Low: every input at the end of its range "
                      "that lowers the total value (High: the other end), as found when the file "
                      "was built. Conservative: Base with every benefit claim halved."),
        ("Definitions", "Value elements measure ours against the reference alternative. "
                        "Differential = incentive to buy ours - incentive to buy the next best "
                        "(incentive = value - price over the horizon). ROI = (extra value - "
                        "extra price) / extra price vs the next best; none when ours costs no "
                        "more. Payback = the time until the cumulative net cash flow of ours "
                        "vs the next best first reaches zero, linear within the year: the "
                        "extra paid up front / the net cash flow of a year (0 when nothing "
                        "more is paid up front); none (the cell beside it says 'never') when "
                        "that yearly flow is 0 or negative, whatever is paid up front, and "
                        "none within the horizon when it is later; the Summary says it in "
                        "months when under two years. NPV uses Excel's NPV (first year "
                        "discounted once) plus the year-0 flow. ROI is shown as a multiple "
                        "(3.0x) and as a percentage (300%): the same number. Cost of waiting "
                        "= the net cash flow of a year / 12: what each month of delay "
                        "forgoes. The value proposition in words names the resonating focus: "
                        "the one or two value elements worth most above 0 (the favorable "
                        "points of difference, largest first; the first listed on a tie)."),
        ("How to verify", "Run `cvp-xl check` on this file (add `--spec` with the spec named "
                          "above to rebuild the template from it). It compares every formula "
                          "and every protected cell with the template this file was built "
                          f"from, whose digests are kept in the hidden sheet "
                          f"'{digests.DIGEST_SHEET}', and lists by cell: a formula typed over "
                          "or edited, a protected cell changed or unlocked, a sheet "
                          "unprotected, a row or sheet added, an input whose low, base and "
                          "high are out of order. 'no problems found' means the formulas are "
                          "the template's. The digests show edits made in a spreadsheet "
                          "program; they are not a signature: with the spec at hand, the "
                          "rebuilt template decides."),
    ]
    set_text(ws["A1"], "About this calculator")
    ws["A1"].font = theme.title_font
    for r, (label, text) in enumerate(rows, start=3):
        set_text(ws.cell(r, 1), label)
        ws.cell(r, 1).font = BOLD
        set_text(ws.cell(r, 2), text)
        ws.cell(r, 2).alignment = Alignment(wrap_text=True, vertical="top")
        if book is not None and label in _KEYS:
            book.keyed(ws.cell(r, 2), _KEYS[label])
    start = len(rows) + 5
    set_text(ws.cell(start - 1, 1), "The spec this calculator was built from")
    ws.cell(start - 1, 1).font = BOLD
    for k, line in enumerate(spec.text.splitlines()):
        set_text(ws.cell(start + k, 1), line)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100
    # the spec's text stays on the sheet; the printed page is the calculator's description
    print_setup(ws, spec, theme, landscape=True, area=f"A1:B{len(rows) + 2}")


def carried_sheet(ws, carried: list[dict], theme: Theme) -> None:
    set_text(ws["A1"], "Inputs of an earlier version of this calculator that the current one "
                       "no longer uses, kept as the customer entered them.")
    header(ws, 3, list(CARRIED_COLUMNS), theme)
    for r, item in enumerate(carried, start=4):
        for c, key in enumerate(CARRIED_COLUMNS, start=1):
            value = item.get(key.lower())
            if isinstance(value, str):
                set_text(ws.cell(r, c), value)
            else:
                ws.cell(r, c, value)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["F"].width = 40
