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
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from cvp_xl.xlsx.a1 import column_letter, parse_range
from cvp_xl.xlsx.contents import Table

__all__ = ["Rewritten", "rewrite", "quote_sheet", "as_excel_reads", "is_area", "ARRAY_ARGUMENTS",
           "EMPTY_CELLS_IGNORED", "WHOLE_LIMIT"]

_STRUCTURED = re.compile(r"^(?P<table>[A-Za-z_\\][\w.\\]*)?\[(?P<spec>.*)\]$", re.DOTALL)
_EXTERNAL = re.compile(r"^'?\[[0-9]+\]")
_NAME = re.compile(r"^(?:(?P<sheet>'(?:[^']|'')+'|[^'!\[\]]+)!)?(?P<name>[A-Za-z_\\][\w.\\?]*)$")
_CELLISH = re.compile(r"^\$?[A-Za-z]{1,3}\$?[0-9]+$|^\$?[A-Za-z]{1,3}$|^\$?[0-9]+$")
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
    undefined: list[str] = field(default_factory=list)


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
    sheets: Collection[str] | None = None,
    defined: Collection[str] | None = None,
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
    sheets, defined : collections, optional
        The workbook's sheet names and defined names (upper case).  Given both, a reference
        to a sheet the workbook lacks becomes ``#REF!`` and a name it does not define
        ``#NAME?``, as in Excel, each said in ``undefined`` (not in a formula with LET or
        LAMBDA, whose own names are not the workbook's).
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
    known = None
    if sheets is not None and defined is not None and not any(
            t.type == Token.FUNC and t.value[:-1].upper().removeprefix("_XLFN.") in (
                "LET", "LAMBDA") for t in tokens):
        known = ({s.upper() for s in sheets}, {d.upper() for d in defined} | set(by_name))
    local_names = local_names or {}
    renames = renames or {}
    parts = []
    for tok in tokens:
        value = tok.value
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            # A1:INDEX( is one token: a reference, the range operator, then the call
            prefix, colon, name = value[:-1].upper().rpartition(":")
            out.functions.add(name)
            if name in renames:
                value = value[:len(prefix) + len(colon)] + renames[name] + "("
        elif tok.type == Token.OPERAND and tok.subtype == Token.RANGE:
            value = _operand(value, sheet, row, tables, by_name, local_names, out, known)
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


def _operand(value, sheet, row, tables, by_name, local_names, out: Rewritten,
             known=None) -> str:
    if _EXTERNAL.match(value) or ("!" in value and "[" in value.split("!")[0]):
        out.external = True
        return value
    if known is not None and "!" in value:
        prefix = value.rpartition("!")[0]
        name = prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix
        if name.split(":")[0].upper() not in known[0]:
            out.undefined.append(f"{name} is not a sheet of the workbook")
            return "#REF!"
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
    m = _NAME.match(value)
    letters = known is not None and m is not None and m["name"].isalpha()  # a name: FOO, Qty
    if m is None or (_CELLISH.match(m["name"]) and not letters) \
            or m["name"].upper() in ("TRUE", "FALSE"):
        return value
    name = m["name"].upper()
    out.names.add(name)
    scope = sheet
    if m["sheet"]:
        scope = m["sheet"][1:-1].replace("''", "'") if m["sheet"].startswith("'") else m["sheet"]
    alias = local_names.get((scope.upper(), name))
    if alias is not None:
        return alias
    if known is not None and not m["sheet"] and name not in known[1] \
            and not name.startswith("_XLPM."):
        out.undefined.append(f"{m['name']} is not a defined name")
        return "#NAME?"
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
        return [_item(spec)]  # T[Col]: a name with spaces at either end needs T[[Col ]]
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
    """One item: an area (``#Totals``, spaces around it ignored) or a column name, whose
    spaces are its own (``[Field 4 ]`` is the column ``Field 4 ``, as Excel names it)."""
    if raw.strip().startswith("#"):
        return True, raw.strip().upper()
    return False, _unescape(raw)


def _unescape(text: str) -> str:
    return re.sub(r"'(.)", r"\1", text)


# -- references as Excel reads them in one cell: implicit intersection, whole columns -------

#: One area: a cell, a range, whole columns (``A:B``) or whole rows (``1:3``), maybe on a sheet.
_AREA = re.compile(
    r"^(?P<sheet>(?:'(?:[^']|'')+'|[^'!:\[\]]+)!)?(?:"
    r"\$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>[0-9]{1,7})(?::\$?(?P<c2>[A-Za-z]{1,3})\$?"
    r"(?P<r2>[0-9]{1,7}))?"
    r"|\$?(?P<wc1>[A-Za-z]{1,3}):\$?(?P<wc2>[A-Za-z]{1,3})"
    r"|\$?(?P<wr1>[0-9]{1,7}):\$?(?P<wr2>[0-9]{1,7}))$")

#: Functions whose arguments Excel evaluates as arrays even in a plain (not array) formula:
#: an operator over a range there works on every cell (``SUMPRODUCT(A1:A3*2)``), where
#: elsewhere in a plain formula Excel takes the one cell in the formula's row or column.
ARRAY_ARGUMENTS = frozenset({
    "SUMPRODUCT", "INDEX", "LOOKUP", "MMULT", "MDETERM", "MINVERSE", "TRANSPOSE",
    "FREQUENCY", "LINEST", "LOGEST", "TREND", "GROWTH", "SUMX2MY2", "SUMX2PY2", "SUMXMY2",
    "CORREL", "PEARSON", "RSQ", "SLOPE", "INTERCEPT", "STEYX", "COVAR", "FORECAST",
    "TTEST", "FTEST", "CHITEST", "PROB", "AGGREGATE", "_XLFN.AGGREGATE",
})

#: Functions that read a reference given whole as an argument and skip its empty cells, so a
#: whole column gives the same result read only to the sheet's last used row (``SUM(A:A)``).
EMPTY_CELLS_IGNORED = frozenset({
    "SUM", "AVERAGE", "AVERAGEA", "COUNT", "COUNTA", "MAX", "MAXA", "MIN", "MINA", "PRODUCT",
    "LARGE", "SMALL", "MEDIAN", "STDEV", "STDEVA", "STDEVP", "STDEVPA", "VAR", "VARA", "VARP",
    "VARPA", "_XLFN.STDEV.S", "_XLFN.STDEV.P", "_XLFN.VAR.S", "_XLFN.VAR.P", "SUMIF",
    "SUMIFS", "AVERAGEIF", "AVERAGEIFS", "_XLFN.MAXIFS", "_XLFN.MINIFS", "VLOOKUP", "HLOOKUP",
    "SUBTOTAL",
})

#: The most cells one reference may span when it cannot be read to the used range only.
WHOLE_LIMIT = 65_536

#: Functions that read a reference itself (its size or place), not the values in it.
_REFERENCE_USES = frozenset({"ROW", "ROWS", "COLUMN", "COLUMNS", "CELL", "OFFSET", "AREAS",
                             "ISREF"})

_VALUE_OPERATORS = frozenset({"+", "-", "*", "/", "^", "&", "=", "<>", "<", ">", "<=", ">="})


@dataclass
class _Area:
    sheet: str | None  # as written, with its quotes and "!"
    r1: int
    c1: int
    r2: int
    c2: int
    whole: str | None  # "column", "row" or None

    def text(self, r1, c1, r2, c2) -> str:
        a = f"${column_letter(c1)}${r1}"
        b = f"${column_letter(c2)}${r2}"
        return (self.sheet or "") + (a if a == b else f"{a}:{b}")

    def sheet_name(self, own: str) -> str:
        if not self.sheet:
            return own
        name = self.sheet[:-1]
        return name[1:-1].replace("''", "'") if name.startswith("'") else name


def is_area(text: str) -> bool:
    """True when `text` is one reference: a cell, a range, whole columns or rows.

    >>> is_area("'My data'!$A:$B"), is_area("Data!A1:B3"), is_area("OFFSET(A1,0,0)")
    (True, True, False)
    """
    return _area(text) is not None


def _area(value: str) -> _Area | None:
    from cvp_xl.xlsx.a1 import MAX_COL, MAX_ROW, column_index

    m = _AREA.match(value)
    if m is None:
        return None
    if m["c1"]:
        r1, c1 = int(m["r1"]), column_index(m["c1"])
        r2, c2 = (int(m["r2"]), column_index(m["c2"])) if m["c2"] else (r1, c1)
        whole = None
    elif m["wc1"]:
        r1, r2, whole = 1, MAX_ROW, "column"
        c1, c2 = column_index(m["wc1"]), column_index(m["wc2"])
    else:
        c1, c2, whole = 1, MAX_COL, "row"
        r1, r2 = int(m["wr1"]), int(m["wr2"])
    r1, r2, c1, c2 = min(r1, r2), max(r1, r2), min(c1, c2), max(c1, c2)
    if not (1 <= r1 and r2 <= MAX_ROW and 1 <= c1 and c2 <= MAX_COL):
        return None
    return _Area(m["sheet"], r1, c1, r2, c2, whole)


def as_excel_reads(
    text: str,
    *,
    sheet: str,
    cell: tuple[int, int],
    array: bool,
    used: Mapping[str, tuple[int, int]],
    name_ranges: Mapping[str, str] | None = None,
) -> Rewritten:
    """A plain formula's ranges as Excel reads them in one cell, and whole columns bounded.

    Two rules of Excel, applied to the text :func:`rewrite` made (no structured reference
    left):

    - **implicit intersection**: in a plain formula (not an array formula: a dynamic-array
      formula of Excel 365 is stored as one, ``t="array"``, so a plain ``<f>`` is read as
      Excel always read it, shown by Excel 365 as ``=SUM(@A1:A3*2)``), a range that is an
      operand of an operator (``A1:A3*2``, ``A:A&"/"``) stands for its one cell in the
      formula's row (a column of cells) or column (a row of cells), or ``#VALUE!`` when there
      is none; not inside a function that takes arrays (:data:`ARRAY_ARGUMENTS`,
      ``SUMPRODUCT(A1:A3*2)``).  A name for a range (`name_ranges`) is read the same way.
    - **whole columns and rows** (``A:A``, ``1:1``): read to the last used row (column) of
      their sheet (`used`, ``{SHEET: (last row, last column)}``) and the formula's own, where
      the result cannot depend on the empty cells past it: given whole to a function that
      skips empty cells (:data:`EMPTY_CELLS_IGNORED`), to an exact MATCH or to INDEX
      (:func:`_lookup_clip`); COUNTIF(S) and COUNTBLANK count the empty rows without reading
      them (:func:`_count_whole_columns`).  So is any range past :data:`WHOLE_LIMIT` cells,
      and a name for one given whole to such a function (``SUM(Amounts)``).  Anywhere else a
      reference past :data:`WHOLE_LIMIT` cells is a ``problem`` (a whole row, 16,384 cells,
      is read whole).

    Parameters
    ----------
    text : str
        The formula, with its ``=``.
    sheet : str
        The formula's sheet.
    cell : (int, int)
        The formula's row and column (for an array formula, its last row and column).
    array : bool
        True for an array formula: no implicit intersection.
    used : mapping
        ``{SHEET NAME (upper case): (last used row, last used column)}``.
    name_ranges : mapping, optional
        ``{NAME (upper case): range text}`` for defined names that stand for one range.

    >>> used = {"DATA": (3, 2)}
    >>> as_excel_reads("=A:A&B:B", sheet="Data", cell=(2, 3), array=False, used=used).text
    '=$A$2&$B$2'
    >>> as_excel_reads("=SUM(A1:A3*2)", sheet="Data", cell=(5, 3), array=False,
    ...                used=used).text
    '=SUM(#VALUE!*2)'
    >>> as_excel_reads("=SUM(A:A)+COUNTIF(B:B,C1)", sheet="Data", cell=(1, 3),
    ...                array=False, used=used).text
    '=SUM($A$1:$A$3)+(COUNTIF($B$1:$B$3,C1)+COUNTIF($B$4,C1)*1048573)'
    """
    from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

    out = Rewritten(text)
    try:
        tokens = Tokenizer(text).items
    except (TokenizerError, IndexError, ValueError):
        return out  # rewrite() named it already
    name_ranges = name_ranges or {}
    row, col = cell
    significant = [i for i, t in enumerate(tokens) if t.type != Token.WSPACE]
    position = {i: k for k, i in enumerate(significant)}
    stack: list[str] = []
    opened: list[int] = []
    enclosing: list[tuple[str, ...]] = [()] * len(tokens)
    opener: list[int | None] = [None] * len(tokens)
    for i, tok in enumerate(tokens):
        enclosing[i] = tuple(stack)
        opener[i] = opened[-1] if opened else None
        if tok.subtype == Token.OPEN:
            stack.append(tok.value[:-1].upper().rpartition(":")[2] if tok.type == Token.FUNC
                         else tok.type)
            opened.append(i)
        elif tok.subtype == Token.CLOSE and stack:
            stack.pop()
            opened.pop()
    counted, finish = _count_whole_columns(tokens, sheet, row, used)
    changed = bool(counted)
    for i, tok in enumerate(tokens):
        if i in counted or not (tok.type == Token.OPERAND and tok.subtype == Token.RANGE):
            continue
        area = _area(tok.value)
        name = None
        if area is None and tok.value.upper() in name_ranges:
            name = tok.value.upper()
            area = _area(name_ranges[name])
        if area is None:
            continue
        before, after = _neighbours(tokens, significant, position, i)
        in_value = (before is not None and (before.type == Token.OP_PRE or (
            before.type == Token.OP_IN and before.value in _VALUE_OPERATORS))) or (
            after is not None and (after.type == Token.OP_POST or (
                after.type == Token.OP_IN and after.value in _VALUE_OPERATORS)))
        functions = [f for f in enclosing[i] if f not in (Token.PAREN, Token.ARRAY)]
        several = area.r1 != area.r2 or area.c1 != area.c2
        if in_value and several and not array and not set(functions) & ARRAY_ARGUMENTS:
            r = area.r1 if area.r1 == area.r2 else row
            c = area.c1 if area.c1 == area.c2 else col
            if area.r1 <= r <= area.r2 and area.c1 <= c <= area.c2:
                tok.value = area.text(r, c, r, c)
            else:
                tok.value = "#VALUE!"
            if name:
                out.names.add(name)
            changed = True
            continue
        span = (area.r2 - area.r1 + 1) * (area.c2 - area.c1 + 1)
        if area.whole is None and span <= WHOLE_LIMIT:
            continue
        parent = enclosing[i][-1] if enclosing[i] else None
        direct = (before is not None and before.type in (Token.FUNC, Token.SEP)
                  and before.subtype in (Token.OPEN, Token.ARG)
                  and after is not None and after.type in (Token.FUNC, Token.SEP)
                  and after.subtype in (Token.CLOSE, Token.ARG))
        if direct and area.whole == "column" and parent in ("INDEX", "MATCH") and not (
                parent == "INDEX" and set(functions) & _REFERENCE_USES) and \
                _lookup_clip(tokens, opener[i], i, area,
                             used.get(area.sheet_name(sheet).upper(), (0, 0))[0], row):
            changed = True
            if name:
                out.names.add(name)
            continue
        if direct and parent in EMPTY_CELLS_IGNORED:
            # past the last used row (column) every cell is empty: read up to there (one
            # empty cell when the whole area lies past it)
            last_row, last_col = used.get(area.sheet_name(sheet).upper(), (0, 0))
            if area.whole == "row" or (area.whole is None and area.r1 == area.r2):
                last = max(min(area.c2, max(last_col, col)), area.c1)
                tok.value = area.text(area.r1, area.c1, area.r2, last)
            else:
                last = max(min(area.r2, max(last_row, row)), area.r1)
                tok.value = area.text(area.r1, area.c1, last, area.c2)
            changed = True
            if name:
                out.names.add(name)
            continue
        if span > WHOLE_LIMIT and out.problem is None:
            where = f"in {functions[-1]}" if functions else "outside a function"
            out.problem = (
                f"{tok.value} spans {span:,} cells and is read {where}, where its empty cells "
                f"could change the result; references past {WHOLE_LIMIT:,} cells are read to "
                "the used range only in SUM, COUNT, lookups and the like")
    _finish_counts(tokens, finish)
    # names read as their cells everywhere in the formula (not one still used as a name)
    out.names -= {t.value.upper() for t in tokens if t.type == Token.OPERAND}
    if changed:
        out.text = "=" + "".join(t.value if t.type != Token.WSPACE else " " for t in tokens)
    return out


def _neighbours(tokens, significant, position, i):
    """The significant tokens around tokens[i], looking through parentheses around it."""
    from openpyxl.formula.tokenizer import Token

    k = position[i]
    lo, hi = k - 1, k + 1
    while (lo >= 0 and hi < len(significant)
           and tokens[significant[lo]].type == Token.PAREN
           and tokens[significant[lo]].subtype == Token.OPEN
           and tokens[significant[hi]].type == Token.PAREN
           and tokens[significant[hi]].subtype == Token.CLOSE):
        lo, hi = lo - 1, hi + 1
    before = tokens[significant[lo]] if lo >= 0 else None
    after = tokens[significant[hi]] if hi < len(significant) else None
    return before, after


def _lookup_clip(tokens, open_index, i, area, last_row, row) -> bool:
    """INDEX and MATCH over whole columns, read to the used rows (True when done).

    ``MATCH(x,A:A,0)`` (an exact match) finds the same row in ``A1:AN`` (N the last used
    row; no empty cell matches).  ``INDEX(A:A,r[,c])`` is ``INDEX(A1:A(N+1),MIN(r,N+1)[,c])``:
    a row past N is an empty cell in Excel, and so is row N+1.  INDEX with a row of 0 (the
    whole column), INDEX whose reference is used as one (``A1:INDEX(A:A,r)``, inside ROWS,
    OFFSET, ...) and MATCH of another kind are not rewritten.
    """
    from openpyxl.formula.tokenizer import Token

    from cvp_xl.xlsx.a1 import MAX_ROW

    args, close = _call_arguments(tokens, open_index)
    name = tokens[open_index].value[:-1].upper().rpartition(":")[2]
    if name == "INDEX" and (":" in tokens[open_index].value or any(
            t.value.startswith(":") for t in tokens[close + 1:close + 2])):
        return False  # A1:INDEX(A:A,r): the cells up to row r, not the value there
    last = max(last_row, row, 1)
    if last >= MAX_ROW or not args:
        return False
    if name == "MATCH":
        if len(args) != 3 or args[1] != [i] or len(args[2]) != 1:
            return False
        kind = tokens[args[2][0]]
        if kind.subtype != Token.NUMBER or float(kind.value) != 0:
            return False
        tokens[i].value = area.text(1, area.c1, last, area.c2)
        return True
    if len(args) < 2 or args[0] != [i] or not args[1]:
        return False
    first = tokens[args[1][0]]
    if len(args[1]) == 1 and first.subtype == Token.NUMBER and float(first.value) == 0:
        return False
    # the separators around the row argument take the MIN( ... ), so that the tokens of the
    # argument itself keep their values for the rest of the reading
    before = next(k for k in range(args[1][0] - 1, open_index, -1)
                  if tokens[k].type == Token.SEP)
    after = next(k for k in range(args[1][-1] + 1, len(tokens))
                 if tokens[k].type == Token.SEP or tokens[k].subtype == Token.CLOSE)
    tokens[i].value = area.text(1, area.c1, last + 1, area.c2)
    tokens[before].value += "MIN("
    tokens[after].value = f",{last + 1})" + tokens[after].value
    return True


def _call_arguments(tokens, open_index):
    """The arguments of the call opened at tokens[open_index]: lists of token indexes
    (whitespace left out), and the index of its closing token."""
    from openpyxl.formula.tokenizer import Token

    args, current, depth = [], [], 0
    for k in range(open_index + 1, len(tokens)):
        t = tokens[k]
        if t.subtype == Token.CLOSE and depth == 0:
            args.append(current)
            return args, k
        if t.subtype == Token.OPEN:
            depth += 1
        elif t.subtype == Token.CLOSE:
            depth -= 1
        if depth == 0 and t.type == Token.SEP and t.subtype == Token.ARG:
            args.append(current)
            current = []
        elif t.type != Token.WSPACE:
            current.append(k)
    return None, None


def _count_whole_columns(tokens, sheet, row, used):
    """COUNTIF, COUNTIFS and COUNTBLANK over whole columns, counted without reading them.

    The rows past the last used row N of the columns' sheets are all empty, so
    ``COUNTIF(A:A,X)`` is ``(COUNTIF($A$1:$A$N,X)+COUNTIF($A$N+1,X)*(1048576-N))``: the
    used part, plus the empty rows if an empty cell meets X (``"<>x"``, ``""``);
    ``COUNTBLANK(A:A)`` is ``(COUNTBLANK($A$1:$A$N)+1048576-N)``.  Returns the indexes of
    the range tokens rewritten (their values changed in place) and what
    :func:`_finish_counts` completes once the criteria are read.
    """
    from openpyxl.formula.tokenizer import Token

    from cvp_xl.xlsx.a1 import MAX_ROW

    done, finish = set(), []
    for i, tok in enumerate(tokens):
        name = tok.value[:-1].upper() if tok.type == Token.FUNC and \
            tok.subtype == Token.OPEN else None
        if name not in ("COUNTIF", "COUNTIFS", "COUNTBLANK"):
            continue
        args, close = _call_arguments(tokens, i)
        if not args or (name == "COUNTBLANK") != (len(args) == 1) or (
                name != "COUNTBLANK" and len(args) % 2):
            continue
        ranges = args[::2] if name != "COUNTBLANK" else args
        areas = [_area(tokens[a[0]].value) if len(a) == 1 and tokens[a[0]].type ==
                 Token.OPERAND and tokens[a[0]].subtype == Token.RANGE else None
                 for a in ranges]
        if not all(a is not None and a.whole == "column" for a in areas):
            continue
        last = max(max(used.get(a.sheet_name(sheet).upper(), (0, 0))[0] for a in areas),
                   row, 1)
        if last >= MAX_ROW or done & {k for a in args for k in a}:
            continue
        beyond = MAX_ROW - last
        empty = []
        for arg, area in zip(ranges, areas):
            tokens[arg[0]].value = area.text(1, area.c1, last, area.c2)
            empty.append(area.text(last + 1, area.c1, last + 1, area.c2))
            done.add(arg[0])
        tok.value = "(" + tok.value
        if name == "COUNTBLANK":
            tokens[close].value = f")+{beyond})"
            continue
        finish.append((name, close, empty, args[1::2], beyond))
    return done, finish


def _finish_counts(tokens, finish) -> None:
    """The second COUNTIF(S) of :func:`_count_whole_columns`, with the criteria as read."""
    for name, close, empty, criteria_args, beyond in finish:
        criteria = ["".join(tokens[k].value for k in range(a[0], a[-1] + 1)) if a else ""
                    for a in criteria_args]
        pairs = ",".join(f"{e},{c}" for e, c in zip(empty, criteria))
        tokens[close].value = f")+{name}({pairs})*{beyond})"
