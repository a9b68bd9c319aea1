"""The value-based pricing workbook: EVE waterfall, price range, capture, ratio vs differential.

One sheet, ``Pricing``, built from a spec (``workbooks/pricing/*.yaml``):

1. the reference value by unit equivalence (DOMAIN.md §5);
2. the positive and 3. the negative differentiation values, each with its source;
4. the total economic value and the price range (floor = reference value, ceiling = economic
   value), with the EVE waterfall chart and the chosen price marked across it;
5. at the chosen price: the share of the differentiation value the supplier captures, the
   customer's share and its incentive to switch, and the price for a target customer share;
6. value-to-price ratio against the value differential for two or three offerings, with the
   differential named as the measure that decides;

then, on a page of its own, the EVE waterfall chart and the data it draws.  The sheet is laid
out down the page in columns A to H and prints portrait, one page wide: the sections on the
first page, the waterfall on the second (A4 and Letter).

Share-safe: only arithmetic, SUM, MIN, MAX, IF, OR, INDEX, MATCH and RANK, the native
translations of the registry's ``CVP_*`` functions (so the conformance suite vouches for them),
no ``CVP_*`` call.  Every formula is written with the value Python computed for it (the domain
functions of :mod:`cvp_xl.domain.pricing` and :mod:`cvp_xl.domain.value`, plain arithmetic for
sums, running totals, ratios, ranks and picks, an ``ErrorValue`` where the formula gives an
Excel error) and the file is saved once by :class:`~cvp_xl.workbooks.book.Book`; the formulas
engine and LibreOffice only check those values.  Inputs are styled and unlocked; the sheet is
protected without a password.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.legend import LegendEntry
from openpyxl.worksheet.datavalidation import DataValidation

from cvp_xl.domain import pricing
from cvp_xl.domain.value import differential, incentive
from cvp_xl.errors import CvpError, CvpValueError, ErrorValue
from cvp_xl.workbooks import example
from cvp_xl.workbooks.book import Book, native
from cvp_xl.workbooks.spec_fields import field as _get
from cvp_xl.workbooks.spec_fields import list_field as _list
from cvp_xl.workbooks.spec_fields import number_field as _num
from cvp_xl.workbooks.spec_fields import read_mapping as _read
from cvp_xl.workbooks.spec_fields import text_field as _text
from cvp_xl.workbooks.style import (
    BOLD,
    NOTE_FONT,
    PERCENT,
    RATIO,
    TITLE_FONT,
    WRAP,
    excel_axes,
    header,
    note,
    print_setup,
    protect,
    validation,
)
from cvp_xl.workbooks.style import label as _label

__all__ = ["build", "build_example_workbooks", "load_spec", "EXAMPLES", "SHEET",
           "WATERFALL_HEADER"]

#: The folder of the example specs shipped with the repository.
EXAMPLES = example("pricing")
SHEET = "Pricing"

DECIDES = ("The differential decides: the customer buys the offering whose value minus price "
           "beats the next best alternative by the most. A higher value-to-price ratio on a "
           "smaller offering puts less money in the customer's pocket.")
DIV0 = ErrorValue("#DIV/0!")
WATERFALL_HEADER = "Waterfall (chart data)"
#: Column widths: labels in A, amounts and the comparison's columns in B to H.
WIDTHS = {"A": 36, "B": 14, "C": 14, "D": 14, "E": 14, "F": 14, "G": 12, "H": 12}
LAST_COL = "H"
CHART_HEIGHT = 13.0  # cm: the waterfall, on the second page above its data
ROW_CM = 0.53  # a row of 15 points


def label(cell, text: str, font=None) -> None:
    """A label, wrapped within its column."""
    _label(cell, text, font)
    cell.alignment = WRAP


# -- spec --------------------------------------------------------------------------------------


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


# -- what the formulas compute, as Excel computes it -------------------------------------------


def _ref(value):
    """What ``=A1`` shows for an input cell: its value, 0 for an empty cell."""
    return 0 if value is None or value == "" else value


def _sum(values) -> float:
    """``SUM`` of input cells: blanks skipped, 0 for none."""
    return sum(v for v in values if v is not None)


def _min(values) -> float:
    """``MIN`` of input cells: blanks skipped, 0 for none."""
    return min((v for v in values if v is not None), default=0)


def _error(*values) -> ErrorValue | None:
    """The first error among the values, as a formula that reads them passes it on."""
    return next((v for v in values if isinstance(v, ErrorValue)), None)


def _equal(a, b):
    """``a=b`` in a formula: text compared ignoring case, text never equals a number."""
    if _error(a, b):
        return _error(a, b)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if isinstance(a, str) or isinstance(b, str):
        return False
    return a == b


def _ratio(value: float, price: float):
    """``=value/price``."""
    return DIV0 if price == 0 else value / price


def _capture(price: float, ref: float, eco: float):
    """The native ``CVP_VALUE_CAPTURE`` as the cell computes it: the function's value, or the
    error code it refuses with (its native translation carries the same guards)."""
    try:
        return pricing.value_capture(price, ref, eco)
    except CvpError as exc:
        return ErrorValue(exc.code)


def _rank(x, xs: list):
    """``RANK(x, xs, 0)``: 1 + how many are larger; an error in ``x`` or ``xs`` is passed on."""
    err = _error(x, *xs)
    return err if err else 1 + sum(v > x for v in xs)


def _pick_largest(names: list, xs: list):
    """``INDEX(names, MATCH(MAX(xs), xs, 0))``: the first name of the largest value."""
    err = _error(*xs)
    return err if err else _ref(names[xs.index(max(xs))])


# -- the workbook ------------------------------------------------------------------------------


def build(path, spec=None) -> Path:
    """Write the pricing workbook for ``spec`` to ``path``, with formulas and their values.

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
    book = Book()
    ws = book.wb.active
    ws.title = SHEET
    for col, width in WIDTHS.items():
        ws.column_dimensions[col].width = width
    amounts = validation(ws, "decimal", "greaterThanOrEqual", "0", None,
                         "Enter an amount of 0 or more; negative differentiation value goes in "
                         "its own list as a positive amount.")
    positive_dv = validation(ws, "decimal", "greaterThan", "0", None, "Enter a number above 0.")
    share_dv = validation(ws, "decimal", "between", "0", "1",
                          "Enter a share from 0 to 1 (0.4 for 40 %).")

    def source(ref: str, text: str) -> None:
        """A source: an input over columns D to H, wrapped."""
        book.input(ws[ref], text)
        ws[ref].alignment = WRAP
        ws.merge_cells(f"{ref}:{LAST_COL}{ws[ref].row}")

    _label(ws["A1"], s["title"], TITLE_FONT)
    note(ws, "A2", "Example figures for illustration, not facts: replace the shaded inputs "
                   "with the customer's figures and state their sources.", LAST_COL)
    label(ws["A3"], "Amounts in")
    _label(ws["B3"], " ".join(p for p in (s["currency"], s["unit"]) if p))

    # 1. reference value
    header(ws, 5, 1, ["1. Reference value (unit equivalence)", "", "", "Source", "", "", "",
                      ""])
    alt = s["alternative"]
    label(ws["A6"], "Next best alternative")
    book.input(ws["B6"], alt["name"])
    label(ws["A7"], "Price of one unit of the alternative")
    book.input(ws["B7"], alt["price"], money)
    amounts.add("B7")
    label(ws["A8"], "Units of the alternative that one unit of ours replaces")
    book.input(ws["B8"], alt["units_per_unit"], "0.00")
    positive_dv.add("B8")
    source("D7", alt["source"])
    label(ws["A9"], "Reference value (price x units)", BOLD)
    ref_value = pricing.reference_value(alt["price"], alt["units_per_unit"])
    book.formula(ws["B9"], native("CVP_REFERENCE_VALUE", "B7", "B8"), ref_value, money,
                 bold=True)
    ref = "B9"

    # 2. and 3. differentiation values
    def items(first_row: int, title: str, entries: list[dict]) -> list[dict]:
        header(ws, first_row, 1, [title, "Amount", "", "Source", "", "", "", ""])
        rows = entries or [{"name": "", "value": None, "source": ""}]  # one row to fill in
        for k, e in enumerate(rows):
            r = first_row + 1 + k
            book.input(ws.cell(r, 1), e["name"])
            ws.cell(r, 1).alignment = WRAP
            book.input(ws.cell(r, 2), e["value"], money)
            amounts.add(f"B{r}")
            source(f"D{r}", e["source"])
        return [dict(e, row=first_row + 1 + k) for k, e in enumerate(rows)]

    positive = items(11, "2. Positive differentiation value", s["positive"])
    negative = items(positive[-1]["row"] + 2, "3. Negative differentiation value "
                                              "(entered as positive amounts)", s["negative"])
    pos = f"B{positive[0]['row']}:B{positive[-1]['row']}"
    neg = f"B{negative[0]['row']}:B{negative[-1]['row']}"
    pos_values = [e["value"] for e in positive]
    neg_values = [e["value"] for e in negative]

    # 4. economic value and price range
    r = negative[-1]["row"] + 2
    header(ws, r, 1, ["4. Economic value and price range", "", "", "", "", "", "", ""])
    label(ws[f"A{r + 1}"], "Reference value")
    book.formula(ws[f"B{r + 1}"], f"={ref}", ref_value, money)
    label(ws[f"A{r + 2}"], "+ Positive differentiation value")
    book.formula(ws[f"B{r + 2}"], f"=SUM({pos})", _sum(pos_values), money)
    label(ws[f"A{r + 3}"], "- Negative differentiation value")
    book.formula(ws[f"B{r + 3}"], f"=SUM({neg})", _sum(neg_values), money)
    label(ws[f"A{r + 4}"], "Total economic value", BOLD)
    eco = f"B{r + 4}"
    eco_value = pricing.eve(ref_value, pos_values, neg_values)
    book.formula(ws[eco], native("CVP_EVE", ref, pos, neg), eco_value, money, bold=True)
    label(ws[f"A{r + 5}"], "Check of the amounts")
    book.formula(ws[f"B{r + 5}"], f'=IF(OR(MIN({pos})<0,MIN({neg})<0),"Enter every amount as a '
                                  f'positive number","OK")',
                 "Enter every amount as a positive number"
                 if _min(pos_values) < 0 or _min(neg_values) < 0 else "OK")
    floor_value, ceiling_value = (float(x) for x in pricing.price_range(ref_value, eco_value)[0])
    label(ws[f"A{r + 6}"], "Price floor (reference value: the customer keeps all the "
                           "differentiation value)")
    book.formula(ws[f"B{r + 6}"], f"={ref}", floor_value, money)
    label(ws[f"A{r + 7}"], "Price ceiling (total economic value: the customer keeps none)")
    book.formula(ws[f"B{r + 7}"], f"={eco}", ceiling_value, money)
    floor, ceiling = f"B{r + 6}", f"B{r + 7}"

    # 5. the chosen price
    r += 9
    header(ws, r, 1, ["5. At the chosen price", "", "", "Source", "", "", "", ""])
    price = f"B{r + 1}"
    price_value = s["price"]
    label(ws[f"A{r + 1}"], "Our price", BOLD)
    book.input(ws[price], price_value, money)
    amounts.add(price)
    source(f"D{r + 1}", s["price_source"])
    label(ws[f"A{r + 2}"], "Share of the differentiation value captured by the supplier")
    capture = f"B{r + 2}"
    capture_value = _capture(price_value, ref_value, eco_value)
    book.formula(ws[capture], native("CVP_VALUE_CAPTURE", price, ref, eco), capture_value,
                 PERCENT, bold=True)
    label(ws[f"A{r + 3}"], "Customer's share of the differentiation value")
    book.formula(ws[f"B{r + 3}"], f"=1-{capture}", _error(capture_value) or 1 - capture_value,
                 PERCENT)
    label(ws[f"A{r + 4}"], "Customer's incentive to switch (economic value - price)")
    book.formula(ws[f"B{r + 4}"], native("CVP_INCENTIVE", eco, price),
                 incentive(eco_value, price_value), money, bold=True)
    label(ws[f"A{r + 5}"], "Where the price lies")
    below = "Below the floor: the customer gets more than all of the differentiation value"
    above = "Above the ceiling: the customer's incentive is negative"
    within = "Within the value-based price range"
    book.formula(ws[f"B{r + 5}"],
                 f'=IF({price}<{floor},"{below}",IF({price}>{ceiling},"{above}","{within}"))',
                 below if price_value < floor_value
                 else above if price_value > ceiling_value else within)
    label(ws[f"A{r + 6}"], "Target customer share of the differentiation value")
    share = f"B{r + 6}"
    book.input(ws[share], s["target_customer_share"], PERCENT)
    share_dv.add(share)
    label(ws[f"A{r + 7}"], "Price that leaves the customer that share")
    book.formula(ws[f"B{r + 7}"], native("CVP_PRICE_FOR_SHARE", ref, eco, share),
                 pricing.price_for_share(ref_value, eco_value, s["target_customer_share"]),
                 money)

    # 6. value-to-price ratio against the differential
    r += 9
    end = _comparison(book, ws, r, s["comparison"], money, amounts)

    top = end + 2  # the waterfall starts the second page
    _waterfall(book, ws, top, s, (ref, ref_value), (eco, eco_value), (price, price_value),
               positive, negative, money)
    protect(ws)
    print_setup(ws, "portrait", breaks=[top], values=book.values)
    return book.save(path)


def _comparison(book: Book, ws, r: int, comparison: dict, money: str,
                amounts: DataValidation) -> int:
    """Section 6 from row ``r``; returns its last row."""
    header(ws, r, 1, ["6. Value-to-price ratio against the differential",
                      "Value to the customer", "Price", "Value-to-price ratio",
                      "Incentive (value - price)", "Differential vs next best",
                      "Rank by ratio", "Rank by differential"])
    alt_row = r + 1
    alt = comparison["alternative"]
    book.input(ws[f"A{alt_row}"], alt["name"])
    book.input(ws[f"B{alt_row}"], alt["value"], money)
    book.input(ws[f"C{alt_row}"], alt["price"], money)
    book.formula(ws[f"D{alt_row}"], f"=B{alt_row}/C{alt_row}", _ratio(alt["value"], alt["price"]),
                 RATIO)
    book.formula(ws[f"E{alt_row}"], native("CVP_INCENTIVE", f"B{alt_row}", f"C{alt_row}"),
                 incentive(alt["value"], alt["price"]), money)
    _label(ws[f"F{alt_row}"], "next best alternative", NOTE_FONT)  # runs on over G and H
    offerings = comparison["offerings"]
    first, last = alt_row + 1, alt_row + len(offerings)
    names = [o["name"] for o in offerings]
    ratios = [_ratio(o["value"], o["price"]) for o in offerings]
    diffs = [differential(o["value"], o["price"], alt["value"], alt["price"]) for o in offerings]
    for k, o in enumerate(offerings):
        row = first + k
        book.input(ws[f"A{row}"], o["name"])
        book.input(ws[f"B{row}"], o["value"], money)
        book.input(ws[f"C{row}"], o["price"], money)
        book.formula(ws[f"D{row}"], f"=B{row}/C{row}", ratios[k], RATIO)
        book.formula(ws[f"E{row}"], native("CVP_INCENTIVE", f"B{row}", f"C{row}"),
                     incentive(o["value"], o["price"]), money)
        book.formula(ws[f"F{row}"], native("CVP_DIFFERENTIAL", f"B{row}", f"C{row}",
                                           f"B${alt_row}", f"C${alt_row}"), diffs[k], money,
                     bold=True)
        book.formula(ws[f"G{row}"], f"=RANK(D{row},D${first}:D${last},0)",
                     _rank(ratios[k], ratios), "0")
        book.formula(ws[f"H{row}"], f"=RANK(F{row},F${first}:F${last},0)",
                     _rank(diffs[k], diffs), "0")
    for row in range(alt_row, last + 1):
        amounts.add(f"B{row}:C{row}")
    name_range = f"A{first}:A{last}"
    r = last + 2
    best_ratio, best_diff = _pick_largest(names, ratios), _pick_largest(names, diffs)
    label(ws[f"A{r}"], "Best value-to-price ratio")
    book.formula(ws[f"B{r}"],
                 f"=INDEX({name_range},MATCH(MAX(D{first}:D{last}),D{first}:D{last},0))",
                 best_ratio)
    label(ws[f"A{r + 1}"], "Largest differential: this decides", BOLD)
    book.formula(ws[f"B{r + 1}"],
                 f"=INDEX({name_range},MATCH(MAX(F{first}:F{last}),F{first}:F{last},0))",
                 best_diff, bold=True)
    label(ws[f"A{r + 2}"], "Do the two measures agree?")
    agree = _equal(best_ratio, best_diff)
    book.formula(ws[f"B{r + 2}"], f'=IF(B{r}=B{r + 1},"Yes: both rank the same offering first",'
                                  f'"No: follow the differential")',
                 agree if isinstance(agree, ErrorValue)
                 else "Yes: both rank the same offering first" if agree
                 else "No: follow the differential")
    note(ws, f"A{r + 3}", DECIDES, LAST_COL)
    return r + 3


def _waterfall(book: Book, ws, top: int, s: dict, ref: tuple[str, float],
               eco: tuple[str, float], price: tuple[str, float], positive: list[dict],
               negative: list[dict], money: str) -> None:
    """The stacked-bar waterfall with the price line from row ``top``, its data below it
    (columns A to G).

    ``ref``, ``eco`` and ``price`` are each a cell and its value; ``positive`` and
    ``negative`` the rows of the differentiation values (``row``, ``name``, ``value``).
    """
    head = top + int(CHART_HEIGHT / ROW_CM) + 2  # the chart's rows, then a blank row
    header(ws, head, 1, [WATERFALL_HEADER, "Base", "Increase", "Decrease", "Total",
                         "Our price", "Running total"])
    row = head + 1

    def step(title, cells: list[tuple[str, object]]) -> None:
        """One row: a label, or a formula and its value; then base, up, down, total, running."""
        nonlocal row
        if isinstance(title, str):
            label(ws[f"A{row}"], title)
        else:
            book.formula(ws[f"A{row}"], *title)
            ws[f"A{row}"].alignment = WRAP
        cells = cells[:4] + [(f"={price[0]}", price[1])] + cells[4:]
        for col, (formula, value) in zip("BCDEFG", cells):

            book.formula(ws[f"{col}{row}"], formula, value, money)
        row += 1

    zero = ("=0", 0)
    step("Reference value", [zero, zero, zero, (f"={ref[0]}", ref[1]), (f"={ref[0]}", ref[1])])
    running = ref[1]  # the running total of the row above
    for e in positive:
        r, amount = e["row"], _ref(e["value"])
        up = running + amount
        step((f"=A{r}", _ref(e["name"])),
             [(f"=G{row - 1}", running), (f"=B{r}", amount), zero, zero,
              (f"=G{row - 1}+B{r}", up)])
        running = up
    for e in negative:
        r, amount = e["row"], _ref(e["value"])
        down = running - amount
        step((f"=A{r}", _ref(e["name"])),
             [(f"=G{row}", down), zero, (f"=B{r}", amount), zero, (f"=G{row - 1}-B{r}", down)])
        running = down
    step("Total economic value", [zero, zero, zero, (f"={eco[0]}", eco[1]),
                                  (f"={eco[0]}", eco[1])])
    last = row - 1

    bar = BarChart()
    bar.type, bar.grouping, bar.overlap, bar.gapWidth = "col", "stacked", 100, 60
    bar.title = "Economic value estimation, with our price marked"
    bar.y_axis.title = " ".join(p for p in (s["currency"], s["unit"]) if p) or None
    bar.y_axis.numFmt = money
    bar.add_data(Reference(ws, min_col=2, max_col=5, min_row=head, max_row=last),
                 titles_from_data=True)
    cats = Reference(ws, min_col=1, min_row=head + 1, max_row=last)
    bar.set_categories(cats)
    base, up, down, total = bar.series
    base.graphicalProperties.noFill = True
    base.graphicalProperties.line.noFill = True
    for series, color in ((up, "70AD47"), (down, "C00000"), (total, "4472C4")):
        series.graphicalProperties.solidFill = color
        series.graphicalProperties.line.solidFill = color
    line = LineChart()
    line.add_data(Reference(ws, min_col=6, min_row=head, max_row=last), titles_from_data=True)
    line.set_categories(cats)
    line.series[0].graphicalProperties.line.solidFill = "000000"
    line.series[0].graphicalProperties.line.dashStyle = "dash"
    line.series[0].graphicalProperties.line.width = 28575
    line.series[0].smooth = False
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.legend.position = "b"
    bar.legend.legendEntry = [LegendEntry(idx=0, delete=True)]  # the invisible base
    bar.height, bar.width = CHART_HEIGHT, 25

    bar += line
    excel_axes(bar)
    ws.add_chart(bar, f"A{top}")


def build_example_workbooks(out_dir) -> list[Path]:
    """Build a pricing workbook for every example spec in ``workbooks/pricing/``.

    Each ``NAME.yaml`` becomes ``out_dir / "pricing-NAME.xlsx"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [build(out / f"pricing-{spec.stem}.xlsx", spec)
            for spec in sorted(EXAMPLES.glob("*.yaml"))]
