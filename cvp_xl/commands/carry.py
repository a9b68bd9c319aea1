"""Carry what a person entered into a calculator built again: one set of rules for
``cvp-xl upgrade`` and for ``cvp-xl batch`` on a rerun.

:func:`plan` decides, value by value, what the new file holds; :func:`write` builds it and
puts back everything else the person put in the file.  The rules (README, "Batch jobs"):

- **base values** come from the file (the customer's or the table's, either way this
  customer's).  On a batch rerun the file records the values the customer table gave it
  (:func:`~cvp_xl.commands.entered.table_properties`): a value still equal to the table's
  is the table's and follows the table; a value that differs was typed by the customer
  and is kept.  When the table changed that same value too, the customer's value is still
  kept and the table's is reported as not applied (``--force`` applies the table and
  keeps the old file in a backup);
- **low, high, source and prices** that differ from the spec the file was built from were
  typed by a person and are kept; the others follow the new spec;
- **the customer's name and the scenario** are kept (on a batch rerun the name follows the
  table unless the customer changed it);
- inputs are matched by name or by a name listed under ``was:``; an input the new spec no
  longer has goes to the sheet "Carried over", and comes back from it when a later spec has
  it again;
- **notes, comments, added sheets and renamed sheets** are put back where they were, rows
  found by their label; what has no place in the new file (a note in an inserted row, a
  value typed over a formula, a note beside an input that no longer exists) is listed in
  the report and kept in a block of notes on "Carried over".

Anything that cannot be carried is listed, never dropped silently; a file holding a value
that cannot be rebuilt (text in a number cell) is not rebuilt at all without ``--force``.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from cvp_xl.args import describe
from cvp_xl.commands.entered import (
    Calculator,
    PersonCell,
    person_cells,
    same_value,
)
from cvp_xl.workbooks.calculator import model
from cvp_xl.workbooks.calculator.builder import CARRIED_SHEET, build
from cvp_xl.workbooks.calculator.spec import SCENARIOS, Spec
from cvp_xl.xlsx.tables import header_key

__all__ = ["Plan", "plan", "write", "file_results", "number_text", "backup_folder"]

def backup_folder(folder: Path) -> Path:
    """A folder for the old files that no earlier run used: ``previous-<timestamp>``, with
    ``-2``, ``-3`` ... when a run in the same second made one."""
    import datetime as dt

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target, n = folder / f"previous-{stamp}", 1
    while target.exists():
        n += 1
        target = folder / f"previous-{stamp}-{n}"
    return target


def number_text(v) -> str:
    """A number as a report shows it: ``2,400,000``, ``0.08``, ``-1.5e-07``."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = float(v)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.12g}" if 1e-4 <= abs(v) < 1e15 else f"{v:.12g}"
    return describe(v)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != \
        float("inf")


@dataclass
class Plan:
    """What the rebuilt file holds, and what the report says about it."""

    spec: Spec                  # the new spec with this customer's low, high, source, prices
    given: dict                 # input name -> base value
    customer: str | None
    scenario: str
    carried: list[dict]         # rows for "Carried over"
    table: dict | None          # the customer-table record the new file keeps
    kept: list[str] = field(default_factory=list)         # the person's values kept
    conflicts: list[str] = field(default_factory=list)    # table changes not applied
    lines: list[str] = field(default_factory=list)        # renamed, new, restored, moved
    not_carried: list[str] = field(default_factory=list)  # listed, kept in the notes block
    blockers: list[str] = field(default_factory=list)     # why not rebuilt without --force
    renames: dict = field(default_factory=dict)           # old input name -> new name
    person: list[PersonCell] = field(default_factory=list)
    added_sheets: list[str] = field(default_factory=list)
    renamed_sheets: dict = field(default_factory=dict)    # part -> the person's sheet name
    earlier_notes: list[dict] = field(default_factory=list)
    from_file: int = 0          # inputs whose values come from the file
    source: Calculator | None = field(default=None, repr=False)

    @property
    def has_extras(self) -> bool:
        """Whether the built file needs more than the builder writes."""
        return bool(self.person or self.added_sheets or self.renamed_sheets
                    or self.earlier_notes)

    @property
    def edited(self) -> bool:
        """Whether the person entered anything (values, notes, sheets)."""
        return bool(self.kept or self.has_extras or self.not_carried)


def plan(calc: Calculator, spec: Spec, *, table: dict | None = None,
         record: dict | None = None, person: bool = True) -> Plan:
    """What ``calc`` rebuilt from ``spec`` holds (the rules are in the module's description).

    Parameters
    ----------
    calc : Calculator
        The file as the person left it (:func:`~cvp_xl.commands.entered.read_calculator`).
    spec : Spec
        The spec to build from (the same as the file's on a batch rerun, a new one for
        ``upgrade``).
    table : dict, optional
        A batch rerun: this customer's row, ``{"name": ..., "inputs": {input: value}}`` with
        the new spec's input names.  None for ``upgrade``.
    record : dict, optional
        The table values the file was built from (default: the record the file carries).
    person : bool
        Also find the notes, comments and sheets a person added (needed to write the file).
    """
    record = record if record is not None else calc.table
    rec_inputs = record.get("inputs", {}) if record else {}
    old = calc.spec
    p = Plan(spec=spec, given={}, customer=None, scenario="Base", carried=[], table=None,
             source=calc)
    if table is not None and record is None:
        p.blockers.append("it carries no record of the values the customer table gave it, so "
                          "the customer's entries cannot be told from the table's")
    old_by_key = {header_key(n): n for n in calc.inputs}
    carried_rows = list(calc.carried)
    restored: set[int] = set()
    used, inputs = set(), []
    for i in spec.inputs:
        names = (i.name, *i.was)
        match = next((old_by_key[header_key(n)] for n in names if header_key(n) in old_by_key),
                     None)
        if match is None:
            inputs.append(_new_input(p, i, names, carried_rows, restored, table))
            continue
        used.add(match)
        if header_key(match) != header_key(i.name):
            p.renames[match] = i.name
            p.lines.append(f"'{i.name}' <- '{match}' (renamed)")
        elif match != i.name:
            p.renames[match] = i.name
        inputs.append(_input(p, calc, i, match, old, rec_inputs, record, table))
        p.from_file += 1
    if old is not None:
        present = {header_key(n) for n in calc.inputs}
        missing = [n for n in old.input_names if header_key(n) not in present]
        for n in missing:
            p.blockers.append(f"input '{n}' of the spec it was built from is not on its Inputs "
                              f"sheet (its name changed or its row was deleted)")
    p.carried = [row for k, row in enumerate(carried_rows) if k not in restored]
    for n, e in calc.inputs.items():
        if n in used:
            continue
        p.carried.append({"input": n, "unit": e.unit, "base": e.base.value, "low": e.low.value,
                          "high": e.high.value, "source": e.source.value})
        p.lines.append(f"'{n}' is not in the new spec; kept in sheet '{CARRIED_SHEET}'")
    p.spec = replace(spec, inputs=tuple(inputs), **_prices(p, calc, spec, old))
    _customer_and_scenario(p, calc, record, table)
    if table is not None:
        p.table = {"name": table["name"], "inputs": dict(table["inputs"])}
    elif record is not None:
        renamed = {p.renames.get(k, k): v for k, v in rec_inputs.items()}
        p.table = {"name": record.get("name"),
                   "inputs": {n: renamed[n] for n in spec.input_names if n in renamed}}
    if person:
        _person(p, calc)
    return p


def _new_input(p: Plan, i, names, carried_rows, restored, table):
    """An input the file does not have: back from "Carried over", or the table's or spec's."""
    keys = {header_key(n) for n in names}
    for k, row in enumerate(carried_rows):
        if k in restored or header_key(str(row.get("input"))) not in keys:
            continue
        if not _num(row.get("base")):
            p.not_carried.append(f"'{CARRIED_SHEET}': '{row.get('input')}' held "
                                 f"{describe(row.get('base'))} as its base, not a number; "
                                 f"left there")
            continue
        restored.add(k)
        p.from_file += 1
        base = float(row["base"])
        p.given[i.name] = base
        p.lines.append(f"'{i.name}' is back: its values come from sheet '{CARRIED_SHEET}'")
        if table is not None and not same_value(table["inputs"][i.name], base):
            p.kept.append(f"'{CARRIED_SHEET}' '{i.name}' (base): kept {number_text(base)} "
                          f"(the table has {number_text(table['inputs'][i.name])}; not "
                          f"applied)")
        low = float(row["low"]) if _num(row.get("low")) else i.low
        high = float(row["high"]) if _num(row.get("high")) else i.high
        source = row["source"] if isinstance(row.get("source"), str) else i.source
        return replace(i, low=low, high=high, source=source)
    if table is not None:
        p.given[i.name] = table["inputs"][i.name]
    else:
        p.given[i.name] = i.base
        p.lines.append(f"'{i.name}' is new; the spec's base {number_text(i.base)} is used")
    return i


def _input(p: Plan, calc: Calculator, i, match: str, old: Spec | None, rec_inputs: dict,
           record: dict | None, table: dict | None):
    """One input the file has: its base, low, high and source as the rules say."""
    e = calc.inputs[match]
    try:
        was = old.input(match) if old is not None else None
    except KeyError:
        was = None
    values = {}
    for what in ("base", "low", "high"):
        f = getattr(e, what)
        if not _num(f.value):
            p.blockers.append(f"{f.cell} ('{match}', {what}) holds {describe(f.value)}, not a "
                              f"number")
            continue
        if f.formula is not None:
            p.not_carried.append(f"{f.cell} ('{match}', {what}) held the formula {f.formula}; "
                                 f"its value {number_text(f.value)} is carried, not the formula")
        values[what] = float(f.value)
    base = values.get("base")
    if table is not None:
        t = table["inputs"][i.name]
        m = rec_inputs.get(match, rec_inputs.get(i.name))
        if m is None and was is not None:
            m = was.base
        if base is None or (m is not None and same_value(base, m)):
            p.given[i.name] = t
        else:
            p.given[i.name] = base
            note = "" if m is None or same_value(t, m) else (
                f" (the table now has {number_text(t)}; not applied)")
            p.kept.append(f"{e.base.cell} '{match}': kept the customer's "
                          f"{number_text(base)}{note}")
            if note:
                p.conflicts.append(f"{e.base.cell} '{match}': the customer's "
                                   f"{number_text(base)} kept; the table's {number_text(t)} "
                                   f"not applied")
    elif base is not None:
        spec_default = record is None and was is not None and same_value(base, was.base)
        p.given[i.name] = i.base if spec_default else base
    else:
        p.given[i.name] = i.base
    changed = {}
    for what in ("low", "high"):
        v = values.get(what)
        m = getattr(was, what) if was is not None else None
        if v is None or (m is not None and same_value(v, m)):
            continue  # the new spec's
        changed[what] = v
        if not same_value(v, getattr(i, what)):
            p.kept.append(f"{getattr(e, what).cell} '{match}' ({what}): kept "
                          f"{number_text(v)}")
    source = e.source.value
    source = "" if source is None else source
    m = was.source if was is not None else None
    if isinstance(source, str) and not (m is not None and same_value(source, m)):
        changed["source"] = source
        if not same_value(source, i.source):
            p.kept.append(f"{e.source.cell} '{match}' (source): kept {source!r}")
    return replace(i, **changed)


def _prices(p: Plan, calc: Calculator, spec: Spec, old: Spec | None) -> dict:
    """The offering and alternatives with the prices a person typed; ``replace`` arguments."""
    old_parties = {header_key(a.name): a for a in ((old.offering,) + old.alternatives)} \
        if old is not None else {}
    entries = {header_key(n): e for n, e in calc.prices.items()}
    parties = [spec.offering, *spec.alternatives]
    labels = {"one_time": "one-time price", "recurring": "recurring price per year",
              "value_per_year": "value per year"}
    out = []
    for k, party in enumerate(parties):
        e = entries.pop(header_key(party.name), None)
        was = old_parties.get(header_key(party.name))
        changes = {}
        for what, label in labels.items():
            f = getattr(e, what) if e is not None else None
            if f is None:
                continue
            if not _num(f.value):
                p.blockers.append(f"{f.cell} ({party.name}, {label}) holds {describe(f.value)}, "
                                  f"not a number")
                continue
            m = getattr(was, what) if was is not None else None
            if m is not None and same_value(f.value, m):
                continue
            if what == "value_per_year" and k < 2:
                p.not_carried.append(f"{f.cell} ({party.name}, {label}) "
                                     f"{number_text(f.value)}: the new spec takes no value of "
                                     f"its own for '{party.name}'")
                continue
            changes[what] = float(f.value)
            if not same_value(f.value, getattr(party, what)):
                p.kept.append(f"{f.cell} '{party.name}' ({label}): kept "
                              f"{number_text(f.value)}")
        out.append(replace(party, **changes))
    for e in entries.values():  # parties the new spec no longer has
        was = old_parties.get(header_key(e.name))
        for what, label in labels.items():
            f = getattr(e, what)
            if f is None or (was is not None and same_value(f.value, getattr(was, what))):
                continue
            p.not_carried.append(f"{f.cell} ({e.name}, {label}) {number_text(f.value)}: the new "
                                 f"spec has no '{e.name}'")
    return {"offering": out[0], "alternatives": tuple(out[1:])}


def _customer_and_scenario(p: Plan, calc: Calculator, record: dict | None,
                           table: dict | None) -> None:
    name = calc.customer.value
    name = None if name in (None, "") else str(name)
    if table is not None:
        m = record.get("name") if record else None
        if record is not None and same_value(name or "", m or ""):
            p.customer = table["name"] or None
        else:
            p.customer = name
            if record is not None:
                note = "" if same_value(table["name"] or "", m or "") else (
                    f" (the table now has {table['name']!r}; not applied)")
                p.kept.append(f"{calc.customer.cell} customer name: kept {name!r}{note}")
                if note:
                    p.conflicts.append(f"{calc.customer.cell} customer name: the customer's "
                                       f"{name!r} kept; the table's {table['name']!r} not "
                                       f"applied")
    else:
        p.customer = name
    scenario = calc.scenario.value
    if scenario in SCENARIOS:
        p.scenario = scenario
        if scenario != "Base":
            p.kept.append(f"{calc.scenario.cell} scenario: kept '{scenario}'")
    else:
        p.not_carried.append(f"{calc.scenario.cell} held {describe(scenario)}, not a scenario "
                             f"({', '.join(SCENARIOS)}); Base is used")


def _person(p: Plan, calc: Calculator) -> None:
    p.added_sheets = list(calc.added)
    p.renamed_sheets = calc.renamed()
    p.earlier_notes = list(calc.notes)
    if calc.spec is None:
        p.blockers.append(f"its notes and comments cannot be told from the template: "
                          f"{calc.spec_problem}")
        return
    p.person = person_cells(calc)
    for c in p.person:
        if c.kind == "over formula":
            p.not_carried.append(f"{c.sheet}!{c.ref}: {describe(c.value)} was typed over a "
                                 f"formula; the new file computes that cell (the value is "
                                 f"kept in '{CARRIED_SHEET}')")


def _lowers(calc: Calculator) -> dict | None:
    """Which end of each input the file's Low case takes (its formulas were fixed when it was
    built): ``{input: True}`` where it is the low column; None when a formula is unreadable."""
    ws = calc.wb[calc.titles["inputs"]]
    out = {}
    for name, e in calc.inputs.items():
        low_col = re.sub(r"[0-9]", "", e.low.cell.split("!")[-1])
        formula = None
        for c in ws[e.row]:
            if c.data_type == "f" and isinstance(c.value, str) and '"Low",' in c.value:
                formula = c.value
                break
        m = re.search(r'"Low",\$?([A-Z]{1,3})\$?[0-9]+', formula or "")
        if m is None:
            return None
        out[name] = m.group(1) == low_col
    return out


def file_results(calc: Calculator) -> tuple[model.Results, Plan]:
    """The results a calculator shows, computed by the Python model from its own entries.

    The file's spec (About), its inputs, prices and scenario; in the Low and High cases each
    input takes the end its formulas name.  Raises ``ValueError`` when the file's spec is
    unknown or an entry is not a number (``Plan.blockers``).
    """
    if calc.spec is None:
        raise ValueError(calc.spec_problem or "its spec is unknown")
    p = plan(calc, calc.spec, person=False)
    if p.blockers:
        raise ValueError("; ".join(p.blockers))
    lowers = _lowers(calc) if p.scenario in ("Low", "High") else None
    if lowers is None:
        return model.evaluate(p.spec, p.given, p.scenario), p
    values = model.input_values(p.spec, p.scenario, p.given,
                                {p.renames.get(k, k): v for k, v in lowers.items()})
    results = model.evaluate(p.spec, values, "Base")
    results.scenario = p.scenario
    return results, p


# -- writing ------------------------------------------------------------------------------------


def write(p: Plan, path: str | Path, properties: dict[str, str] | None = None,
          results: model.Results | None = None) -> model.Results:
    """Build the planned calculator at ``path`` (atomically) and put back the person's parts.

    Returns the results the file shows (its scenario, its values).  Lines about notes that
    found no place are added to ``p.not_carried``.
    """
    from openpyxl import load_workbook

    from cvp_xl.xlsx.cached import write_cached_values

    from .put_back import cached_values, put_back

    path = Path(path)
    results = results if results is not None else model.evaluate(p.spec, p.given, p.scenario)
    kwargs = {"given": p.given, "scenario": p.scenario, "customer": p.customer,
              "results": results, "carried": p.carried or None, "properties": properties}
    if not p.has_extras:
        build(p.spec, path, **kwargs)
        return results
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".cvp-xl-carry-") as tmp:
        built, finished = Path(tmp) / "built.xlsx", Path(tmp) / "finished.xlsx"
        build(p.spec, built, **kwargs)
        cached = cached_values(built)
        wb = load_workbook(built)
        titles = put_back(wb, p)
        cached = {(titles.get(sheet, sheet), ref): v for (sheet, ref), v in cached.items()}
        wb.save(finished)
        write_cached_values(finished, path, cached, check=False)
    return results
