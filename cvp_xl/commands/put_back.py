"""Put back what a person added to a calculator, in the file built again (``upgrade``, and
``batch`` on a rerun): notes and comments beside the row with the same label, added sheets
(their references into the calculator moved to the rows of the same labels), renamed sheets
(every reference follows); what has no place is kept in a block of notes on "Carried over"
and listed (:mod:`cvp_xl.commands.carry` has the rules).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from cvp_xl.workbooks.calculator.builder import CARRIED_COLUMNS, CARRIED_SHEET, TEMPLATE_VERSION

from .carry import Plan, number_text
from .entered import NOTES_COLUMNS, NOTES_TITLE, TITLES, Calculator, PersonCell, label_index

__all__ = ["put_back", "cached_values"]

_PART = re.compile(r"^(\$?[A-Za-z]{1,3})?(\$?)([0-9]+)?$")


def cached_values(path: Path) -> dict:
    """``{(sheet, ref): value}`` of every formula cell, as the builder stored it."""
    from openpyxl import load_workbook

    from cvp_xl.errors import ErrorValue

    wb, values = load_workbook(path), load_workbook(path, data_only=True)
    out = {}
    for ws in wb.worksheets:
        vs = values[ws.title]
        for row in ws.iter_rows():
            for c in row:
                if c.data_type != "f":
                    continue
                v = vs[c.coordinate]
                value = v.value
                if v.data_type == "e" and value is not None:
                    value = ErrorValue(str(value))
                elif value is None and v.data_type == "str":
                    value = ""
                out[(ws.title, c.coordinate)] = value
    return out


def put_back(wb, p: Plan) -> dict[str, str]:
    """Rename sheets, put back notes and comments, copy added sheets, list what is left.

    Returns ``{builder's sheet name: the person's name}``.
    """
    calc = p.source
    titles = {}
    for part, title in p.renamed_sheets.items():
        default = TITLES[part]
        if default in wb.sheetnames and title not in wb.sheetnames:
            titles[default] = title
        elif default in wb.sheetnames:
            p.not_carried.append(f"the sheet '{default}' keeps its name: the new file has "
                                 f"another sheet named '{title}'")
    if titles:
        _rename_sheets(wb, titles)
    new_titles = {part: titles.get(t, t) for part, t in TITLES.items()
                  if titles.get(t, t) in wb.sheetnames}
    indexes = {part: label_index(wb[t]) for part, t in new_titles.items()}
    rows = _row_maps(calc, p, indexes)
    old_parts = {t: part for part, t in calc.titles.items()}
    unplaced: list[tuple[PersonCell, str]] = []
    for c in p.person:
        if c.kind == "over formula" or c.part not in new_titles or c.part == "carried":
            unplaced.append((c, "no place"))
            continue
        by_label, labels = indexes[c.part]
        if c.label is not None:
            label = p.renames.get(c.label, c.label) if c.part in ("inputs", "sensitivity") \
                else c.label
            row = by_label.get((label, c.occurrence))
        else:
            row = c.row if c.row not in labels else None
        ws = wb[new_titles[c.part]]
        if row is None:
            unplaced.append((c, "no place"))
            continue
        target = ws.cell(row, c.column)
        if c.kind == "comment":
            if target.comment is not None:
                unplaced.append((c, "taken"))
                continue
            from openpyxl.comments import Comment

            target.comment = Comment(str(c.value), c.author or "")
            continue
        if target.value not in (None, ""):
            unplaced.append((c, "taken"))
            continue
        value = c.value
        if isinstance(value, str) and value.startswith("=") and \
                calc.wb[c.sheet][c.ref].data_type == "f":
            # a formula where this template has nothing: a person's, unless the file was
            # built by another version of the template (then it may be that version's)
            same_template = calc.template_version == TEMPLATE_VERSION
            moved = _move_formula(value, c.part, old_parts, rows) if same_template else None
            if moved is None:
                unplaced.append((c, "formula" if same_template else "template"))
                continue
            target.value = moved
        else:
            _set(target, value)
        _copy_style(calc.wb[c.sheet][c.ref], target)
        if (target.row, target.column) != (c.row, c.column) or ws.title != c.sheet:
            p.lines.append(f"{c.sheet}!{c.ref}: the {c.kind} {_shown(c.value)!r} is now at "
                           f"{ws.title}!{target.coordinate} (next to its row's label)")
    for title in p.added_sheets:
        p.not_carried += _copy_sheet(calc.wb[title], wb, old_parts, rows)
    notes = list(p.earlier_notes)
    for c, why in unplaced:
        if c.kind == "over formula":
            content = f"typed over a formula: {_shown(c.value)}"
        elif c.kind == "comment":
            content = f"comment: {c.value}"
        else:
            content = _shown(c.value)
        next_to = c.label or _label_above(calc.wb[c.sheet], c.row)
        notes.append({"sheet": c.sheet, "cell": c.ref, "next to": next_to, "content": content})
        if c.kind != "over formula":
            where = {"taken": "its place is taken in the new file",
                     "formula": "its references have no counterpart in the new file",
                     "template": "a formula in a file built by another template version",
                     "no place": "its row has no place in the new file"}[why]
            p.not_carried.append(f"{c.sheet}!{c.ref}: the {c.kind} {_shown(c.value)!r} is not "
                                 f"put back ({where}); kept in '{CARRIED_SHEET}'")
    if notes:
        _notes_block(wb, notes, titles)
    return titles


def _shown(value) -> str:
    return value if isinstance(value, str) else number_text(value)


def _label_above(ws, row: int) -> str | None:
    for r in range(row, 0, -1):
        v = ws.cell(r, 1).value
        if isinstance(v, str) and v.strip():
            return v
    return None


def _set(cell, value) -> None:
    from cvp_xl.xlsx.write import set_value

    set_value(cell, value)


def _copy_style(src, dst) -> None:
    if src.has_style:
        dst.font, dst.fill, dst.border = copy.copy(src.font), copy.copy(src.fill), \
            copy.copy(src.border)
        dst.alignment, dst.number_format = copy.copy(src.alignment), src.number_format
        dst.protection = copy.copy(src.protection)


def _row_maps(calc: Calculator, p: Plan, indexes: dict) -> dict[str, dict[int, int]]:
    """For each part: ``{row in the old file: row in the new}`` by label (unlabelled rows keep
    their number when the new row is unlabelled too)."""
    out = {}
    for part, title in calc.titles.items():
        if part not in indexes:
            continue
        by_label, labels = indexes[part]
        ws = calc.wb[title]
        old_by_label, old_labels = label_index(ws)
        limit = max(ws.max_row, max(labels, default=0))
        m = _Rows(limit)
        for r in range(1, limit + 1):
            if r in old_labels:
                label, n = old_labels[r]
                label = p.renames.get(label, label) if part in ("inputs", "sensitivity") \
                    else label
                if (label, n) in by_label:
                    m[r] = by_label[(label, n)]
            elif r not in labels:
                m[r] = r
        out[part] = m
    return out


class _Rows(dict):
    """Rows of an old sheet -> rows of the new; rows below both sheets' content keep theirs."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def get(self, row, default=None):
        return super().get(row, row if row > self.limit else default)


def _unquote(sheet: str) -> str:
    if len(sheet) > 1 and sheet[0] == sheet[-1] == "'":
        return sheet[1:-1].replace("''", "'")
    return sheet


def _move_formula(formula: str, own_part: str | None, old_parts: dict[str, str],
                  rows: dict[str, dict[int, int]]) -> str | None:
    """The formula with its references into the calculator's sheets moved to the rows their
    labels have in the new file; None when one has no counterpart."""
    from openpyxl.formula.tokenizer import Token, Tokenizer

    try:
        tokens = Tokenizer(formula).items
    except Exception:  # noqa: BLE001 - a formula openpyxl cannot read: not carried as one
        return None
    out = []
    for t in tokens:
        value = t.value
        if t.type == Token.OPERAND and t.subtype == Token.RANGE and "[" not in value:
            sheet, bang, ref = value.rpartition("!")
            part = old_parts.get(_unquote(sheet)) if bang else own_part
            if part is not None and part != "digests":
                if part not in rows:
                    return None
                moved = []
                for piece in ref.split(":"):
                    m = _PART.match(piece)
                    if m is None:
                        moved = None
                        break
                    if m.group(3) is not None:
                        new = rows[part].get(int(m.group(3)))
                        if new is None:
                            return None
                        piece = f"{m.group(1) or ''}{m.group(2)}{new}"
                    moved.append(piece)
                if moved is not None:
                    value = f"{sheet}{bang}{':'.join(moved)}"
        out.append(value)
    return "=" + "".join(out)


def _rename_sheets(wb, titles: dict[str, str]) -> None:
    """Rename sheets and every reference to them: cells, charts, names, validations."""
    from openpyxl.formula.tokenizer import Token, Tokenizer
    from openpyxl.utils import quote_sheetname

    def rewrite(text):
        if not isinstance(text, str):
            return text
        formula = text if text.startswith("=") else "=" + text
        try:
            tokens = Tokenizer(formula).items
        except Exception:  # noqa: BLE001 - left as it is
            return text
        out = []
        for t in tokens:
            value = t.value
            if t.type == Token.OPERAND and t.subtype == Token.RANGE and "!" in value:
                sheet, _, ref = value.rpartition("!")
                name = _unquote(sheet)
                if name in titles:
                    value = f"{quote_sheetname(titles[name])}!{ref}"
            out.append(value)
        new = "".join(out)
        return "=" + new if text.startswith("=") else new

    for ws in wb.worksheets:
        if ws.title in titles:
            ws.title = titles[ws.title]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" and isinstance(c.value, str):
                    c.value = rewrite(c.value)
        for chart in getattr(ws, "_charts", []):
            for s in chart.series:
                for ref in (getattr(s.val, "numRef", None), getattr(s.cat, "numRef", None),
                            getattr(s.cat, "strRef", None), getattr(s.tx, "strRef", None)):
                    if ref is not None and ref.f:
                        ref.f = rewrite(ref.f)
        for dv in ws.data_validations.dataValidation:
            dv.formula1, dv.formula2 = rewrite(dv.formula1), rewrite(dv.formula2)
    for dn in list(wb.defined_names.values()):
        dn.attr_text = rewrite(dn.attr_text)


def _copy_sheet(src, wb, old_parts: dict[str, str], rows: dict) -> list[str]:
    """Copy a sheet a person added into ``wb``: values, formulas (references into the
    calculator moved by label), styles, sizes, merged cells, comments, validations."""
    from openpyxl.comments import Comment

    ws = wb.create_sheet(src.title)
    lines = []
    for row in src.iter_rows():
        for c in row:
            if c.value is None and not c.has_style and c.comment is None:
                continue
            target = ws.cell(c.row, c.column)
            if c.data_type == "f" and isinstance(c.value, str):
                moved = _move_formula(c.value, None, old_parts, rows)
                if moved is None:
                    _set(target, c.value)  # as text: it would point at the wrong cells
                    lines.append(f"'{src.title}'!{c.coordinate}: the formula {c.value} refers "
                                 f"to cells the new calculator does not have; kept as text")
                else:
                    target.value = moved
            elif c.value is not None:
                _set(target, c.value)
            _copy_style(c, target)
            if c.comment is not None:
                target.comment = Comment(c.comment.text, c.comment.author or "")
            if c.hyperlink is not None:
                target.hyperlink = copy.copy(c.hyperlink)
    for rng in src.merged_cells.ranges:
        ws.merge_cells(str(rng))
    for key, dim in src.column_dimensions.items():
        ws.column_dimensions[key].width = dim.width
        ws.column_dimensions[key].hidden = dim.hidden
    for key, dim in src.row_dimensions.items():
        if dim.height is not None:
            ws.row_dimensions[key].height = dim.height
    ws.freeze_panes = src.freeze_panes
    ws.sheet_state = src.sheet_state
    if src.sheet_properties.tabColor is not None:
        ws.sheet_properties.tabColor = copy.copy(src.sheet_properties.tabColor)
    for dv in src.data_validations.dataValidation:
        ws.add_data_validation(copy.copy(dv))
    if getattr(src, "_charts", None) or getattr(src, "_images", None):
        n = len(getattr(src, "_charts", [])) + len(getattr(src, "_images", []))
        lines.append(f"'{src.title}': {n} chart{'s' * (n != 1)} or picture"
                     f"{'s' * (n != 1)} not carried (they are in the backup)")
    if src.conditional_formatting:
        lines.append(f"'{src.title}': conditional formatting not carried (it is in the backup)")
    return lines


def _notes_block(wb, notes: list[dict], titles: dict[str, str]) -> None:
    """The block of notes on "Carried over" (created when the new file has no such sheet)."""
    from openpyxl.styles import Font

    from cvp_xl.xlsx.write import set_text

    title = titles.get(CARRIED_SHEET, CARRIED_SHEET)
    if title in wb.sheetnames:
        ws = wb[title]
    else:
        ws = wb.create_sheet(title)
        set_text(ws["A1"], "Inputs of an earlier version of this calculator that the current "
                           "one no longer uses, kept as the customer entered them.")
        for c, name in enumerate(CARRIED_COLUMNS, start=1):
            set_text(ws.cell(3, c), name)
        ws.column_dimensions["A"].width = 44
        ws.protection.sheet = True
    r = 4
    while ws.cell(r, 1).value not in (None, ""):
        r += 1
    r += 1
    set_text(ws.cell(r, 1), NOTES_TITLE)
    ws.cell(r, 1).font = Font(bold=True)
    for c, name in enumerate(NOTES_COLUMNS, start=1):
        set_text(ws.cell(r + 1, c), name)
        ws.cell(r + 1, c).font = Font(bold=True)
    for k, note in enumerate(notes, start=r + 2):
        for c, key in enumerate(NOTES_COLUMNS, start=1):
            value = note.get(key.lower())
            if value is not None:
                set_text(ws.cell(k, c), str(value))
    ws.column_dimensions["D"].width = max(ws.column_dimensions["D"].width or 0, 60)
