"""``cvp-xl demo``: build the example workbooks, then check each with an independent engine.

Runs on the example files shipped with the package (``workbooks/`` in a checkout):

1. ``examples/deals.csv``: a workbook computing each deal with ``CVP_*``
   functions, and its share-safe copy with native formulas only;
2. every calculator spec in ``calculators/``, and a batch of calculators for
   ``calculators/fleet-routing-customers.csv``;
3. the pricing, positioning, case-history, value-tracker and word-equation
   library workbooks.

Every value a workbook stores was computed in Python when it was built.  The demo then
recomputes each workbook with engines that did not write it, and compares: the formulas
engine, and LibreOffice (when installed) for every cell that calls no ``CVP_*`` function.
The shared copy of the deals is compared with the Python values of the original, since
``share`` itself used the formulas engine to fill it in.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils.datetime import to_excel

from cvp_xl.commands.recalc import compute
from cvp_xl.commands.share import share
from cvp_xl.workbooks import deals as deals_book
from cvp_xl.workbooks import example

__all__ = ["Check", "check_books", "run_demo", "EXAMPLE_MODULES"]

EXAMPLE_MODULES = ("pricing", "positioning", "case_histories", "tracker", "wordeq_library",
                   "research", "pilot")
FORMULAS, LIBREOFFICE = "formulas engine", "LibreOffice"


def _shipped(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path}: the demo runs on the example files shipped with cvp-xl")
    return path


@dataclass
class Check:
    """One workbook's formula cells, and how many of them each engine recomputed the same."""

    path: Path
    cells: int
    agreed: dict[str, int] = field(default_factory=dict)   # engine -> cells that agree
    compared: dict[str, int] = field(default_factory=dict)  # engine -> cells it computed
    skipped: dict[str, str] = field(default_factory=dict)   # engine -> why it did not check

    @property
    def ok(self) -> bool:
        return bool(self.agreed) and all(self.agreed[e] == self.compared[e] for e in self.agreed)

    def line(self, root: Path) -> str:
        parts = [f"{e} {self.agreed[e]}/{self.compared[e]}" for e in self.agreed]
        parts += [f"{e}: {why}" for e, why in self.skipped.items()]
        return (f"  {'ok  ' if self.ok else 'DIFF'} {self.path.relative_to(root)}: "
                f"{self.cells} formula cells; {'; '.join(parts)}")


def _plain(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return to_excel(value)  # a date-formatted number is still the number
    return value


def same(expected, got) -> bool:
    """Numbers to 1e-9 relative; anything else by its text (errors by their code)."""
    expected, got = _plain(expected), _plain(got)
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected == got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-9)
    return ("" if expected is None else str(expected)) == ("" if got is None else str(got))


def stored_formula_values(path: Path) -> dict[tuple[str, str], tuple[str, object]]:
    """``{(sheet, ref): (formula, stored value)}`` for every formula cell of ``path``."""
    formulas = openpyxl.load_workbook(path)
    stored = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): (c.value, stored[ws.title][c.coordinate].value)
            for ws in formulas.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"}


def _precedents(sheet: str, formula: str) -> set[tuple[str, str]]:
    """The cells a formula reads (ranges expanded), as ``(sheet, ref)``."""
    from openpyxl.formula.tokenizer import Token, Tokenizer

    from cvp_xl.xlsx.a1 import cells

    found = set()
    for tok in Tokenizer(formula).items:
        if tok.type != Token.OPERAND or tok.subtype != Token.RANGE:
            continue
        where, _, ref = tok.value.rpartition("!")
        target = where.strip("'").replace("''", "'") if where else sheet
        try:
            found |= {(target, c) for c in cells(ref)}
        except ValueError:
            continue  # a defined name or a whole column: not followed
    return found


def needs_addin(cells: dict[tuple[str, str], tuple[str, object]]) -> set[tuple[str, str]]:
    """Formula cells that call ``CVP_*`` or read, directly or not, a cell that does."""
    tainted = {k for k, (f, _) in cells.items() if "CVP_" in str(f).upper()}
    reads = {k: _precedents(k[0], str(f)) for k, (f, _) in cells.items() if k not in tainted}
    grew = bool(tainted)
    while grew:
        grew = False
        for k, pre in reads.items():
            if k not in tainted and pre & tainted:
                tainted.add(k)
                grew = True
    return tainted


def check_books(books: list[tuple[Path, Path]], libreoffice: bool = True) -> list[Check]:
    """Recompute each workbook with the formulas engine and LibreOffice; compare each formula
    cell with the value Python stored in the second path of its pair (usually the same file).
    """
    from cvp_xl.hosts.libreoffice import find_soffice, libreoffice_values_many

    checks, expected = [], []
    for path, python_values in books:
        cells = stored_formula_values(path)
        python = {k: v for k, (_, v) in stored_formula_values(python_values).items()}
        expected.append((cells, python))
        engine = compute(path).values
        check = Check(path, len(cells))
        check.compared[FORMULAS] = len(cells)
        check.agreed[FORMULAS] = sum(same(python.get(k), engine.get(k)) for k in cells)
        checks.append(check)
    soffice = find_soffice() if libreoffice else None
    if soffice is None:
        for check in checks:
            check.skipped[LIBREOFFICE] = "not installed" if libreoffice else "not asked"
        return checks
    lo_all = libreoffice_values_many([path for path, _ in books])
    for check, (cells, python), lo in zip(checks, expected, lo_all):
        addin = needs_addin(cells)
        native = [k for k in cells if k not in addin]
        if not native:
            check.skipped[LIBREOFFICE] = "every formula needs the add-in (CVP_*)"
            continue
        check.compared[LIBREOFFICE] = len(native)
        check.agreed[LIBREOFFICE] = sum(same(python.get(k), lo.get(k)) for k in native)
        if addin:
            check.skipped[LIBREOFFICE] = f"{len(addin)} cells need the add-in (CVP_*)"
    return checks


def run_demo(out_dir: Path, echo=print, libreoffice: bool = True) -> list[Check]:
    """Build every example workbook into ``out_dir``, check each, print what agreed."""
    import pandas as pd

    from cvp_xl.commands.batch import build_many, read_table
    from cvp_xl.workbooks.calculator import load_spec
    from cvp_xl.workbooks.calculator.builder import build

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    books: list[tuple[Path, Path]] = []

    deals = deals_book.build(out_dir / "deals.xlsx",
                             deals_book.read_deals(_shipped(deals_book.DEALS_CSV)))
    shared = out_dir / "deals-shared.xlsx"
    changes = share(deals, shared)
    books += [(deals, deals), (shared, deals)]
    echo(f"deals-shared.xlsx: {len(changes)} CVP_* formulas translated into native Excel")
    table = pd.read_excel(deals, sheet_name="Deals")
    shown = table.copy()
    for col in shown.columns[1:]:
        pct = col.startswith("ROI")
        shown[col] = shown[col].map(lambda x, pct=pct: "" if pd.isna(x) else
                                    f"{x:.1%}" if pct else f"{x:,.0f}")
    echo(shown.to_string(index=False))
    echo("")

    for spec_path in sorted(_shipped(example("calculators")).glob("*.yaml")):
        spec = load_spec(spec_path)
        target = out_dir / "calculators" / f"{spec_path.stem}.xlsx"
        layout = build(spec, target)
        summary = openpyxl.load_workbook(target, data_only=True)["Summary"]
        echo(f"{target.name}: total value per year {spec.currency} "
             f"{summary[layout.results['total_per_year']].value:,.0f}, differential vs "
             f"{summary[layout.results['next_best']].value}: {spec.currency} "
             f"{summary[layout.results['differential']].value:,.0f}")
        books.append((target, target))
    customers = _shipped(example("calculators", "fleet-routing-customers.csv"))
    spec = load_spec(example("calculators", "fleet-routing.yaml"))
    report = build_many(spec, read_table(customers), out_dir / "batch", source=str(customers))
    echo(f"batch: {len(report.written)} written, {len(report.up_to_date)} up to date, "
         f"{len(report.problems)} bad rows; summary in {out_dir / 'batch' / 'summary.xlsx'}")
    books += [(p, p) for p in sorted((out_dir / "batch").glob("D-*.xlsx"))[:2]]

    for name in EXAMPLE_MODULES:
        module = importlib.import_module(f"cvp_xl.workbooks.{name}")
        made = [Path(p) for p in module.build_example_workbooks(out_dir / name)]
        books += [(p, p) for p in made]
        echo(f"{name}: {', '.join(p.name for p in made)}")
    echo("")
    echo("Every value was stored by Python; recomputed by engines that did not write it:")
    checks = check_books(books, libreoffice=libreoffice)
    for check in checks:
        echo(check.line(out_dir))
    return checks
