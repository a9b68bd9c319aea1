"""The value-based pricing workbook: EVE waterfall, price range, capture, ratio vs differential.

One sheet, ``Pricing``, built from a spec (``workbooks/pricing/*.yaml``):

1. the reference value by unit equivalence (DOMAIN.md §5);
2. the positive and 3. the negative differentiation values, each with its source;
4. the total economic value and the price range (floor = reference value, ceiling = economic
   value), with the EVE waterfall chart and the chosen price marked across it;
5. at the chosen price: the share of the differentiation value the supplier captures, the
   customer's share and its incentive to switch, and the price for a target customer share;
6. value-to-price ratio against the value differential for two or three offerings, with the
   differential named as the measure that decides.

Share-safe: only arithmetic, SUM, MIN, MAX, IF, OR, INDEX, MATCH and RANK, the native
translations of the registry's ``CVP_*`` functions (so the conformance suite vouches for them),
no ``CVP_*`` call.  The file is written with openpyxl and then recomputed by the formulas engine
(:func:`cvp_xl.recalc.recalc`), so it carries formulas and their values.  Inputs are styled and
unlocked; the sheet is protected without a password.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.legend import LegendEntry
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from .. import pricing
from ..args import number
from ..errors import CvpError, CvpValueError
from ..recalc import recalc
from ..registry import get
from ..xlsx.cached import atomic_save_workbook
from ..xlsx.write import set_text, set_value
from . import load_yaml

__all__ = ["build", "build_example_workbooks", "load_spec", "EXAMPLES", "SHEET"]

#: The folder of the example specs shipped with the repository.
EXAMPLES = Path(__file__).resolve().parents[2] / "workbooks" / "pricing"
SHEET = "Pricing"

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INPUT_FONT = Font(color="1F4E78")
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
HEAD_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
NOTE_FONT = Font(italic=True, color="595959")
UNLOCKED = Protection(locked=False)
PERCENT = "0.0%"
RATIO = "0.00"

DECIDES = ("The differential decides: the customer buys the offering whose value minus price "
           "beats the next best alternative by the most. A higher value-to-price ratio on a "
           "smaller offering puts less money in the customer's pocket.")


# -- cells -------------------------------------------------------------------------------------


def native(name: str, *refs: str) -> str:
    """``=`` plus the registry's native translation of ``name`` for these references."""
    return "=" + get(name).to_native(*refs)


def put_input(cell, value, number_format: str | None = None) -> None:
    """An input cell: styled as an input, unlocked; text from data is written as text."""
    set_value(cell, value)
    cell.fill, cell.font, cell.protection = INPUT_FILL, INPUT_FONT, UNLOCKED
    if number_format:
        cell.number_format = number_format


def put_formula(cell, formula: str, number_format: str | None = None, bold=False) -> None:
    """A formula cell (locked, as every cell is by default)."""
    if not formula.startswith("="):
        raise ValueError(f"{cell.coordinate}: not a formula: {formula!r}")
    cell.value = formula
    if number_format:
        cell.number_format = number_format
    if bold:
        cell.font = BOLD


def put_label(cell, text: str, font: Font | None = None) -> None:
    set_text(cell, text)
    if font is not None:
        cell.font = font


def put_header(ws, row: int, col: int, titles: list[str]) -> None:
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


def validation(ws, kind: str, operator: str, formula1: str, formula2: str | None,
               message: str) -> DataValidation:
    dv = DataValidation(type=kind, operator=operator, formula1=formula1, formula2=formula2,
                        allow_blank=True, showErrorMessage=True, errorTitle="Check the input",
                        error=message)
    ws.add_data_validation(dv)
    return dv


# -- spec --------------------------------------------------------------------------------------


def _read(spec, default: Path) -> tuple[dict, str]:
    data, where = load_yaml(spec, default)
    if not isinstance(data, dict):
        raise CvpValueError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    return data, where


def _get(data: dict, key: str, where: str, default=...):
    if key not in data or data[key] is None:
        if default is ...:
            raise CvpValueError(f"{where}: {key} is missing")
        return default
    return data[key]


def _num(data: dict, key: str, where: str, default=...) -> float:
    value = _get(data, key, where, default)
    try:
        return number(value, key)
    except CvpError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None


def _text(data: dict, key: str, where: str, default=...) -> str:
    value = _get(data, key, where, default)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{value:g}"
    if not isinstance(value, str):
        raise CvpValueError(f"{where}: {key}: expected text, got {value!r}")
    return value


def _list(data: dict, key: str, where: str) -> list:
    value = _get(data, key, where, [])
    if not isinstance(value, list):
        raise CvpValueError(f"{where}: {key}: expected a list, got {type(value).__name__}")
    return value


def _item(entry, where: str) -> dict:
    if not isinstance(entry, dict):
        raise CvpValueError(f"{where}: expected name, value and source, got {entry!r}")
    return {"name": _text(entry, "name", where), "value": _num(entry, "value", where),
            "source": _text(entry, "source", where, "")}


def load_spec(spec=None) -> dict:
    """Read and check a pricing spec (a dict, or the path of a YAML file; default: the example).

    Returns the spec with every field present and every number a float.  Bad input raises a
    :class:`~cvp_xl.errors.CvpError` naming the file and the field.
    """
    data, where = _read(spec, EXAMPLES / "super-towel.yaml")
    alt = _get(data, "alternative", where)
    if not isinstance(alt, dict):
        raise CvpValueError(f"{where}: alternative: expected name, price, units_per_unit")
    out = {
        "title": _text(data, "title", where, "Value-based price"),
        "currency": _text(data, "currency", where, ""),
        "unit": _text(data, "unit", where, ""),
        "money_format": _text(data, "money_format", where, "#,##0.00"),
        "alternative": {
            "name": _text(alt, "name", f"{where}: alternative"),
            "price": _num(alt, "price", f"{where}: alternative"),
            "units_per_unit": _num(alt, "units_per_unit", f"{where}: alternative"),
            "source": _text(alt, "source", f"{where}: alternative", ""),
        },
        "positive": [_item(e, f"{where}: positive[{i}]")
                     for i, e in enumerate(_list(data, "positive", where), start=1)],
        "negative": [_item(e, f"{where}: negative[{i}]")
                     for i, e in enumerate(_list(data, "negative", where), start=1)],
        "price": _num(data, "price", where),
        "price_source": _text(data, "price_source", where, ""),
        "target_customer_share": _num(data, "target_customer_share", where, 0.5),
    }
    comparison = _get(data, "comparison", where)
    cwhere = f"{where}: comparison"
    if not isinstance(comparison, dict):
        raise CvpValueError(f"{cwhere}: expected alternative and offerings")
    offerings = _list(comparison, "offerings", cwhere)
    if not 2 <= len(offerings) <= 3:
        raise CvpValueError(f"{cwhere}: offerings: expected 2 or 3, got {len(offerings)}")
    out["comparison"] = {
        "alternative": _offering(_get(comparison, "alternative", cwhere), f"{cwhere}: alternative"),
        "offerings": [_offering(o, f"{cwhere}: offerings[{i}]")
                      for i, o in enumerate(offerings, start=1)],
    }
    # The functions' own checks: amounts 0 or more, units above 0, a share from 0 to 1.
    try:
        ref = pricing.reference_value(out["alternative"]["price"],
                                      out["alternative"]["units_per_unit"])
        eco = pricing.eve(ref, [e["value"] for e in out["positive"]],
                          [e["value"] for e in out["negative"]])
        pricing.price_for_share(ref, eco, out["target_customer_share"])
    except CvpError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None
    return out


def _offering(entry, where: str) -> dict:
    if not isinstance(entry, dict):
        raise CvpValueError(f"{where}: expected name, value and price, got {entry!r}")
    return {"name": _text(entry, "name", where), "value": _num(entry, "value", where),
            "price": _num(entry, "price", where)}


# -- the workbook ------------------------------------------------------------------------------


def build(path, spec=None) -> Path:
    """Write the pricing workbook for ``spec`` to ``path``, with formulas and cached values.

    Parameters
    ----------
    path : path-like
        The .xlsx file to write (atomically; replaced if it exists).
    spec : dict or path-like, optional
        The inputs (see ``workbooks/pricing/super-towel.yaml``); default: that example.

    Returns
    -------
    pathlib.Path
    """
    s = load_spec(spec)
    money = s["money_format"]
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    widths = {"A": 50, "B": 16, "C": 16, "D": 16, "E": 16, "F": 16, "G": 12, "H": 12, "I": 3,
              "J": 34, "K": 12, "L": 12, "M": 12, "N": 12, "O": 12, "P": 14}
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    amounts = validation(ws, "decimal", "greaterThanOrEqual", "0", None,
                         "Enter an amount of 0 or more; negative differentiation value goes in "
                         "its own list as a positive amount.")
    positive_dv = validation(ws, "decimal", "greaterThan", "0", None, "Enter a number above 0.")
    share_dv = validation(ws, "decimal", "between", "0", "1",
                          "Enter a share from 0 to 1 (0.4 for 40 %).")

    put_label(ws["A1"], s["title"], TITLE_FONT)
    put_label(ws["A2"], "Example figures for illustration, not facts: replace the shaded inputs "
                        "with the customer's figures and state their sources.", NOTE_FONT)
    put_label(ws["A3"], "Amounts in")
    put_label(ws["B3"], " ".join(p for p in (s["currency"], s["unit"]) if p))

    # 1. reference value
    put_header(ws, 5, 1, ["1. Reference value (unit equivalence)", "", "", "Source"])
    alt = s["alternative"]
    put_label(ws["A6"], "Next best alternative")
    put_input(ws["B6"], alt["name"])
    put_label(ws["A7"], "Price of one unit of the alternative")
    put_input(ws["B7"], alt["price"], money)
    amounts.add("B7")
    put_label(ws["A8"], "Units of the alternative that one unit of ours replaces")
    put_input(ws["B8"], alt["units_per_unit"], "0.00")
    positive_dv.add("B8")
    put_input(ws["D7"], alt["source"])
    put_label(ws["A9"], "Reference value (price x units)", BOLD)
    put_formula(ws["B9"], native("CVP_REFERENCE_VALUE", "B7", "B8"), money, bold=True)
    ref = "B9"

    # 2. and 3. differentiation values
    def items(first_row: int, title: str, entries: list[dict]) -> tuple[int, int]:
        put_header(ws, first_row, 1, [title, "Amount", "", "Source"])
        rows = entries or [{"name": "", "value": None, "source": ""}]  # one row to fill in
        for k, e in enumerate(rows):
            r = first_row + 1 + k
            put_input(ws.cell(r, 1), e["name"])
            put_input(ws.cell(r, 2), e["value"], money)
            amounts.add(f"B{r}")
            put_input(ws.cell(r, 4), e["source"])
        return first_row + 1, first_row + len(rows)

    pos_first, pos_last = items(11, "2. Positive differentiation value", s["positive"])
    neg_first, neg_last = items(pos_last + 2, "3. Negative differentiation value "
                                              "(entered as positive amounts)", s["negative"])
    pos, neg = f"B{pos_first}:B{pos_last}", f"B{neg_first}:B{neg_last}"

    # 4. economic value and price range
    r = neg_last + 2
    put_header(ws, r, 1, ["4. Economic value and price range", "", "", ""])
    put_label(ws[f"A{r + 1}"], "Reference value")
    put_formula(ws[f"B{r + 1}"], f"={ref}", money)
    put_label(ws[f"A{r + 2}"], "+ Positive differentiation value")
    put_formula(ws[f"B{r + 2}"], f"=SUM({pos})", money)
    put_label(ws[f"A{r + 3}"], "- Negative differentiation value")
    put_formula(ws[f"B{r + 3}"], f"=SUM({neg})", money)
    put_label(ws[f"A{r + 4}"], "Total economic value", BOLD)
    eco = f"B{r + 4}"
    put_formula(ws[eco], native("CVP_EVE", ref, pos, neg), money, bold=True)
    put_label(ws[f"A{r + 5}"], "Check of the amounts")
    put_formula(ws[f"B{r + 5}"], f'=IF(OR(MIN({pos})<0,MIN({neg})<0),"Enter every amount as a '
                                 f'positive number","OK")')
    put_label(ws[f"A{r + 6}"], "Price floor (reference value: the customer keeps all the "
                               "differentiation value)")
    put_formula(ws[f"B{r + 6}"], f"={ref}", money)
    put_label(ws[f"A{r + 7}"], "Price ceiling (total economic value: the customer keeps none)")
    put_formula(ws[f"B{r + 7}"], f"={eco}", money)
    floor, ceiling = f"B{r + 6}", f"B{r + 7}"

    # 5. the chosen price
    r += 9
    put_header(ws, r, 1, ["5. At the chosen price", "", "", "Source"])
    price = f"B{r + 1}"
    put_label(ws[f"A{r + 1}"], "Our price", BOLD)
    put_input(ws[price], s["price"], money)
    amounts.add(price)
    put_input(ws[f"D{r + 1}"], s["price_source"])
    put_label(ws[f"A{r + 2}"], "Share of the differentiation value captured by the supplier")
    capture = f"B{r + 2}"
    put_formula(ws[capture], native("CVP_VALUE_CAPTURE", price, ref, eco), PERCENT, bold=True)
    put_label(ws[f"A{r + 3}"], "Customer's share of the differentiation value")
    put_formula(ws[f"B{r + 3}"], f"=1-{capture}", PERCENT)
    put_label(ws[f"A{r + 4}"], "Customer's incentive to switch (economic value - price)")
    put_formula(ws[f"B{r + 4}"], native("CVP_INCENTIVE", eco, price), money, bold=True)
    put_label(ws[f"A{r + 5}"], "Where the price lies")
    put_formula(ws[f"B{r + 5}"],
                f'=IF({price}<{floor},"Below the floor: the customer gets more than all of the '
                f'differentiation value",IF({price}>{ceiling},"Above the ceiling: the '
                f'customer\'s incentive is negative","Within the value-based price range"))')
    put_label(ws[f"A{r + 6}"], "Target customer share of the differentiation value")
    share = f"B{r + 6}"
    put_input(ws[share], s["target_customer_share"], PERCENT)
    share_dv.add(share)
    put_label(ws[f"A{r + 7}"], "Price that leaves the customer that share")
    put_formula(ws[f"B{r + 7}"], native("CVP_PRICE_FOR_SHARE", ref, eco, share), money)

    # 6. value-to-price ratio against the differential
    r += 9
    _comparison(ws, r, s["comparison"], money, amounts)

    _waterfall(ws, s, ref, eco, price, (pos_first, pos_last), (neg_first, neg_last), money)
    protect(ws)
    path = Path(path)
    atomic_save_workbook(wb, path)
    recalc(path)
    return path


def _comparison(ws, r: int, comparison: dict, money: str, amounts: DataValidation) -> None:
    put_header(ws, r, 1, ["6. Value-to-price ratio against the differential",
                          "Value to the customer", "Price", "Value-to-price ratio",
                          "Incentive (value - price)", "Differential vs next best",
                          "Rank by ratio", "Rank by differential"])
    alt_row = r + 1
    alt = comparison["alternative"]
    put_input(ws[f"A{alt_row}"], alt["name"])
    put_input(ws[f"B{alt_row}"], alt["value"], money)
    put_input(ws[f"C{alt_row}"], alt["price"], money)
    put_formula(ws[f"D{alt_row}"], f"=B{alt_row}/C{alt_row}", RATIO)
    put_formula(ws[f"E{alt_row}"], native("CVP_INCENTIVE", f"B{alt_row}", f"C{alt_row}"), money)
    put_label(ws[f"F{alt_row}"], "next best alternative", NOTE_FONT)
    first, last = alt_row + 1, alt_row + len(comparison["offerings"])
    for k, o in enumerate(comparison["offerings"]):
        row = first + k
        put_input(ws[f"A{row}"], o["name"])
        put_input(ws[f"B{row}"], o["value"], money)
        put_input(ws[f"C{row}"], o["price"], money)
        put_formula(ws[f"D{row}"], f"=B{row}/C{row}", RATIO)
        put_formula(ws[f"E{row}"], native("CVP_INCENTIVE", f"B{row}", f"C{row}"), money)
        put_formula(ws[f"F{row}"], native("CVP_DIFFERENTIAL", f"B{row}", f"C{row}",
                                          f"B${alt_row}", f"C${alt_row}"), money, bold=True)
        put_formula(ws[f"G{row}"], f"=RANK(D{row},D${first}:D${last},0)", "0")
        put_formula(ws[f"H{row}"], f"=RANK(F{row},F${first}:F${last},0)", "0")
    for row in range(alt_row, last + 1):
        amounts.add(f"B{row}:C{row}")
    names = f"A{first}:A{last}"
    r = last + 2
    put_label(ws[f"A{r}"], "Best value-to-price ratio")
    put_formula(ws[f"B{r}"], f"=INDEX({names},MATCH(MAX(D{first}:D{last}),D{first}:D{last},0))")
    put_label(ws[f"A{r + 1}"], "Largest differential: this decides", BOLD)
    put_formula(ws[f"B{r + 1}"],
                f"=INDEX({names},MATCH(MAX(F{first}:F{last}),F{first}:F{last},0))", bold=True)
    put_label(ws[f"A{r + 2}"], "Do the two measures agree?")
    put_formula(ws[f"B{r + 2}"], f'=IF(B{r}=B{r + 1},"Yes: both rank the same offering first",'
                                 f'"No: follow the differential")')
    put_label(ws[f"A{r + 3}"], DECIDES, NOTE_FONT)
    ws[f"A{r + 3}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(f"A{r + 3}:H{r + 3}")
    ws.row_dimensions[r + 3].height = 32


def _waterfall(ws, s: dict, ref: str, eco: str, price: str, pos_rows: tuple[int, int],
               neg_rows: tuple[int, int], money: str) -> None:
    """The chart data (columns J to P) and the stacked-bar waterfall with the price line."""
    put_header(ws, 5, 10, ["Waterfall (chart data)", "Base", "Increase", "Decrease", "Total",
                           "Our price", "Running total"])
    row = 6

    def step(label: str | None, label_ref: str | None, base: str, up: str, down: str,
             total: str, running: str) -> None:
        nonlocal row
        if label is not None:
            put_label(ws[f"J{row}"], label)
        else:
            put_formula(ws[f"J{row}"], f"={label_ref}")
        for col, formula in zip("KLMNOP", (base, up, down, total, f"={price}", running)):
            put_formula(ws[f"{col}{row}"], formula, money)
        row += 1

    step("Reference value", None, "=0", "=0", "=0", f"={ref}", f"={ref}")
    for r in range(pos_rows[0], pos_rows[1] + 1):
        step(None, f"A{r}", f"=P{row - 1}", f"=B{r}", "=0", "=0", f"=P{row - 1}+B{r}")
    for r in range(neg_rows[0], neg_rows[1] + 1):
        step(None, f"A{r}", f"=P{row}", "=0", f"=B{r}", "=0", f"=P{row - 1}-B{r}")
    step("Total economic value", None, "=0", "=0", "=0", f"={eco}", f"={eco}")
    last = row - 1

    bar = BarChart()
    bar.type, bar.grouping, bar.overlap, bar.gapWidth = "col", "stacked", 100, 60
    bar.title = "Economic value estimation, with our price marked"
    bar.y_axis.title = " ".join(p for p in (s["currency"], s["unit"]) if p) or None
    bar.y_axis.numFmt = money
    bar.add_data(Reference(ws, min_col=11, max_col=14, min_row=5, max_row=last),
                 titles_from_data=True)
    cats = Reference(ws, min_col=10, min_row=6, max_row=last)
    bar.set_categories(cats)
    base, up, down, total = bar.series
    base.graphicalProperties.noFill = True
    base.graphicalProperties.line.noFill = True
    for series, color in ((up, "70AD47"), (down, "C00000"), (total, "4472C4")):
        series.graphicalProperties.solidFill = color
        series.graphicalProperties.line.solidFill = color
    line = LineChart()
    line.add_data(Reference(ws, min_col=15, min_row=5, max_row=last), titles_from_data=True)
    line.set_categories(cats)
    line.series[0].graphicalProperties.line.solidFill = "000000"
    line.series[0].graphicalProperties.line.dashStyle = "dash"
    line.series[0].graphicalProperties.line.width = 28575
    line.series[0].smooth = False
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.legend.position = "b"
    bar.legend.legendEntry = [LegendEntry(idx=0, delete=True)]  # the invisible base
    bar.height, bar.width = 9, 20
    bar += line
    ws.add_chart(bar, f"J{last + 2}")


def build_example_workbooks(out_dir) -> list[Path]:
    """Build a pricing workbook for every example spec in ``workbooks/pricing/``.

    Each ``NAME.yaml`` becomes ``out_dir / "pricing-NAME.xlsx"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / f"pricing-{spec.stem}.xlsx", spec)
            for spec in sorted(EXAMPLES.glob("*.yaml"))]
