"""Write a share-safe value calculator from a spec: formulas *and* their values.

The workbook uses only functions that Excel 2016 and LibreOffice 7.4 both
compute (ARCHITECTURE.md, share-safe workbooks).  Every formula cell is
written together with the value the Python model computes for it, so the
file shows numbers before any spreadsheet program has recalculated it; the
tests recompute it in LibreOffice and the formulas engine to prove the two
agree.

Sheets: Summary (the executive one-pager), Inputs, Value, Sensitivity, About, each a module of
its own (``summary_sheet``, ``inputs_sheet``, ``value_sheet``, ``sensitivity_sheet``,
``about_sheet``; what they share is in ``parts``).  This module puts them together, saves the
file with its template record (``digests``) and rebuilds a template for ``cvp-xl check``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from cvp_xl._version import __version__
from cvp_xl.workbooks.book import Book
from cvp_xl.workbooks.calculator import digests, model
from cvp_xl.workbooks.calculator.about_sheet import (
    CARRIED_COLUMNS,
    CARRIED_SHEET,
    about_sheet,
    carried_sheet,
)
from cvp_xl.workbooks.calculator.inputs_sheet import INPUT_FIRST_ROW, input_formats, inputs_sheet
from cvp_xl.workbooks.calculator.parts import Formulas, Theme
from cvp_xl.workbooks.calculator.sensitivity_sheet import sensitivity_sheet
from cvp_xl.workbooks.calculator.spec import Spec
from cvp_xl.workbooks.calculator.summary_sheet import SummaryPlan, summary_sheet
from cvp_xl.workbooks.calculator.value_sheet import ValuePlan, cash_flow_block, value_sheet

__all__ = ["build", "template_print", "Layout", "INPUT_FIRST_ROW", "TEMPLATE_VERSION",
           "CARRIED_COLUMNS", "CARRIED_SHEET", "BUILT_FORMAT"]

TEMPLATE_VERSION = f"calculator/3 (cvp-xl {__version__})"
BUILT_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass
class Layout:
    """Where things are, for the checker, the batch writer and the tests."""

    input_rows: dict = field(default_factory=dict)     # input name -> row on Inputs
    price_rows: dict = field(default_factory=dict)     # party name -> row on Inputs
    element_rows: dict = field(default_factory=dict)   # element name -> row on Value
    results: dict = field(default_factory=dict)        # result key -> Summary cell (or a
    #                                                    range, "Value!..." on another sheet)


def build(spec: Spec, path: str | Path, given: dict | None = None, scenario: str = "Base",
          built_at: dt.datetime | None = None, customer: str | None = None,
          results: model.Results | None = None, sens: list[dict] | None = None,
          properties: dict | None = None, cached: bool = True,
          carried: list[dict] | None = None) -> Layout:
    """Write the calculator for ``spec`` to ``path`` (atomically), with cached values.

    ``given`` holds a customer's own figures (input name -> number) that
    replace the spec's base values; ``scenario`` is the case selected when
    the file opens.  ``results`` and ``sens`` may be passed in when they were
    computed already (the batch path evaluates all customers at once);
    ``properties`` are written as custom document properties (text).
    ``cached=False`` writes the formulas alone (the benchmark's floor).
    ``carried`` lists inputs of an earlier version of the spec that this one
    no longer has (``cvp-xl upgrade``): they are kept in a sheet of their own.
    """
    built_at = built_at or dt.datetime.now(dt.timezone.utc)
    book, layout = _workbook(spec, given, scenario, built_at, customer, results, sens, carried)
    wb = book.wb
    if not cached:  # the benchmark's floor: the same workbook, formulas only
        from cvp_xl.xlsx.cached import atomic_save_workbook

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_save_workbook(wb, path)
        return layout
    from openpyxl.packaging.custom import StringProperty

    record = digests.fingerprint(wb, _build_params(spec, given, customer, built_at, carried))
    properties = {**(properties or {}), digests.DIGEST_PROPERTY: digests.write_record(wb, record)}
    for key, text in properties.items():
        wb.custom_doc_props.append(StringProperty(name=key, value=str(text)))
    book.save(path)
    return layout


def _build_params(spec, given, customer, built_at, carried) -> dict:
    """What a rebuild needs besides the spec: the same customer, time, inputs and carried rows.

    Each input's base, low and high as built decide which end the Low case takes and the
    order of the Sensitivity rows.
    """
    base = model.input_values(spec, "Base", given)
    ends = model.input_ranges(spec, given)
    return {"customer": customer or "", "built_at": built_at.strftime(BUILT_FORMAT),
            "inputs": {i.name: [float(base[i.name]), *map(float, ends[i.name])]
                       for i in spec.inputs},
            "carried": list(carried or [])}


def template_print(spec: Spec, params: dict, with_book: bool = False):
    """The record of the template that ``spec`` and a file's build parameters make.

    ``params`` is the ``build`` part of the record a calculator carries
    (:func:`cvp_xl.workbooks.calculator.digests.read_record`); inputs it does not
    name keep the spec's values.  Nothing is written.  With ``with_book`` the
    rebuilt openpyxl workbook comes too: ``(record, workbook)``.
    """
    inputs = params.get("inputs") if isinstance(params.get("inputs"), dict) else {}
    given, changed = {}, []
    for i in spec.inputs:
        values = inputs.get(i.name)
        if isinstance(values, list) and len(values) == 3 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            given[i.name] = float(values[0])
            i = replace(i, low=float(values[1]), high=float(values[2]))
        changed.append(i)
    spec = replace(spec, inputs=tuple(changed))
    try:
        built_at = dt.datetime.strptime(str(params.get("built_at")), BUILT_FORMAT)
    except ValueError:
        built_at = dt.datetime.now(dt.timezone.utc)
    carried = params.get("carried") if isinstance(params.get("carried"), list) else None
    book, _ = _workbook(spec, given, "Base", built_at, str(params.get("customer") or "") or None,
                        None, None, carried or None)
    record = digests.fingerprint(book.wb, _build_params(spec, given, params.get("customer"),
                                                        built_at, carried))
    return (record, book.wb) if with_book else record


def _workbook(spec, given, scenario, built_at, customer, results, sens, carried):
    """The calculator's workbook in memory, every formula with its value: (book, layout)."""
    results = results if results is not None else model.evaluate(spec, given, scenario)
    sens = sens if sens is not None else model.sensitivity(spec, given)
    base_inputs = model.input_values(spec, "Base", given)
    base = results if results.scenario == "Base" else model.evaluate(spec, given, "Base")
    theme = Theme.of(spec)
    book = Book()
    layout = Layout()
    wb = book.wb
    summary = wb.active
    summary.title = "Summary"
    inputs = wb.create_sheet("Inputs")
    value = wb.create_sheet("Value")
    sensitivity = wb.create_sheet("Sensitivity")
    about = wb.create_sheet("About")
    splan, vplan = SummaryPlan.of(spec), ValuePlan.of(spec)
    formats = input_formats(spec, base_inputs)

    inputs_sheet(spec, inputs, book, layout, results, base_inputs, model.lowers_value(sens),
                 theme, formats)
    formulas = Formulas(spec, layout.input_rows)
    value_sheet(spec, value, book, layout, results, formulas, theme, vplan)
    summary_sheet(spec, summary, book, layout, results, scenario, customer, theme, splan, vplan)
    cash_flow_block(spec, value, book, layout, results, theme, vplan, splan.nb_match(),
                    f"Summary!${layout.results['total_per_year'][0]}$"
                    f"{layout.results['total_per_year'][1:]}",
                    f"Summary!$B${layout.results['payback'][1:]}")
    sensitivity_sheet(spec, sensitivity, book, layout, sens, base.elements, formulas, theme,
                      formats)
    about_sheet(spec, about, built_at, customer, theme, TEMPLATE_VERSION, BUILT_FORMAT, book)
    if carried:
        carried_sheet(wb.create_sheet(CARRIED_SHEET), carried, theme)
    for ws in wb.worksheets:
        ws.protection.sheet = True  # no password: Review > Unprotect Sheet
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
    return book, layout
