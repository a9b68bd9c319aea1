"""The calculator as a printed document: every sheet of every example exported by LibreOffice.

One LibreOffice run prints each sheet of each example calculator to a PDF of its own
(``cvp_xl.commands.pdf.export_pdfs``); the PDFs are read back with pypdf.  Also here, without
LibreOffice: the money and percent formats of every amount, the data of the cumulative
cash-flow chart and the tornado's settings.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from helpers import close, requires_libreoffice

from cvp_xl.commands.pdf import PdfJob, export_pdfs
from cvp_xl.workbooks import example
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator.builder import build
from cvp_xl.workbooks.calculator.parts import money_format

pypdf = pytest.importorskip("pypdf")

SPECS = sorted(example("calculators").glob("*.yaml"))
SHEETS = ("Summary", "Inputs", "Value", "Sensitivity", "About")
#: The right-most printed column's header of each sheet: on the first page when the sheet
#: prints one page wide.
RIGHT_MOST = {"Summary": "Incentive", "Inputs": "Check", "Value": "Rank",
              "Sensitivity": "High - base", "About": "How to verify"}
#: Paper in PDF points (1/72 inch): Letter 8.5 x 11 in, A4 210 x 297 mm.
LETTER, A4 = (612, 792), (595, 842)


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    out = tmp_path_factory.mktemp("print")
    made = {}
    for path in SPECS:
        spec = load_spec(path)
        target = out / f"{path.stem}.xlsx"
        made[path.stem] = (spec, target, build(spec, target, customer="Acme"))
    return made


@pytest.fixture(scope="module")
def pdfs(books, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    jobs = [PdfJob(target, out / f"{stem}-{sheet}.pdf", (sheet,))
            for stem, (_, target, _) in books.items() for sheet in SHEETS]
    export_pdfs(jobs)  # one LibreOffice run for the fifteen PDFs
    return {(stem, sheet): pypdf.PdfReader(out / f"{stem}-{sheet}.pdf")
            for stem in books for sheet in SHEETS}


@requires_libreoffice
@pytest.mark.parametrize("stem", [p.stem for p in SPECS])
def test_every_sheet_prints_within_its_pages(stem, pdfs):
    # issue 15: Summary on one page; Inputs, Value, Sensitivity and About at most two
    pages = {sheet: len(pdfs[(stem, sheet)].pages) for sheet in SHEETS}
    assert pages["Summary"] == 1, pages
    assert all(1 <= pages[s] <= 2 for s in SHEETS[1:]), pages


@requires_libreoffice
@pytest.mark.parametrize("stem", [p.stem for p in SPECS])
def test_every_sheet_prints_one_page_wide(stem, pdfs, books):
    # a sheet wider than the page would print its right-most columns on a later page
    spec = books[stem][0]
    for sheet in SHEETS:
        first = pdfs[(stem, sheet)].pages[0].extract_text()
        assert RIGHT_MOST[sheet] in first, sheet
    if any(i.evidence is not None for i in spec.inputs):  # compressed-air-leaks
        # the evidence columns print on the first page too, after Check
        first = pdfs[(stem, "Inputs")].pages[0].extract_text()
        assert "Research methods" in first and "field value assessment" in first


@requires_libreoffice
@pytest.mark.parametrize("stem", [p.stem for p in SPECS])
def test_paper_follows_the_currency(stem, pdfs, books):
    spec = books[stem][0]
    want = LETTER if spec.currency == "USD" else A4
    for sheet in SHEETS:
        box = pdfs[(stem, sheet)].pages[0].mediabox
        size = sorted((round(float(box.width)), round(float(box.height))))
        assert tuple(size) == want, (sheet, size)


@requires_libreoffice
def test_the_summary_page_says_the_value_proposition(pdfs):
    # fleet routing, base (hand calculation, fleet-routing.yaml): fuel and wear
    # 2,400,000 x 0.08 x 0.62 = 119,040; overtime 9,000 x 0.3 x 42 = 113,400; late
    # deliveries (1,300 - 500) x 75 = 60,000.  Rival SaaS is the next best (incentive
    # 3 x 120,000 - (10,000 + 3 x 30,000) = 260,000 against 0 for manual dispatch);
    # differential 3 x 292,440 - (25,000 + 3 x 36,000) - 260,000 = 484,320.
    text = " ".join(pdfs[("fleet-routing", "Summary")].pages[0].extract_text().split())
    assert ("Over 3 years, RouteWise dynamic routing is worth USD 484,320 more to Acme than "
            "Rival routing SaaS, the next best alternative.") in text
    assert ("Its largest gains are Fuel and wear saved (USD 119,040 a year) and Driver "
            "overtime avoided (USD 113,400 a year).") in text


def _money_cells(layout) -> dict[str, list[str]]:
    """Every cell that holds an amount, by sheet, from the layout the builder returned."""
    r = layout.results
    summary = [r[k] for k in ("total_per_year", "value_nb", "price_nb", "incentive_nb",
                              "incentive_s", "differential", "breakeven_price", "npv",
                              "cost_of_waiting")]
    total_row = int(r["total_per_year"][1:])
    first = total_row - len(layout.element_rows)
    summary += [f"D{row}" for row in range(first, total_row)]
    n = len(layout.price_rows)  # the offering and the alternatives, above the measures
    parties = int(r["next_best"][1:]) - n - 1  # the first party row
    summary += [f"{c}{row}" for c in "BCD" for row in range(parties, parties + n)]
    value = [f"G{row}" for row in layout.element_rows.values()]
    first_flow, last_flow = (int(x[1:]) for x in r["cash_flows"].split("!")[1].split(":"))
    value += [f"{c}{row}" for c in "BC" for row in range(first_flow, last_flow + 1)]
    inputs = [f"{c}{row}" for c in "DEF" for row in layout.price_rows.values()]
    sens_last = 5 + len(layout.input_rows)
    sensitivity = ["D3"] + [f"{c}{row}" for c in "DEFGH" for row in range(6, sens_last + 1)]
    return {"Summary": summary, "Value": value, "Inputs": inputs, "Sensitivity": sensitivity}


@pytest.mark.parametrize("stem", [p.stem for p in SPECS])
def test_every_amount_shows_its_currency(stem, books):
    spec, target, layout = books[stem]
    wb = openpyxl.load_workbook(target)
    want = money_format(spec.currency)
    wrong = {f"{sheet}!{ref}": wb[sheet][ref].number_format
             for sheet, refs in _money_cells(layout).items() for ref in refs
             if wb[sheet][ref].number_format != want}
    assert wrong == {}
    # no amount anywhere in '#,##0.##' (Excel shows 2,400,000. for it)
    loose = [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows()
             for c in row if ".##" in c.number_format]
    assert loose == []


def test_percent_inputs_and_ratios_have_percent_formats(books):
    spec, target, layout = books["fleet-routing"]
    wb = openpyxl.load_workbook(target)
    r = layout.input_rows["Mileage reduction with ours"]  # unit %, max 0.5 shows as 50%
    assert [wb["Inputs"][f"{c}{r}"].number_format for c in "CDEFGH"] == ["0%"] * 6
    summary = wb["Summary"]
    assert summary[layout.results["roi"]].number_format == "#,##0%"
    assert summary[layout.results["roi_percent"]].number_format == "#,##0%"
    assert summary[layout.results["roi_multiple"]].number_format == '0.0"x"'
    assert summary["B9"].number_format == "0.0%"


def test_the_cumulative_chart_reads_the_cash_flows_and_marks_payback(books):
    # fleet routing (hand calculation, as above): ours costs 25,000 - 10,000 = 15,000 more up
    # front; each year it nets 292,440 - 120,000 - (36,000 - 30,000) = 166,440 over the
    # rival.  Cumulative: -15,000, 151,440, 317,880, 484,320; payback 15,000 / 166,440 years
    # = 1.08 months, shown as "1.1 months".
    spec, target, layout = books["fleet-routing"]
    values = openpyxl.load_workbook(target, data_only=True)
    sheet, cells = layout.results["cumulative"].split("!")
    first, last = (int(x[1:]) for x in cells.split(":"))
    cumulative = [values[sheet][f"C{r}"].value for r in range(first, last + 1)]
    assert all(close(a, b) for a, b in zip(cumulative, [-15_000, 151_440, 317_880, 484_320]))
    assert values["Summary"][layout.results["payback_words"]].value == "1.1 months"
    years = [values[sheet][f"A{r}"].value for r in range(first, last + 1)]
    assert years == [0, 1, 2, 3]

    charts = openpyxl.load_workbook(target)["Summary"]._charts  # noqa: SLF001
    assert len(charts) == 1
    line, point = charts[0].series
    assert line.xVal.numRef.f == f"'Value'!$A${first}:$A${last}"
    assert line.yVal.numRef.f == f"'Value'!$C${first}:$C${last}"
    assert line.smooth is False  # straight lines between years: nothing invented between
    px, py = layout.results["payback_point"].split("!")[1].split(":")
    assert point.xVal.numRef.f == f"'Value'!${px[0]}${px[1:]}"
    assert point.yVal.numRef.f == f"'Value'!${py[0]}${py[1:]}"
    assert close(values["Value"][px].value, 15_000 / 166_440)
    assert values["Value"][py].value == 0
    assert charts[0].x_axis.delete is False and charts[0].y_axis.delete is False


def test_the_tornado_puts_the_largest_swing_on_top(books):
    spec, target, layout = books["fleet-routing"]
    ws = openpyxl.load_workbook(target, data_only=True)["Sensitivity"]
    swings = [ws[f"F{r}"].value for r in range(6, 6 + len(layout.input_rows))]
    assert swings == sorted(swings, reverse=True)
    (chart,) = openpyxl.load_workbook(target)["Sensitivity"]._charts  # noqa: SLF001
    # the first row on top (categories in reverse order), names at the low end (left edge,
    # clear of the bars), the value axis at the bottom, both axes kept
    assert chart.x_axis.scaling.orientation == "maxMin"
    assert chart.x_axis.tickLblPos == "low"
    assert chart.y_axis.crosses == "max"
    assert chart.x_axis.delete is False and chart.y_axis.delete is False


def test_the_logo_and_accent_of_a_branded_spec(books, tmp_path):
    spec, target, _ = books["low-voc-coating"]  # branding: supplier, logo, accent #2E7D32
    wb = openpyxl.load_workbook(target)
    assert len(wb["Summary"]._images) == 1  # noqa: SLF001
    assert wb["Summary"]["D4"].value == "Prepared by EcoCure Coatings (example)"
    assert wb["Inputs"]["A4"].fill.fgColor.rgb == "002E7D32"
    plain = openpyxl.load_workbook(books["fleet-routing"][1])  # no branding: the house look
    assert plain["Inputs"]["A4"].fill.fgColor.rgb == "001F4E78"
    assert plain["Summary"]._images == []  # noqa: SLF001
    image = io.BytesIO(wb["Summary"]._images[0]._data())  # noqa: SLF001
    assert image.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
