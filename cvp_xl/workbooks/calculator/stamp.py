"""Calculators of one spec, each written from the file of the first of its shape.

:meth:`Stamper.build` takes what :func:`~cvp_xl.workbooks.calculator.builder.build` takes and
writes the same file, in one of two ways.

**Patched (the keyed path, the default: ``KEYED``).**  The builder runs once per *shape* of a
customer's calculator, not once per customer.  Every cell whose value differs from one
customer to the next is written by the sheet modules through ``Book`` with a key naming where
its value comes from (``("input", name)``, ``("element", name)``, ``("customer",)``,
``("sens_change", input, element, side)`` ...; :data:`_SOURCES` computes each from the
model's results for a customer, without any openpyxl object).  What changes the *layout*
rather than the values is the shape (:attr:`_Customer.shape`): the input number formats,
which end Low takes, the next best alternative (the chart's title), whether the customer's
name is empty or looks like a formula (its style).  The Sensitivity table, whose rows follow
the order of the customer's swings, is written row by row with each input's own styles and
formulas (``sensitivity_sheet.table_row``), and the template record with its entries and
build parameters for the customer (``digests.record_cells``).  The first file of a shape is
the builder's and becomes its template (:class:`_Patch`: its sheets cut around those cells);
it is patched too, and the two must be the same part by part; so must the next
``verify - 1`` files of that shape.  A shape whose proof fails (a cell the keys get wrong or
do not name) is laid out by the builder from then on, as below, and ``notes`` says why; a
customer whose file cannot be patched (``ShapeChanged``) is written by the builder.  A
calculator with inputs carried over (``carried``) always takes the second way.

**Stamped (``keyed=False``).**  The builder lays out the workbook in memory, with every cell, every
formula's value (``Book.values``), the customer's texts, the document properties and the
template record, exactly as ``build`` does; then, instead of openpyxl writing every part again,
the workbook is stamped into the parts of a file of the same shape written before
(:class:`cvp_xl.xlsx.stamp.Template`): its rows, document properties, styles and charts written
anew, every other part copied.

Nothing here knows the builder's layout.  What differs from one customer to the next is decided
by construction and proved, not assumed:

- the first calculator of a shape (:func:`cvp_xl.xlsx.stamp.shape`: sheets, charts, images,
  merged cells) is written by the builder's own save path and becomes the template; it is
  then stamped too, and the two must be the same workbook part by part
  (:func:`cvp_xl.xlsx.stamp.differences`, the times of writing left out);
- the next ``verify - 1`` calculators of that shape are written both ways as well and must be
  the same (another customer: other inputs, texts, number formats);
- a shape whose proof fails is written by the builder from then on (``notes`` says why), and
  so is any workbook the stamp refuses (``ShapeChanged``).

``Stamper.patched``, ``Stamper.stamped`` and ``Stamper.built`` count the files written each
way.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import io
import math
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl.xml.functions import tostring

from cvp_xl.errors import ErrorValue
from cvp_xl.workbooks.calculator import builder, digests, model
from cvp_xl.workbooks.calculator.inputs_sheet import input_formats
from cvp_xl.workbooks.calculator.parts import money_format
from cvp_xl.workbooks.calculator.sensitivity_sheet import TABLE_FIRST_ROW, block_rows, table_row
from cvp_xl.workbooks.calculator.spec import CONSERVATIVE_FACTOR, Spec
from cvp_xl.workbooks.calculator.summary_sheet import _number_or_empty, payback_words, statement
from cvp_xl.workbooks.calculator.value_sheet import _ranks, focus
from cvp_xl.xlsx.atomic import atomic_path, scratch_path
from cvp_xl.xlsx.cached import _worksheet_parts
from cvp_xl.xlsx.stamp import (
    _TIMES,
    CORE,
    CUSTOM,
    ShapeChanged,
    Template,
    cell_xml,
    cut_cells,
    deflate,
    differences,
    precompress,
    shape,
    write_parts,
)
from cvp_xl.xlsx.write import FORMULA_PREFIXES

__all__ = ["Stamper", "stamper"]

_KEEP = 8          # templates kept per spec (one per shape)
_KEEP_PATCHES = 32  # keyed templates kept per spec (one per customer's shape)
_PRECOMPRESS = 512  # a template's runs of bytes at least this long are compressed once
#: Whether :class:`Stamper` patches each customer's values into a template of its shape
#: (the builder runs once per shape) rather than laying out every workbook.
KEYED = True
_LOCAL = threading.local()  # each thread its stampers (a Dask worker may run several)


def _book(spec, given, scenario, built_at, customer, results, sens, properties, carried):
    """The calculator's :class:`~cvp_xl.workbooks.book.Book` as ``builder.build`` saves it:
    the workbook, its template record and document properties.  (``build`` does these same
    steps; the test of this module compares the two files for every example spec.)"""
    from openpyxl.packaging.custom import StringProperty

    built_at = built_at or dt.datetime.now(dt.timezone.utc)
    book, layout = builder._workbook(spec, given, scenario, built_at, customer, results, sens,
                                     carried)
    record = book.record = digests.fingerprint(book.wb, builder._build_params(
        spec, given, customer, built_at, carried))
    properties = {**(properties or {}),
                  digests.DIGEST_PROPERTY: digests.write_record(book.wb, record)}
    for key, text in properties.items():
        book.wb.custom_doc_props.append(StringProperty(name=key, value=str(text)))
    return book, layout


class Stamper:
    """Write the calculators of ``spec`` by stamping (see the module).

    Parameters
    ----------
    spec : Spec
        The calculator spec.
    verify : int
        How many calculators of each shape are written both ways and compared (at least 1:
        the template itself).
    """

    def __init__(self, spec: Spec, verify: int = 2, keyed: bool | None = None):
        self.spec = spec
        self.verify = max(int(verify), 1)
        self.keyed = KEYED if keyed is None else bool(keyed)
        self.templates: OrderedDict = OrderedDict()   # shape -> [Template, checks left]
        self.refused: dict = {}                        # shape -> why it is not stamped
        self.patches: OrderedDict = OrderedDict()     # customer's shape -> _Patch
        self.unpatched: dict = {}                      # customer's shape -> why not patched
        self.notes: list[str] = []
        self.stamped = 0
        self.built = 0
        self.patched = 0

    def build(self, path: str | Path, given: dict | None = None, scenario: str = "Base",
              built_at: dt.datetime | None = None, customer: str | None = None,
              results=None, sens=None, properties: dict | None = None,
              carried: list[dict] | None = None) -> builder.Layout:
        """Write the calculator :func:`~cvp_xl.workbooks.calculator.builder.build` would
        write with these arguments to ``path`` (atomically); return its layout."""
        path = Path(path)
        built_at = built_at or dt.datetime.now(dt.timezone.utc)
        who = None
        if self.keyed and not carried:
            who = _Customer(self.spec, given, scenario, built_at, customer, results, sens)
            results, sens = who.results, who.sens
            patch = self.patches.get(who.shape)
            if patch is not None and patch.checks <= 0:
                try:
                    data = patch.render(who, properties)
                except (ShapeChanged, ValueError):
                    pass  # this customer's file: the builder's, or the builder's error (below)
                else:
                    self.patches.move_to_end(who.shape)
                    self._write(path, data)
                    self.patched += 1
                    return copy.deepcopy(patch.layout)
        book, layout = _book(self.spec, given, scenario, built_at, customer, results, sens,
                             properties, carried)
        if who is not None and who.shape not in self.unpatched:
            self._prove(who, book, layout, path, properties)
            return layout
        key = shape(book.wb)
        if key in self.refused:
            self._save(book, path)
            return layout
        entry = self.templates.get(key)
        if entry is None:
            self._new_template(key, book, path)
            return layout
        self.templates.move_to_end(key)
        template, checks = entry
        try:
            stamped = self._render(template, book)
        except ShapeChanged as exc:
            self._refuse(key, str(exc))
            self._save(book, path)
            return layout
        if checks > 0:
            entry[1] -= 1
            with scratch_path(path) as tmp:
                book.save(tmp)
                real = tmp.read_bytes()
            found = differences(stamped, real)
            if found:
                self._refuse(key, f"a stamped calculator differs from the builder's in "
                                  f"{', '.join(found[:5])}")
                self._write(path, real)
                self.built += 1
                return layout
        self._write(path, stamped)
        self.stamped += 1
        return layout

    # -- steps ---------------------------------------------------------------------------------

    def _prove(self, who: _Customer, book, layout, path: Path, properties) -> None:
        """Write the builder's file of ``who``; patch the same customer too and compare: the
        first file of a shape becomes its template, the next ``verify - 1`` are checks."""
        missing = book.missing()
        if missing:  # as Book.save
            raise ValueError(f"formula cells without a computed value: "
                             f"{', '.join(missing[:10])}")
        path.parent.mkdir(parents=True, exist_ok=True)  # as Book.save
        with scratch_path(path) as tmp:
            book.save(tmp)
            real = tmp.read_bytes()
        patch = self.patches.get(who.shape)
        try:
            if patch is None:
                patch = _Patch(self.spec, book, real, layout, who, book.record,
                               self.verify - 1)
                what = "the patched template"
            else:
                patch.checks -= 1
                what = "a patched calculator"
            found = differences(patch.render(who, properties), real)
            why = f"{what} differs from the builder's in {', '.join(found[:5])}"
        except (ShapeChanged, ValueError) as exc:
            found = [str(exc)]
            why = f"a calculator of this shape cannot be patched ({exc})"
        if found:
            self.unpatched[who.shape] = why
            self.patches.pop(who.shape, None)
            self.notes.append(f"{self.spec.path}: written by the builder, not patched: {why}")
        else:
            self.patches[who.shape] = patch
            while len(self.patches) > _KEEP_PATCHES:
                self.patches.popitem(last=False)
        self._write(path, real)
        self.built += 1

    def _new_template(self, key, book, path: Path) -> None:
        """Save with the builder's path; keep the file as the template once stamping the same
        workbook gives the same file."""
        self._save(book, path)
        data = path.read_bytes()
        try:
            template = Template(book.wb, data, f"{self.spec.path} (template)")
            found = differences(self._render(template, book), data)
        except ShapeChanged as exc:
            self._refuse(key, str(exc))
            return
        if found:
            self._refuse(key, f"the stamped template differs from the builder's in "
                              f"{', '.join(found[:5])}")
            return
        self.templates[key] = [template, self.verify - 1]
        while len(self.templates) > _KEEP:
            self.templates.popitem(last=False)

    @staticmethod
    def _render(template: Template, book) -> bytes:
        missing = book.missing()  # as Book.save: a formula without its value is refused
        if missing:
            raise ValueError(f"formula cells without a computed value: "
                             f"{', '.join(missing[:10])}")
        out = io.BytesIO()
        template.write(book.wb, book.values, out)
        return out.getvalue()

    def _save(self, book, path: Path) -> None:
        book.save(path)
        self.built += 1

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)

    def _refuse(self, key, why: str) -> None:
        self.refused[key] = why
        self.templates.pop(key, None)
        self.notes.append(f"{self.spec.path}: written by the builder, not stamped: {why}")


def _spec_key(spec: Spec) -> tuple:
    logo = spec.branding.logo_image or b""
    return (spec.path, hashlib.sha256(spec.text.encode("utf-8")).hexdigest(),
            hashlib.sha256(logo).hexdigest())


def stamper(spec: Spec) -> Stamper:
    """This thread's :class:`Stamper` for ``spec`` (a batch worker keeps its templates from
    one chunk of customers to the next; a few specs are kept)."""
    stampers = getattr(_LOCAL, "stampers", None)
    if stampers is None:
        stampers = _LOCAL.stampers = OrderedDict()
    key = _spec_key(spec)
    found = stampers.get(key)
    if found is None:
        found = stampers[key] = Stamper(spec)
        while len(stampers) > 4:
            stampers.popitem(last=False)
    stampers.move_to_end(key)
    return found


# -- the keyed path: one template per shape, each customer's values patched in ----------------


def _first(k: int):
    return lambda c, *a: c.statement[k]


#: Where each keyed value comes from (the keys the sheet modules give ``Book``): a function of
#: the customer (:class:`_Customer`) and the key's arguments, computing what the builder
#: writes in that cell from the same results.
_SOURCES = {
    "input": lambda c, n: c.results.inputs[n],
    "base": lambda c, n: float(c.base_inputs[n]),
    "low": lambda c, n: min(c.spec_inputs[n].low, float(c.base_inputs[n])),
    "high": lambda c, n: max(c.spec_inputs[n].high, float(c.base_inputs[n])),
    "element": lambda c, n: c.results.elements[n],
    "rank": lambda c, n: c.ranks[n],
    "focus_name": lambda c, k: c.focus[k][0] if k < len(c.focus) else "",
    "focus_value": lambda c, k: c.focus[k][1] if k < len(c.focus) else "",
    "flow": lambda c, y: c.results.cash_flows[y],
    "cumulative": lambda c, y: c.cumulative[y],
    "payback_point": lambda c: (ErrorValue("#N/A") if c.results.payback != c.results.payback
                                else c.results.payback),
    "customer": lambda c: c.customer or "",
    "scenario": lambda c: c.scenario,
    "factor": lambda c: CONSERVATIVE_FACTOR if c.scenario == "Conservative" else 1.0,
    "vs": lambda c: (f"{c.spec.offering.name} vs {c.next_best.label} "
                     f"(the next best alternative)"),
    "statement": lambda c, k: c.statement[k],
    "next_best": lambda c: c.next_best.label,
    "result": lambda c, f: getattr(c.results, f),
    "roi_shown": lambda c: c.results.roi_note if math.isnan(c.results.roi) else c.results.roi,
    "payback_words": lambda c: payback_words(c.results.payback, c.results.payback_note),
    "waiting": lambda c: c.results.cash_flows[1] / 12,
    "alt_value": lambda c, k: c.results.alt_value[k],
    "price": lambda c, k: c.results.price_s if k == 0 else c.results.alt_price[k - 1],
    "incentive": lambda c, k: (c.results.incentive_s if k == 0
                               else c.results.alt_incentive[k - 1]),
    "key": lambda c, name: _number_or_empty(c.key_row(name)),
    "note": lambda c, name: getattr(c.results, f"{name}_note"),
    "base_element": lambda c, n: c.base.elements[n],
    "sens_base": lambda c: c.sens[0]["base"] if c.sens else 0,
    "sens_change": lambda c, n, el, side: c.sens_by_input[n]["elements"][el][side],
    "built": lambda c: c.built_at.strftime(builder.BUILT_FORMAT),
}


class _Customer:
    """One customer's figures from the model, and the shape of its calculator: whatever
    changes the workbook's layout rather than its values (:attr:`shape`)."""

    def __init__(self, spec: Spec, given, scenario, built_at, customer, results, sens):
        self.spec, self.given, self.scenario = spec, given, scenario
        self.built_at, self.customer = built_at, customer
        self.results = results if results is not None else model.evaluate(spec, given, scenario)
        self.sens = sens if sens is not None else model.sensitivity(spec, given)
        self.base_inputs = model.input_values(spec, "Base", given)
        self.spec_inputs = {i.name: i for i in spec.inputs}
        self.formats = input_formats(spec, self.base_inputs)
        lowers = model.lowers_value(self.sens)
        self.ordered = sorted(self.sens, key=lambda s: -abs(s["swing"]))
        self.next_best = spec.alternatives[self.results.next_best]
        name = customer or ""
        self.shape = (tuple(self.formats.values()),
                      tuple(bool(lowers[i.name]) for i in spec.inputs),
                      int(self.results.next_best), name == "",
                      name.startswith(FORMULA_PREFIXES), scenario.startswith(FORMULA_PREFIXES))

    # what several keys share, computed once
    @functools.cached_property
    def base(self):
        r = self.results
        return r if r.scenario == "Base" else model.evaluate(self.spec, self.given, "Base")

    @functools.cached_property
    def ranks(self) -> dict:
        return _ranks(self.spec, self.results.elements)

    @functools.cached_property
    def focus(self) -> list:
        return focus(self.spec, self.results.elements)

    @functools.cached_property
    def cumulative(self) -> list:
        out, total = [], 0.0
        for flow in self.results.cash_flows:
            total = total + flow
            out.append(total)
        return out

    @functools.cached_property
    def statement(self) -> tuple:
        return statement(self.spec, self.results, self.customer)

    @functools.cached_property
    def sens_by_input(self) -> dict:
        return {s["input"]: s for s in self.sens}

    def key_row(self, name: str):
        r, nb = self.results, self.results.next_best
        return {"next_best": lambda: self.next_best.label, "value_nb": lambda: r.alt_value[nb],
                "price_nb": lambda: r.alt_price[nb]}.get(name, lambda: getattr(r, name))()

    def value(self, key: tuple):
        return _SOURCES[key[0]](self, *key[1:])


class _Slot:
    """A cut cell of a template's sheet: how to write it again (``formula`` without ``=``)."""

    __slots__ = ("ref", "style", "formula", "key", "text")

    def __init__(self, ref, style, formula, key, text):
        self.ref, self.style, self.formula, self.key, self.text = ref, style, formula, key, text


class _Patch:
    """The file of one calculator, cut around every cell whose value comes from a key, the
    Sensitivity table (its rows follow the customer's swings) and the template record: each
    customer of its shape is written by patching those cells (see :meth:`render`).

    Parameters
    ----------
    spec : Spec
    book : Book
        The builder's workbook of the first customer of the shape (saved to ``data``).
    data : bytes
        That file.
    layout : builder.Layout
    who : _Customer
        Its customer.
    record : digests.Fingerprint
        Its template record.
    """

    def __init__(self, spec: Spec, book, data: bytes, layout, who: _Customer, record, checks):
        from openpyxl.packaging.custom import CustomPropertyList  # noqa: F401 - loaded once

        self.spec, self.data, self.layout, self.checks = spec, data, layout, checks
        self.name = f"{spec.path} (keyed template)"
        wb = book.wb
        self.archive = zipfile.ZipFile(io.BytesIO(data))
        members = _worksheet_parts(self.name, self.archive)
        self.money = money_format(spec.currency)
        self.last_table_row = TABLE_FIRST_ROW - 1 + len(who.sens)
        self.blocks = block_rows(spec, who.sens)
        table = {f"{col}{r}" for r in range(TABLE_FIRST_ROW, self.last_table_row + 1)
                 for col in "ABCDEFGH"}
        sens_ws = wb["Sensitivity"]
        # the styles of a table row follow its input (its number format): where each is now
        self.row_styles = {}
        for k, row in enumerate(who.ordered):
            r = TABLE_FIRST_ROW + k
            self.row_styles[row["input"]] = {c: sens_ws[f"{c}{r}"].style_id
                                             for c in "ABCDEFGH"}
        self.table_a_format = sens_ws[f"A{TABLE_FIRST_ROW}"].number_format if who.sens else ""
        # the locked constants whose values are keyed: their record entries follow them
        self.record_cells = []
        keyed: dict[str, dict[str, tuple]] = {}
        for (title, ref), key in book.keys.items():
            keyed.setdefault(title, {})[ref] = key
            cell = wb[title][ref]
            if cell.data_type != "f" and cell.protection.locked:
                self.record_cells.append((title, ref, key, cell.number_format))
        # the record's sheets whose entries no customer of the shape changes: kept as text;
        # the record's cells that may change: the rows of the other sheets, the build's row
        changing = {"Sensitivity", *(title for title, *_ in self.record_cells)}
        texts = digests.record_cells(record)
        rows = {r for r, c, t in texts if c == 1 and (t in changing or t == "Build")}
        self.sheets = {}
        for ws in wb.worksheets:
            own = dict(keyed.get(ws.title, {}))
            if ws.title == "Sensitivity":
                own.update(dict.fromkeys(table, ("table",)))
            if ws.title == digests.DIGEST_SHEET:
                own = {f"{get_column_letter(c)}{r}": ("record",) for r, c, t in texts
                       if r in rows and t}
            if not own:
                continue
            canonical = any(t == ws.title for t, _ in book.values)
            member = members[ws.title]
            pieces, cut = cut_cells(self.archive.read(member), own)
            slots = []
            for ref, style in cut:
                cell = ws[ref]
                formula = cell.value[1:] if cell.data_type == "f" else None
                slots.append(_Slot(ref, style, formula, own[ref], cell.data_type == "s"))
            # the long runs every file of the shape shares, compressed once
            pieces = [(piece, precompress(piece) if len(piece) >= _PRECOMPRESS else None)
                      for piece in pieces]
            self.sheets[member] = (pieces, slots, canonical, ws.title)
        self.record = record
        self.known_text = {name: digests.entries_text(sp) for name, sp in record.sheets.items()
                           if name not in changing}
        self.known_sorted = {name: sorted(e.text(r) for r, e in sp.cells.items())
                             for name, sp in record.sheets.items() if name not in changing}
        self.record_refs = [(r, c) for r, c, _ in texts]
        self.quoted = {f"{get_column_letter(c)}{r}" for r, c, t in texts
                       if t.startswith(FORMULA_PREFIXES)}
        self.core = self.archive.read(CORE)

    # -- one customer ---------------------------------------------------------------------------

    def _table(self, who: _Customer) -> tuple[dict, dict]:
        """The Sensitivity table of this customer: ``{ref: (style, formula, value, text)}``
        and the record entries of its cells."""
        cells, entries = {}, {}
        rows = self.layout.input_rows
        for k, s in enumerate(who.ordered):
            r = TABLE_FIRST_ROW + k
            name = s["input"]
            styles = self.row_styles.get(name)
            if styles is None:
                raise ShapeChanged(f"no row for {name} in the template's table")
            style = styles["A"]
            cells[f"A{r}"] = (str(style) if style else None, None, name, True)
            entries[f"A{r}"] = digests.constant_entry(name, self.table_a_format)
            for col, formula, value, fmt in table_row(r, s, rows[name], who.formats[name],
                                                      self.blocks[name], self.money):
                style = styles[col]
                cells[f"{col}{r}"] = (str(style) if style else None, formula[1:], value, False)
                entries[f"{col}{r}"] = digests.formula_entry(formula, fmt)
        return cells, entries

    def render(self, who: _Customer, properties: dict | None) -> bytes:
        """The calculator of ``who`` (of this shape) as the builder would write it.

        Raises
        ------
        ShapeChanged
            It cannot be patched (its record's cells are not the template's, a formula-like
            text where the template has none): write it with the builder.
        """
        from openpyxl.packaging.custom import CustomPropertyList, StringProperty

        table, table_entries = self._table(who)
        # the record: the template's, with the entries of the keyed constants and the table
        sheets = {}
        for name, sp in self.record.sheets.items():
            sheets[name] = digests.SheetPrint(sp.protected, sp.cells)
        changed: dict[str, dict] = {"Sensitivity": table_entries}
        for title, ref, key, fmt in self.record_cells:
            changed.setdefault(title, {})[ref] = digests.constant_entry(who.value(key), fmt)
        for title, entries in changed.items():
            cells = dict(sheets[title].cells)
            for ref, entry in entries.items():
                if (entry is None) != (ref not in cells):  # the order of the entries changes
                    raise ShapeChanged(f"{title}!{ref}: an entry where the template has "
                                       f"none, or none where it has one")
                if entry is not None:
                    cells[ref] = entry
            sheets[title] = digests.SheetPrint(sheets[title].protected, cells)
        record = digests.Fingerprint(sheets, builder._build_params(
            self.spec, who.given, who.customer, who.built_at, None))
        texts = digests.record_cells(record, self.known_text)
        if [(r, c) for r, c, _ in texts] != self.record_refs:
            raise ShapeChanged("the template record's cells are not the template's")
        record_text = {f"{get_column_letter(c)}{r}": t for r, c, t in texts}
        new = {}
        for member, (pieces, slots, canonical, title) in self.sheets.items():
            out = [pieces[0]]
            for slot, piece in zip(slots, pieces[1:]):
                key = slot.key[0]
                if key == "table":
                    style, formula, value, text = table[slot.ref]
                elif key == "record":
                    style, formula, value, text = slot.style, None, record_text[slot.ref], True
                    if value.startswith(FORMULA_PREFIXES) != (slot.ref in self.quoted):
                        # set_text quotes it: another style than the template's
                        raise ShapeChanged(f"{title}!{slot.ref}: formula-like text where the "
                                           f"template has none, or the other way round")
                else:
                    style, formula, text = slot.style, slot.formula, slot.text
                    value = who.value(slot.key)
                xml = cell_xml(slot.ref, style, value, formula, canonical, text)
                out.append((xml.encode("utf-8") if canonical
                            else xml.encode("ascii", "xmlcharrefreplace"), None))
                out.append(piece)
            new[member] = deflate(out)
        props = CustomPropertyList()
        for name, text in {**(properties or {}),
                           digests.DIGEST_PROPERTY: digests.record_digest(
                               record, self.known_sorted)}.items():
            props.append(StringProperty(name=name, value=str(text)))
        new[CUSTOM] = tostring(props.to_tree())
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
        new[CORE] = _TIMES.sub(rb"\g<1>" + now + rb"\g<2>", self.core)
        out = io.BytesIO()
        write_parts(self.name, self.archive, io.BytesIO(self.data), out, new)
        return out.getvalue()
