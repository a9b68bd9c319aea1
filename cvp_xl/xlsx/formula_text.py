"""Formula text as a file stores it, made plain for an engine: tables, scoped names, links.

Excel writes some references that only make sense next to the rest of the file: Table
structured references (``=SUM(T[Qty])``, ``[@Price]``, ``T[[#This Row],[Col]]``), names scoped
to one sheet, and references into other workbooks (``[1]Sheet1!A1``, where ``[1]`` is the
file's first external link).  :func:`rewrite` tokenises a formula with openpyxl's tokenizer
and returns it with every structured reference turned into the A1 range it stands for (from
the table parts of the file), every sheet-scoped name turned into the alias it is registered
under, and function names renamed where asked; it also says which functions the formula calls
and whether it refers to another workbook.  Nothing is evaluated.

>>> t = Table("T", "Data", "A1:C4", ("Item", "Qty", "Price"), 1, 1)
>>> rewrite("SUM(T[Qty])", sheet="Data", row=9, tables=[t]).text
"=SUM('Data'!$B$2:$B$3)"
>>> rewrite("[@Qty]*[@Price]", sheet="Data", row=3, tables=[t]).text
"='Data'!$B$3*'Data'!$C$3"
>>> rewrite("'[1]Other sheet'!A1+1", sheet="Data", row=1).external
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cvp_xl.xlsx.a1 import column_letter, parse_range
from cvp_xl.xlsx.contents import Table

__all__ = ["Rewritten", "rewrite", "quote_sheet"]

_STRUCTURED = re.compile(r"^(?P<table>[A-Za-z_\\][\w.\\]*)?\[(?P<spec>.*)\]$", re.DOTALL)
_EXTERNAL = re.compile(r"^'?\[[0-9]+\]")
_NAME = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[^'!\[\]]+)!)?(?P<name>[A-Za-z_\\][\w.\\?]*)$")
_CELLISH = re.compile(r"^\$?[A-Za-z]{1,3}\$?[0-9]+$|^\$?[A-Za-z]{1,3}$|^\$?[0-9]+$")
_ROWS = re.compile(
    r"^(?P<sheet>(?:'(?:[^']|'')+'|[^'!:]+)!)?(?P<a1>\$?)(?P<r1>[0-9]+):(?P<a2>\$?)(?P<r2>[0-9]+)$")
_LAST = re.compile(r"(?<![A-Za-z0-9_.])\$?(?:XFD\$?[0-9]+|[A-Za-z]{1,3}\$?1048576)(?![0-9])",
                   re.IGNORECASE)
_AREAS = ("#ALL", "#DATA", "#HEADERS", "#TOTALS", "#THIS ROW")


@dataclass
class Rewritten:
    """A formula made plain: the text for the engine and what was found in it."""

    text: str
    functions: set[str] = field(default_factory=set)
    external: bool = False
    problem: str | None = None
    names: set[str] = field(default_factory=set)


def quote_sheet(name: str) -> str:
    """``Data`` -> ``'Data'``; quotes inside are doubled (``O'Brien`` -> ``'O''Brien'``)."""
    return "'" + name.replace("'", "''") + "'"


def rewrite(
    formula: str,
    *,
    sheet: str,
    row: int,
    tables: Iterable[Table] = (),
    local_names: Mapping[tuple[str, str], str] | None = None,
    renames: Mapping[str, str] | None = None,
) -> Rewritten:
    """Rewrite one formula (with or without its leading ``=``) for the engine.

    Parameters
    ----------
    formula : str
        The formula as the file stores it.
    sheet, row : str, int
        Where the formula is (``[@Col]`` means this row of the table around the cell).
    tables : iterable of Table
        The tables of the workbook.
    local_names : mapping, optional
        ``{(SHEET, NAME): alias}`` (upper case) for names scoped to a sheet.
    renames : mapping, optional
        ``{FUNCTION: NEW_NAME}`` (upper case) for function calls to rename.
    """
    from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

    text = formula if formula.startswith("=") else f"={formula}"
    out = Rewritten(text)
    try:
        tokens = Tokenizer(text).items
    except (TokenizerError, IndexError, ValueError) as exc:
        out.problem = f"the formula cannot be read ({exc})"
        return out
    tokens = _double_negation(tokens)
    by_name = {t.name.upper(): t for t in tables}
    local_names = local_names or {}
    renames = renames or {}
    parts = []
    for tok in tokens:
        value = tok.value
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            name = value[:-1].upper()
            out.functions.add(name)
            if name in renames:
                value = renames[name] + "("
        elif tok.type == Token.OPERAND and tok.subtype == Token.RANGE:
            value = _operand(value, sheet, row, tables, by_name, local_names, out)
        elif tok.type == Token.WSPACE:
            value = " "
        parts.append(value)
    out.text = "=" + "".join(parts)
    return out


class _Text:
    """A piece of formula text that is not a token of its own (added parentheses)."""

    type = subtype = ""

    def __init__(self, value):
        self.value = value


def _double_negation(tokens):
    """``--x`` as ``-(-(x))``: the formulas engine reads a run of signs as one operator, so
    ``--TRUE`` would be ``+TRUE`` (TRUE) where Excel gives 1.

    Negation applies to the next operand, function call, parenthesis or array, as in Excel.
    """
    from openpyxl.formula.tokenizer import Token

    out, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type != Token.OP_PRE:
            out.append(tok)
            i += 1
            continue
        j = i
        while j < len(tokens) and tokens[j].type == Token.OP_PRE:
            j += 1
        minus = sum(1 for t in tokens[i:j] if t.value == "-")
        if minus < 2 or minus % 2 or j >= len(tokens):
            out.extend(tokens[i:j])
            i = j
            continue
        end = _primary_end(tokens, j)
        out.append(_Text("-(-("))
        out.extend(_double_negation(tokens[j:end]))
        out.append(_Text("))"))
        i = end
    return out


def _primary_end(tokens, start: int) -> int:
    """The index just past the operand, call, parenthesis or array that starts at `start`."""
    from openpyxl.formula.tokenizer import Token

    first = tokens[start]
    if first.subtype != Token.OPEN:
        return start + 1
    depth = 0
    for k in range(start, len(tokens)):
        if tokens[k].subtype == Token.OPEN:
            depth += 1
        elif tokens[k].subtype == Token.CLOSE:
            depth -= 1
            if depth == 0:
                return k + 1
    return len(tokens)


def _operand(value, sheet, row, tables, by_name, local_names, out: Rewritten) -> str:
    if _EXTERNAL.match(value) or ("!" in value and "[" in value.split("!")[0]):
        out.external = True
        return value
    m = _STRUCTURED.match(value)
    if m is not None:
        try:
            return _structured(m["table"], m["spec"], sheet, row, tables, by_name)
        except _Unresolved as exc:
            out.problem = str(exc)
            return "#REF!"
    if _LAST.search(value.split("!")[-1]):  # formulas 1.3.4 reads A1048576 as the column A
        out.problem = f"references to the last row or column of a sheet ({value}) are not supported"
        return value
    m = _ROWS.match(value)
    if m is not None:  # whole rows: formulas 1.3.4 gives #VALUE! or a wrong array for them
        out.problem = f"whole-row references ({value}) are not supported"
        return value
    m = _NAME.match(value)
    if m is None or _CELLISH.match(m["name"]) or m["name"].upper() in ("TRUE", "FALSE"):
        return value
    name = m["name"].upper()
    out.names.add(name)
    scope = sheet
    if m["sheet"]:
        scope = m["sheet"][1:-1].replace("''", "'") if m["sheet"].startswith("'") else m["sheet"]
    alias = local_names.get((scope.upper(), name))
    if alias is not None:
        return alias
    return value


class _Unresolved(Exception):
    pass


def _structured(table_name, spec, sheet, row, tables, by_name) -> str:
    if table_name:
        table = by_name.get(table_name.upper())
        if table is None:
            raise _Unresolved(f"no table named {table_name!r}")
    else:
        table = _table_at(sheet, row, tables)
        if table is None:
            raise _Unresolved(f"[{spec}] is outside any table")
    r1, c1, r2, c2 = parse_range(table.ref)
    header = r1 if table.header_rows else None
    first_data = r1 + (1 if table.header_rows else 0)
    last_data = r2 - (1 if table.totals_rows else 0)
    items = _items(spec)
    areas = [text for is_area, text in items if is_area]
    columns = [text for is_area, text in items if not is_area]
    this_row = "#THIS ROW" in areas or "@" in areas
    if this_row:
        if not first_data <= row <= last_data:
            raise _Unresolved(f"{table.name}[{spec}]: row {row} is not a data row of the table")
        top = bottom = row
    else:
        wanted = set(areas) or {"#DATA"}
        if not wanted <= set(_AREAS):
            raise _Unresolved(f"{table.name}[{spec}]: unknown item {sorted(wanted)[0]}")
        rows = []
        if "#ALL" in wanted:
            rows = [r1, r2]
        else:
            if "#HEADERS" in wanted:
                if header is None:
                    raise _Unresolved(f"{table.name}[{spec}]: the table has no header row")
                rows.append(header)
            if "#DATA" in wanted:
                rows += [first_data, last_data]
            if "#TOTALS" in wanted:
                if not table.totals_rows:
                    raise _Unresolved(f"{table.name}[{spec}]: the table has no totals row")
                rows.append(r2)
        top, bottom = min(rows), max(rows)
    if columns:
        lookup = {c.upper(): i for i, c in enumerate(table.columns)}
        found = []
        for c in columns:
            if c.upper() not in lookup:
                raise _Unresolved(f"table {table.name} has no column {c!r}")
            found.append(c1 + lookup[c.upper()])
        left, right = min(found), max(found)
    else:
        left, right = c1, c2
    where = quote_sheet(table.sheet) + "!"
    a = f"${column_letter(left)}${top}"
    b = f"${column_letter(right)}${bottom}"
    return where + (a if a == b else f"{a}:{b}")


def _table_at(sheet, row, tables):
    for t in tables:
        if t.sheet.upper() == sheet.upper():
            r1, _, r2, _ = parse_range(t.ref)
            if r1 <= row <= r2:
                return t
    return None


def _items(spec: str) -> list[tuple[bool, str]]:
    """``[#This Row],[Qty]`` -> ``[(True, '#THIS ROW'), (False, 'Qty')]``; ``@Qty`` -> ``@`` + Qty.

    Each item is (is an area such as ``#Data``, text); ``'`` escapes the next character of a
    column name, so ``'#Col`` is the column ``#Col``, not an area.
    """
    spec = spec.strip()
    if not spec:
        return []
    if spec.startswith("@"):
        rest = spec[1:].strip()
        if rest.startswith("[") and rest.endswith("]"):
            rest = rest[1:-1]
        return [(True, "@")] + ([(False, _unescape(rest))] if rest else [])
    if not spec.startswith("["):
        return [_item(spec)]
    items, i = [], 0
    while i < len(spec):
        if spec[i] != "[":
            i += 1
            continue
        j = i + 1
        while j < len(spec) and spec[j] != "]":
            j += 2 if spec[j] == "'" else 1
        items.append(_item(spec[i + 1:j]))
        i = j + 1
    return items


def _item(raw: str) -> tuple[bool, str]:
    raw = raw.strip()
    if raw.startswith("#"):
        return True, raw.upper()
    return False, _unescape(raw)


def _unescape(text: str) -> str:
    return re.sub(r"'(.)", r"\1", text).strip()
