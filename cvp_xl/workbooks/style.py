"""The house style of every workbook cvp-xl writes: colours, fonts, number formats, headers.

Inputs are pale yellow and unlocked; headers white on dark blue; sheets are protected without a
password (Review > Unprotect Sheet) so formulas are not overwritten by accident.
"""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation

from cvp_xl.xlsx.write import set_text

__all__ = [
    "INPUT_FILL", "INPUT_FONT", "INPUT_BORDER", "HEAD_FILL", "HEAD_FONT", "TITLE_FONT", "BOLD",
    "ITALIC", "NOTE_FONT", "LINK_FONT", "UNLOCKED", "MONEY", "MONEY_CENTS", "PERCENT", "RATIO",
    "as_input", "label", "header", "protect", "validation",
]

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INPUT_FONT = Font(color="1F4E78")
THIN = Side(style="thin", color="BFBFBF")
INPUT_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
HEAD_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
ITALIC = Font(italic=True)
NOTE_FONT = Font(italic=True, color="595959")
LINK_FONT = Font(color="0563C1", underline="single")
UNLOCKED = Protection(locked=False)

#: Whole money amounts, negatives in red; money with cents; shares; ratios.
MONEY = "#,##0;[Red]-#,##0"
MONEY_CENTS = "#,##0.00"
PERCENT = "0.0%"
RATIO = "0.00"


def as_input(cell, border: bool = False) -> None:
    """Mark a cell as an input: yellow, unlocked (it stays editable on a protected sheet)."""
    cell.fill, cell.font, cell.protection = INPUT_FILL, INPUT_FONT, UNLOCKED
    if border:
        cell.border = INPUT_BORDER


def label(cell, text: str, font: Font | None = None) -> None:
    """A label: always text, even when it starts with ``=``."""
    set_text(cell, text)
    if font is not None:
        cell.font = font


def header(ws, row: int, col: int, titles: list[str]) -> None:
    """A header row: white bold titles on dark blue, wrapped."""
    for j, title in enumerate(titles):
        cell = ws.cell(row, col + j)
        set_text(cell, title)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def protect(ws) -> None:
    """Protect the sheet without a password: inputs stay editable, formulas do not."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # let users widen columns
    ws.protection.formatRows = False


def validation(ws, kind: str, operator: str | None, formula1: str, formula2: str | None,
               message: str) -> DataValidation:
    """A data validation with an error message, added to ``ws`` (add cells to it after)."""
    dv = DataValidation(type=kind, operator=operator, formula1=formula1, formula2=formula2,
                        allow_blank=True, showErrorMessage=True, errorTitle="Check the input",
                        error=message)
    ws.add_data_validation(dv)
    return dv
