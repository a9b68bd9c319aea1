"""``cvp-xl demo``: build the example workbooks, recompute them headlessly, print them.

Reads ``workbooks/examples/deals.csv`` (shipped in the repository),
builds a workbook that computes each deal with ``CVP_*`` functions,
translates it into a share-safe copy with native formulas only,
recomputes both with the formulas engine and prints the results.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from .recalc import recalc
from .share import share
from .xlsx.cached import atomic_save_workbook
from .xlsx.write import set_value

__all__ = ["build_deals_workbook", "run_demo", "DEALS_CSV"]

DEALS_CSV = Path(__file__).resolve().parent.parent / "workbooks" / "examples" / "deals.csv"
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
COLUMNS = ["Customer", "Value (ours)", "Price (ours)", "Value (alternative)",
           "Price (alternative)", "Differential", "Incentive (ours)", "Break-even price",
           "ROI (ours)"]
FORMULAS = {
    "F": "=CVP_DIFFERENTIAL(B{r},C{r},D{r},E{r})",
    "G": "=CVP_INCENTIVE(B{r},C{r})",
    "H": "=CVP_BREAKEVEN_PRICE(B{r},D{r},E{r})",
    "I": "=IFERROR(CVP_ROI(B{r},C{r}),0)",
}


def _deals_text() -> str:
    if not DEALS_CSV.exists():
        raise FileNotFoundError(f"{DEALS_CSV}: the demo runs on the files shipped in the repo")
    return DEALS_CSV.read_text(encoding="utf-8")


def build_deals_workbook(path: Path, deals=None) -> Path:
    """Write the deals workbook: one row per deal, computed with CVP_* functions."""
    import io

    import pandas as pd

    if deals is None:
        deals = pd.read_csv(io.StringIO(_deals_text()), dtype={"customer": str})
    wb = Workbook()
    ws = wb.active
    ws.title = "Deals"
    for col, title in enumerate(COLUMNS, start=1):
        ws.cell(1, col, title).font = Font(bold=True)
    for r, deal in enumerate(deals.itertuples(index=False), start=2):
        set_value(ws.cell(r, 1), str(deal.customer))
        for col, v in enumerate((deal.value_s, deal.price_s, deal.value_a, deal.price_a), start=2):
            cell = ws.cell(r, col, float(v))
            cell.fill = INPUT_FILL
            cell.number_format = "#,##0"
        for col, formula in FORMULAS.items():
            ws[f"{col}{r}"] = formula.format(r=r)
            ws[f"{col}{r}"].number_format = "0.0%" if col == "I" else "#,##0"
    last = ws.max_row
    ws.cell(last + 1, 1, "Total").font = Font(bold=True)
    for col in "BCDEFG":
        ws[f"{col}{last + 1}"] = f"=SUM({col}2:{col}{last})"
        ws[f"{col}{last + 1}"].number_format = "#,##0"
    ws.column_dimensions["A"].width = 28
    for col in "BCDEFGHI":
        ws.column_dimensions[col].width = 16
    atomic_save_workbook(wb, path)
    return path


def run_demo(out_dir: Path, echo=print) -> dict:
    """Build, translate and recompute the example workbooks; print the results."""
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    book = build_deals_workbook(out_dir / "deals.xlsx")
    shared = out_dir / "deals-shared.xlsx"
    changed = share(book, shared)
    results = {}
    for path in (book, shared):
        result = recalc(path)
        results[path.name] = result
        echo(f"{path}: {len(result.values)} formula cells recomputed headlessly")
    echo(f"{shared.name}: {len(changed)} CVP_* formulas translated into native Excel")
    table = pd.read_excel(book, sheet_name="Deals")
    native = pd.read_excel(shared, sheet_name="Deals")
    same = table.select_dtypes("number").equals(native.select_dtypes("number"))
    shown = table.copy()
    for col in shown.columns[1:]:
        pct = col.startswith("ROI")
        shown[col] = shown[col].map(lambda x, pct=pct: "" if pd.isna(x) else
                                    f"{x:.1%}" if pct else f"{x:,.0f}")
    echo(shown.to_string(index=False))
    echo(f"CVP_* workbook and native-formula copy agree: {'yes' if same else 'NO'}")
    return results
