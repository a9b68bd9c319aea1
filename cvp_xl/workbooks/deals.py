"""The deals workbook: one row per deal, each computed with ``CVP_*`` functions.

It shows the functions as a finance analyst types them (``=CVP_DIFFERENTIAL(B2,C2,D2,E2)``);
``cvp-xl share`` turns it into a copy with native formulas only.  Every value it stores is
computed in Python by the same functions the registry offers to Excel.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from cvp_xl.domain.value import breakeven_price, differential, incentive, roi
from cvp_xl.errors import CvpError
from cvp_xl.workbooks import example, style
from cvp_xl.workbooks.book import Book

__all__ = ["build", "read_deals", "DEALS_CSV", "COLUMNS"]

DEALS_CSV = example("examples", "deals.csv")
COLUMNS = ["Customer", "Value (ours)", "Price (ours)", "Value (alternative)",
           "Price (alternative)", "Differential", "Incentive (ours)", "Break-even price",
           "ROI (ours)"]
WHOLE = "#,##0"


def read_deals(path: str | os.PathLike = DEALS_CSV) -> list[dict]:
    """The deals of a CSV with columns customer, value_s, price_s, value_a, price_a."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [{"customer": row["customer"],
                 **{k: float(row[k]) for k in ("value_s", "price_s", "value_a", "price_a")}}
                for row in csv.DictReader(fh)]


def _roi_or_zero(benefit: float, cost: float) -> float:
    """``=IFERROR(CVP_ROI(benefit, cost), 0)``."""
    try:
        return roi(benefit, cost)
    except CvpError:
        return 0


def build(path: str | os.PathLike, deals: list[dict] | None = None) -> Path:
    """Write the deals workbook to ``path``: CVP_* formulas and the values Python computed."""
    deals = read_deals() if deals is None else deals
    book = Book()
    ws = book.wb.active
    ws.title = "Deals"
    for col, title in enumerate(COLUMNS, start=1):
        style.label(ws.cell(1, col), title, style.BOLD)
    totals = [0.0] * 6
    for r, d in enumerate(deals, start=2):
        style.label(ws.cell(r, 1), str(d["customer"]))
        inputs = (d["value_s"], d["price_s"], d["value_a"], d["price_a"])
        for col, v in enumerate(inputs, start=2):
            book.input(ws.cell(r, col), float(v), WHOLE)
        results = {
            "F": (f"=CVP_DIFFERENTIAL(B{r},C{r},D{r},E{r})", differential(*inputs)),
            "G": (f"=CVP_INCENTIVE(B{r},C{r})", incentive(d["value_s"], d["price_s"])),
            "H": (f"=CVP_BREAKEVEN_PRICE(B{r},D{r},E{r})",
                  breakeven_price(d["value_s"], d["value_a"], d["price_a"])),
            "I": (f"=IFERROR(CVP_ROI(B{r},C{r}),0)", _roi_or_zero(d["value_s"], d["price_s"])),
        }
        for col, (formula, value) in results.items():
            book.formula(ws[f"{col}{r}"], formula, value, "0.0%" if col == "I" else WHOLE)
        for k, v in enumerate((*inputs, results["F"][1], results["G"][1])):
            totals[k] += v
    last = len(deals) + 1
    style.label(ws.cell(last + 1, 1), "Total", style.BOLD)
    for col, total in zip("BCDEFG", totals):
        book.formula(ws[f"{col}{last + 1}"], f"=SUM({col}2:{col}{last})", total, WHOLE)
    ws.column_dimensions["A"].width = 28
    for col in "BCDEFGHI":
        ws.column_dimensions[col].width = 16
        ws[f"{col}1"].alignment = style.HEAD_RIGHT  # over its numbers, wrapped
    style.print_setup(ws, "landscape", title_rows="1:1", values=book.values)
    return book.save(path)
