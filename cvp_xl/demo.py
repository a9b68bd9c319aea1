"""``cvp-xl demo``: build the example workbooks, recompute them headlessly, print the results.

Runs on the files shipped in the repository (``workbooks/``):

1. ``examples/deals.csv``: a workbook computing each deal with ``CVP_*``
   functions, and its share-safe copy with native formulas only;
2. every calculator spec in ``calculators/``, and a batch of calculators for
   ``calculators/fleet-routing-customers.csv``;
3. the pricing, positioning, case-history, value-tracker and word-equation
   library workbooks.

Each workbook is then recomputed headlessly with the formulas engine and its
values compared with those stored in the file.
"""

from __future__ import annotations

import importlib
import io
import math
from pathlib import Path

import openpyxl
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from .recalc import compute, recalc
from .share import share
from .xlsx.cached import atomic_save_workbook
from .xlsx.write import set_value

__all__ = ["build_deals_workbook", "run_demo", "WORKBOOKS", "EXAMPLE_MODULES"]

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
DEALS_CSV = WORKBOOKS / "examples" / "deals.csv"
EXAMPLE_MODULES = ("pricing", "positioning", "cases", "tracker", "wordeq_library")
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


def _shipped(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path}: the demo runs on the files shipped in the repo")
    return path


def build_deals_workbook(path: Path, deals=None) -> Path:
    """Write the deals workbook: one row per deal, computed with CVP_* functions."""
    import pandas as pd

    if deals is None:
        text = _shipped(DEALS_CSV).read_text(encoding="utf-8")
        deals = pd.read_csv(io.StringIO(text), dtype={"customer": str})
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


def _agree(path: Path) -> tuple[int, int]:
    """(formula cells, those whose stored value the formulas engine recomputes the same)."""
    import datetime as dt

    from openpyxl.utils.datetime import to_excel

    formulas = openpyxl.load_workbook(path)
    stored = openpyxl.load_workbook(path, data_only=True)
    engine = compute(path).values
    total = same = 0
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                kept = stored[ws.title][cell.coordinate].value
                if isinstance(kept, (dt.datetime, dt.date)):
                    kept = to_excel(kept)  # a date-formatted number is still the number
                value = engine.get((ws.title, cell.coordinate))
                total += 1
                if isinstance(value, (int, float)) and isinstance(kept, (int, float)):
                    same += math.isclose(value, kept, rel_tol=1e-9, abs_tol=1e-9)
                else:
                    same += ("" if kept is None else str(kept)) == (
                        "" if value is None else str(value))
    return total, same


def run_demo(out_dir: Path, echo=print) -> list[tuple[Path, int, int]]:
    """Build every example workbook into ``out_dir``, recompute each, print what agreed."""
    import pandas as pd

    from .batch import build_many, read_table
    from .calculator import load_spec
    from .calculator.builder import build

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    books: list[Path] = []

    deals = build_deals_workbook(out_dir / "deals.xlsx")
    recalc(deals)
    changes = share(deals, out_dir / "deals-shared.xlsx")
    books += [deals, out_dir / "deals-shared.xlsx"]
    echo(f"deals-shared.xlsx: {len(changes)} CVP_* formulas translated into native Excel")
    table = pd.read_excel(deals, sheet_name="Deals")
    shown = table.copy()
    for col in shown.columns[1:]:
        pct = col.startswith("ROI")
        shown[col] = shown[col].map(lambda x, pct=pct: "" if pd.isna(x) else
                                    f"{x:.1%}" if pct else f"{x:,.0f}")
    echo(shown.to_string(index=False))
    echo("")

    for spec_path in sorted(_shipped(WORKBOOKS / "calculators").glob("*.yaml")):
        spec = load_spec(spec_path)
        target = out_dir / "calculators" / f"{spec_path.stem}.xlsx"
        layout = build(spec, target)
        summary = openpyxl.load_workbook(target, data_only=True)["Summary"]
        echo(f"{target.name}: total value per year {spec.currency} "
             f"{summary[layout.results['total_per_year']].value:,.0f}, differential vs "
             f"{summary[layout.results['next_best']].value}: {spec.currency} "
             f"{summary[layout.results['differential']].value:,.0f}")
        books.append(target)
    customers = _shipped(WORKBOOKS / "calculators" / "fleet-routing-customers.csv")
    spec = load_spec(WORKBOOKS / "calculators" / "fleet-routing.yaml")
    report = build_many(spec, read_table(customers), out_dir / "batch", source=str(customers))
    echo(f"batch: {len(report.written)} written, {len(report.up_to_date)} up to date, "
         f"{len(report.problems)} bad rows; summary in {out_dir / 'batch' / 'summary.xlsx'}")
    books += sorted((out_dir / "batch").glob("D-*.xlsx"))[:2]

    for name in EXAMPLE_MODULES:
        module = importlib.import_module(f"cvp_xl.workbooks.{name}")
        made = module.build_example_workbooks(out_dir / name)
        books += [Path(p) for p in made]
        echo(f"{name}: {', '.join(Path(p).name for p in made)}")
    echo("")
    echo("Recomputed headlessly with the formulas engine, compared with the values stored:")
    rows = []
    for path in books:
        total, same = _agree(path)
        rows.append((path, total, same))
        echo(f"  {'ok  ' if total == same else 'DIFF'} {path.relative_to(out_dir)}: "
             f"{same}/{total} formula cells agree")
    return rows
