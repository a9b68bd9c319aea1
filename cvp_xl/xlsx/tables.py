"""Reading tables: a CSV file or a sheet of an .xlsx workbook, one way for every command.

The case-history table, the value tracker's period files and the batch command's customer
tables are all read here, as they are exported in the field:

- :func:`read_table` reads a CSV file or the first sheet of a workbook into a DataFrame
  with every cell as it was typed (blank cells as ``None``; ``NA``, ``NULL`` and ``N/A`` are
  text like any other) and the index holding each row's line or row number.  Rows without a
  value are left out wherever they are, and a last row labelled ``Total`` (:data:`TOTAL_LABELS`)
  too; in a CSV file, a line with more or fewer fields than the header is reported by its line
  and skipped; in a workbook, an Excel table on the first sheet is read as the table (its total
  row left out).  ``frame.attrs["read"]`` (:class:`TableRead`) says how the file was read.
  :func:`open_table` reads the same rows one at a time, each time they are asked for, without
  holding the file's text or its rows (a batch of 10,000 customers takes the memory of 1,000).
- :func:`read_csv` reads a CSV file with every field as text, one row per line (the tracker's
  and the case table's reader).
- CSV files: the encoding is UTF-8 (with or without a byte-order mark), else Windows-1252 (what
  Excel on Windows saves as "CSV"), else ISO-8859-1 (:func:`decode_text`); the separator is
  ``,``, ``;`` or tab, whichever splits the first lines most consistently, or the one Excel's
  ``sep=`` line names.
- :func:`find_tables` lists the Excel tables (``Insert > Table``) of a workbook, and
  :func:`read_block` and :func:`read_rows` read its cells (:mod:`cvp_xl.xlsx.workbook_cells`:
  checked with :func:`~cvp_xl.xlsx.safety.check_xlsx` first, then streamed through lxml).
- :func:`header_key` and :func:`match_headers` compare headers as people type them: case,
  runs of spaces and underscores do not matter (``Period_End`` is ``period end``).
- :func:`as_text`, :func:`as_number`, :func:`as_date` and :func:`numbers_from_text` turn a
  cell (or a CSV field) into text, a number or a date, or say it is not one; :func:`shown`
  is how a refused value reads in a message.

Two rules for numbers typed as text.  :func:`as_number` takes plain numbers only
(:data:`NUMBER_TEXT`: ``86400``, ``-1.5``, ``2E3``).  :func:`parse_number` also reads Excel's
way of showing them: ``7%`` is 0.07, digits grouped by threes (``1,234,567``, ``1.234.567``,
``1 234 567``), with the decimal mark the table's fields show (:func:`decimal_mark`).  Neither
takes currency signs, units, ``inf`` or ``nan``.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cvp_xl.args import describe
from cvp_xl.errors import RowProblem, WorkbookError
from cvp_xl.xlsx.typed_text import (
    CP1252,
    LATIN1,
    SEPARATORS,
    UTF8,
    UTF8_BOM,
    decimal_mark,
    decode_text,
    find_separator,
    number_field,
    records,
)
from cvp_xl.xlsx.workbook_cells import (
    TableInfo,
    bounds,
    find_tables,
    first_sheet,
    read_block,
    read_rows,
)

__all__ = [
    "NUMBER_TEXT",
    "TableInfo",
    "HeaderMatch",
    "find_tables",
    "read_block",
    "read_rows",
    "read_csv",
    "read_table",
    "TableStream",
    "open_table",
    "row_numbers",
    "TableRead",
    "LineProblem",
    "TOTAL_LABELS",
    "decode_text",
    "decimal_mark",
    "parse_number",
    "UTF8",
    "UTF8_BOM",
    "CP1252",
    "LATIN1",
    "header_key",
    "match_headers",
    "is_blank",
    "is_number",
    "as_text",
    "as_number",
    "as_date",
    "numbers_from_text",
    "shown",
]

#: A plain number written as text: sign, digits, decimal point, exponent (ASCII digits only).
NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# -- cells: text, numbers, dates -----------------------------------------------------------------


def is_blank(value) -> bool:
    """A blank cell: ``None``, NaN (pandas' blank), ``NaT``, or text of spaces only."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return False


def is_number(value) -> bool:
    """A number cell: a finite real number, not a boolean, not text."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def as_number(value) -> float | None:
    """A number cell, or text holding a plain number (:data:`NUMBER_TEXT`), as a float; else None.

    >>> as_number(" -1.5 "), as_number(3), as_number("1,000"), as_number(True)
    (-1.5, 3.0, None, None)
    """
    if is_number(value):
        return float(value)
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value.strip()):
        return float(value.strip())
    return None


def as_text(value, *, strip: bool = False) -> str | None:
    """A cell as text, or None when it is blank or not text-like (a boolean, a date, an error).

    A number reads as it is shown without a format: ``2024``, not ``2024.0`` (a period or an id
    typed into a spreadsheet becomes a number).  ``strip`` removes surrounding spaces.

    >>> as_text(2024.0), as_text(" Q1 ", strip=True), as_text("  "), as_text(False)
    ('2024', 'Q1', None, None)
    """
    if isinstance(value, str):
        if not value.strip():
            return None
        return value.strip() if strip else value
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def as_date(value) -> dt.date | None:
    """A date cell (its date), or text in ISO form ``YYYY-MM-DD``; else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) != 10:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def numbers_from_text(texts: pd.Series) -> pd.Series:
    """CSV fields to cells: ``None`` for blank, a float for a plain number, else the text."""
    s = texts.astype(object)
    stripped = s.str.strip()
    blank = stripped.eq("").fillna(True).astype(bool)
    plain = stripped.str.fullmatch(NUMBER_TEXT.pattern).fillna(False).astype(bool) & ~blank
    out = s.where(~blank, None)
    if plain.any():
        out[plain] = pd.to_numeric(stripped[plain]).astype(float).astype(object)
    return out


def shown(value) -> str:
    """How a refused cell value reads in a message: ``'abc'``, ``a blank cell``, ``the date``."""
    if isinstance(value, dt.datetime):
        fmt = "%Y-%m-%d" if value.time() == dt.time(0) else "%Y-%m-%d %H:%M:%S"
        return f"the date {value.strftime(fmt)}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dt.time):
        return f"the time {value.isoformat()}"
    return describe(value)


# -- headers -------------------------------------------------------------------------------------


def header_key(name) -> str:
    """How a header compares: case, underscores and runs of spaces ignored.

    >>> header_key("  Period_End "), header_key(None)
    ('period end', '')
    """
    text = "" if name is None else str(name)
    return " ".join(text.replace("_", " ").split()).casefold()


@dataclass
class HeaderMatch:
    """Where the wanted columns are among the headers, and the headers that are not wanted."""

    positions: dict[str, int] = field(default_factory=dict)  # wanted name -> header index
    extra: list[tuple[int, object, str]] = field(default_factory=list)  # (index, header, why)
    missing: list[str] = field(default_factory=list)  # wanted names not found, in order

    @property
    def ok(self) -> bool:
        return not self.extra and not self.missing


def match_headers(headers: Iterable, wanted: Sequence[str]) -> HeaderMatch:
    """Match ``headers`` to the ``wanted`` column names (:func:`header_key` on both sides).

    The first header of each wanted column counts; a later one is ``extra`` with why
    ``"repeated"``, a header no wanted column has is ``extra`` with why ``"unknown"``.
    """
    keys = {header_key(w): w for w in wanted}
    match = HeaderMatch()
    for i, h in enumerate(headers):
        name = keys.get(header_key(h))
        if name is not None and name not in match.positions:
            match.positions[name] = i
        else:
            match.extra.append((i, h, "unknown" if name is None else "repeated"))
    match.missing = [w for w in wanted if w not in match.positions]
    return match


def parse_number(value, decimal: str = ".") -> tuple[float | None, str | None]:
    """A number cell or a number typed as text, with percentages and thousands separators.

    The rule (one for every table): surrounding spaces are ignored; a leading ``+``, ``-`` or
    ``−``; digits, optionally grouped by threes with the mark that is not the decimal mark, a
    space or a no-break space (``1,234,567``, ``1.234.567``, ``1 234 567``); then optionally
    the decimal mark and digits, or an exponent (``2E3``); a trailing ``%`` divides by 100
    (``7%`` is 0.07, as Excel reads it).  ``decimal`` is ``"."``, ``","`` or ``"mixed"``
    (see :func:`decimal_mark`): in a mixed table a field is read by the one mark that
    reads it, and a field that either mark reads (``1,234``) is refused.  Currency signs,
    units, ``inf`` and ``nan`` are not numbers.

    Returns
    -------
    (float or None, str or None)
        The number, or None with why: ``"blank"`` for a blank cell, else a phrase for the
        message (``"'lots'"``).

    >>> parse_number("7%"), parse_number("1,234,567"), parse_number("1.234,5", ",")
    ((0.07, None), (1234567.0, None), (1234.5, None))
    >>> parse_number("1,234", "mixed")[1]
    "'1,234', which could be 1234 or 1.234 (the table uses both . and , as decimal marks)"

    Given the :class:`~cvp_xl.xlsx.typed_text.DecimalMark` that :func:`decimal_mark` returned
    for the table's fields, a field it read is not parsed again.
    """
    if is_blank(value):
        return None, "blank"
    if is_number(value):
        return float(value), None
    if not isinstance(value, str):
        return None, shown(value)
    known = getattr(decimal, "fields", None)  # a DecimalMark keeps the fields it read
    parsed = known.get(value, _UNREAD) if known is not None else _UNREAD
    if parsed is _UNREAD:
        parsed = number_field(value)
    if parsed is not None:
        if decimal == "mixed":
            found = {v for v in (parsed.read("."), parsed.read(",")) if v is not None}
            if len(found) > 1:
                a, b = sorted(found, reverse=True)
                return None, (f"{describe(value)}, which could be {a:g} or {b:g} (the table "
                              f"uses both . and , as decimal marks)")
            number = found.pop() if found else None
        else:
            number = parsed.read(decimal)
        if number is not None:
            number = -number if parsed.sign == "-" else number
            return (number / 100 if parsed.percent else number), None
    return None, describe(value)


_UNREAD = object()


@dataclass
class TableRead:
    """How a table was read: what a user should be told, and the lines that were skipped.

    ``encoding`` and ``separator`` are None for a workbook; ``decimal`` is the default
    decimal mark for numbers typed as text (``","`` in a semicolon-separated CSV file, as
    Excel writes it where the comma is the decimal mark; ``"."`` otherwise).
    """

    source: str
    encoding: str | None = None
    separator: str | None = None
    decimal: str = "."
    where: str = "row"
    notes: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    skipped: dict[int, list[str]] = field(default_factory=dict)  # line -> its fields

    def describe(self) -> str:
        """One line: ``UTF-8, semicolon-separated`` or ``the Excel table 'Customers'``."""
        if self.encoding is None:
            return "workbook"
        return f"{self.encoding}, {SEPARATORS[self.separator]}-separated"


@dataclass(frozen=True)
class LineProblem(RowProblem):
    """A row problem that may name the customer and may concern the whole row (no column).

    >>> str(LineProblem(7, "", "12 fields where the header has 11; skipped", "line"))
    'line 7: 12 fields where the header has 11; skipped'
    >>> str(LineProblem(3, "price", "expected a number, got 'abc'", "line", "C-1"))
    "line 3, customer 'C-1', column 'price': expected a number, got 'abc'"
    """

    customer: str = ""

    def __str__(self) -> str:
        head = f"{self.where} {self.row}"
        if self.customer:
            head += f", customer {self.customer!r}"
        if self.column:
            head += f", column {self.column!r}"
        return f"{head}: {self.message}"


def _parse_csv(path: str | os.PathLike, error: str) -> tuple[list[tuple[int, list[str]]],
                                                            TableRead]:
    source = os.fspath(path)
    if not os.path.exists(source):
        raise WorkbookError(f"{source}: no such file")
    try:
        with open(source, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise WorkbookError(f"{source}: {error} ({exc.strerror})") from None
    text, encoding = decode_text(data, source, error)
    if "\x00" in text.split("\n", 1)[0]:
        raise WorkbookError(f"{source}: {error} (its first line holds NUL characters: not a "
                            f"text file)")
    info = TableRead(source, encoding=encoding, where="line")
    first_line = 1
    hint = re.match(r"sep=(.)\r?\n", text)  # Excel's own hint line
    if hint and hint.group(1) in SEPARATORS:
        info.separator, text, first_line = hint.group(1), text[hint.end():], 2
    else:
        info.separator = find_separator(text)
    info.decimal = "," if info.separator == ";" else "."
    try:
        found = [(line + first_line - 1, fields)
                 for line, fields in records(text, info.separator)]
    except csv.Error as exc:
        raise WorkbookError(f"{source}: {error} ({exc})") from None
    while found and not any(f.strip() for f in found[-1][1]):
        found.pop()  # trailing blank rows (Excel writes ",,,," for formatted empty rows)
    if not found:
        raise WorkbookError(f"{source}: {error} (no header line)")
    return found, info


#: Python's codec for each encoding :func:`decode_text` names.
_CODECS = {UTF8: "utf-8", UTF8_BOM: "utf-8-sig", CP1252: "cp1252", LATIN1: "latin-1"}
_CHUNK = 1 << 16
#: How much of a file's text :func:`find_separator` is shown first (four times more until it
#: holds the 20 records it reads, or the whole file).
_SAMPLE = 1 << 16


class _Hashing(io.RawIOBase):
    """A file's bytes as they are read, with their SHA-256."""

    def __init__(self, raw) -> None:
        self.raw, self.hash = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.hash.update(memoryview(buffer)[:n])
        return n


def _scan_csv(source: str, error: str) -> tuple[str, str]:
    """The encoding of a CSV file (the rule of :func:`decode_text`) and its SHA-256, read a
    chunk at a time; a file that is not UTF-8 is read whole, as :func:`decode_text` reads it
    (which raises what it raises)."""
    digest, decoder, valid, head = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")(), \
        True, b""
    try:
        with open(source, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                head += chunk[:max(0, 3 - len(head))]
                digest.update(chunk)
                if valid:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        valid = False
        if valid:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        valid = False
    except OSError as exc:
        raise WorkbookError(f"{source}: {error} ({exc.strerror})") from None
    if valid:
        return (UTF8_BOM if head.startswith(codecs.BOM_UTF8) else UTF8), digest.hexdigest()
    try:
        with open(source, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise WorkbookError(f"{source}: {error} ({exc.strerror})") from None
    _, encoding = decode_text(data, source, error)
    return encoding, hashlib.sha256(data).hexdigest()


def _sample(source: str, codec: str) -> str:
    """The start of a file's text: enough lines for :func:`find_separator` (its first 20
    records with every separator), or the whole text."""
    limit = _SAMPLE
    while True:
        lines, size, ended = [], 0, True
        with open(source, encoding=codec, newline="") as handle:
            for line in handle:
                lines.append(line)
                size += len(line)
                if size >= limit:
                    ended = False
                    break
        text = "".join(lines)
        if ended or all(_records_at_least(text, sep, 21) for sep in SEPARATORS):
            return text
        limit *= 4


def _records_at_least(text: str, separator: str, n: int) -> bool:
    try:
        return sum(1 for _ in itertools.islice(records(text, separator), n)) == n
    except csv.Error:
        return False


def _csv_stream(path: str | os.PathLike, error: str
                ) -> tuple[Callable[[], Iterator[tuple[int, list[str]]]], TableRead]:
    """What :func:`_csv_records` reads, without the file's text in memory: the records are
    read from the file a line at a time each time the returned function is called (the
    encoding, Excel's ``sep=`` line and the separator found first, from the file and its first
    :data:`_SAMPLE` characters).  A file whose bytes changed since is refused when its records
    have been read."""
    source = os.fspath(path)
    if not os.path.exists(source):
        raise WorkbookError(f"{source}: no such file")
    encoding, digest = _scan_csv(source, error)
    codec = _CODECS[encoding]
    nul = pua = nul_first = False
    first_done = False
    with open(source, encoding=codec, newline="") as handle:
        for line in handle:
            nul, pua = nul or "\x00" in line, pua or "\ue000" in line
            if not first_done:
                nul_first = nul_first or "\x00" in line.split("\n", 1)[0]
                first_done = "\n" in line
    if nul_first:
        raise WorkbookError(f"{source}: {error} (its first line holds NUL characters: not a "
                            f"text file)")
    info = TableRead(source, encoding=encoding, where="line")
    text = _sample(source, codec)
    hint = re.match(r"sep=(.)\r?\n", text)  # Excel's own hint line
    hinted = bool(hint and hint.group(1) in SEPARATORS)
    info.separator = hint.group(1) if hinted else find_separator(text)
    info.decimal = "," if info.separator == ";" else "."
    first_line = 2 if hinted else 1
    swap = nul and not pua  # as :func:`~cvp_xl.xlsx.typed_text.records` passes NUL through
    del text

    def found() -> Iterator[tuple[int, list[str]]]:
        with open(source, "rb", buffering=0) as raw:
            hashing = _Hashing(raw)
            handle = io.TextIOWrapper(io.BufferedReader(hashing, _CHUNK), encoding=codec,
                                      newline="")
            lines = iter(handle)
            if hinted:
                next(lines, None)
            if swap:
                lines = (line.replace("\x00", "\ue000") for line in lines)
            reader = csv.reader(lines, delimiter=info.separator)
            line = 0
            try:
                for fields in reader:
                    yield line + first_line, ([f.replace("\ue000", "\x00") for f in fields]
                                              if swap else fields)
                    line = reader.line_num
            except csv.Error as exc:
                raise WorkbookError(f"{source}: {error} ({exc})") from None
            if hashing.hash.hexdigest() != digest:
                raise WorkbookError(f"{source}: changed while it was being read; run the "
                                    f"command again")

    return found, info


def read_csv(path: str | os.PathLike, *, error: str = "cannot be read as a UTF-8 CSV file"
             ) -> pd.DataFrame:
    """Read a CSV file with every field as text, one row per line after the header.

    The encoding (:func:`decode_text`) and the separator (``,``, ``;`` or tab: the one that
    splits the first lines most consistently, or Excel's ``sep=`` line) are found from the
    file.  Trailing blank lines are left out; a line with fewer fields than the header is
    padded with empty fields.  The index is the line number (the header is line 1).

    Raises
    ------
    cvp_xl.errors.WorkbookError
        ``<path>: no such file``; ``<path>: <error> (<why>)``; a line with more fields than
        the header (every such line is named).
    """
    records, info = _parse_csv(path, error)
    (_, header), body = records[0], records[1:]
    long = [f"line {line} has {len(fields)}" for line, fields in body if len(fields) > len(header)]
    if long:
        raise WorkbookError(f"{info.source}: {error} (the header has {len(header)} fields; "
                            f"{', '.join(long[:10])}{' ...' if len(long) > 10 else ''})")
    rows = [fields + [""] * (len(header) - len(fields)) for _, fields in body]
    frame = pd.DataFrame(rows, columns=header, dtype=object,
                         index=pd.Index([line for line, _ in body], name="line"))
    frame.attrs["read"] = info
    return frame


def _csv_table(path, error) -> tuple[list, list[tuple[int, list]], TableRead]:
    records, info = _parse_csv(path, error)
    (_, header), body = records[0], records[1:]
    rows = []
    for line, fields in body:
        if not any(f.strip() for f in fields):
            continue
        if _skipped(line, fields, header, info):
            continue
        rows.append((line, _fields(fields)))
    return header, rows, info


def _fields(fields: list[str]) -> list[str | None]:
    """A CSV line's fields, a blank one as None (an empty cell)."""
    return [None if not f.strip() else f for f in fields]


def _skipped(line: int, fields: list[str], header: list[str], info: TableRead) -> bool:
    """Whether a CSV line is skipped for a count of fields other than the header's (the
    problem and the line then recorded in ``info``)."""
    if len(fields) == len(header):
        return False
    info.problems.append(LineProblem(
        line, "", f"{len(fields)} field{'s' * (len(fields) != 1)} where the header has "
                  f"{len(header)}; the line is skipped (a separator or quote too many "
                  f"or too few?)", "line"))
    info.skipped[line] = fields
    return True


#: The labels of a total row at the end of a table (case and a trailing colon ignored).
TOTAL_LABELS = ("total", "totals", "grand total", "sum")


def _is_total(row: list) -> bool:
    first = next((v for v in row if not is_blank(v)), None)
    return isinstance(first, str) and first.strip().rstrip(":").strip().casefold() in TOTAL_LABELS


def _xlsx_table(path) -> tuple[list, list[tuple[int, list]], TableRead]:
    source = os.fspath(path)
    info = TableRead(source, where="row")
    rows = read_rows(source)
    sheet = first_sheet(source)
    found = [t for t in find_tables(source) if t.sheet == sheet]
    numbered = [(r, row) for r, row in enumerate(rows, start=1)]
    if len(found) == 1:
        t = found[0]
        min_col, min_row, max_col, max_row = bounds(t.ref)
        last = max_row - t.totals_rows
        info.notes.append(f"read the Excel table {t.name!r} ({t.ref}) on sheet {t.sheet!r}")
        if t.totals_rows:
            info.notes.append(f"row {max_row} is the table's total row: left out")
        numbered = [(r, (row + [None] * max_col)[min_col - 1:max_col])
                    for r, row in numbered if min_row <= r <= last]
    numbered = [(r, row) for r, row in numbered if any(not is_blank(v) for v in row)]
    if not numbered:
        return [], [], info
    (head_row, header), body = numbered[0], numbered[1:]
    if head_row > 1 and len(found) != 1:
        info.notes.append(f"the header is on row {head_row}")
    width = len(header)
    body = [(r, (row + [None] * width)[:max(width, len(row))]) for r, row in body]
    return header, body, info


def read_table(path: str | os.PathLike, *, csv_error: str = "cannot be read as a CSV file"
               ) -> pd.DataFrame:
    """A table with a header row, from a CSV file or the first sheet of an .xlsx/.xlsm workbook.

    Every cell is as it was typed: CSV fields as text (an empty field is None; nothing is
    read as "missing": ``NA``, ``NULL`` and ``N/A`` stay text), workbook cells as numbers,
    text, dates, booleans or :class:`~cvp_xl.errors.ErrorValue`; blank cells are ``None``.

    - CSV: the encoding and separator are found as :func:`read_csv` finds them; a line with
      more or fewer fields than the header is skipped and listed in ``problems``.
    - Workbook: when the first sheet holds one Excel table, the table is read (its total row
      left out); otherwise the header is the first row with a value.
    - Both: rows with no value are left out wherever they are; a last row labelled
      :data:`TOTAL_LABELS` (``Total``, ``Grand total:`` ...) is a total row and left out.

    The index holds each row's number as the file counts it: the CSV line (index name
    ``"line"``) or the sheet row (``"row"``).  ``frame.attrs["read"]`` is a :class:`TableRead`:
    the encoding and separator used, notes for the user, and the skipped lines.
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        header, body, info = _xlsx_table(path)
    else:
        header, body, info = _csv_table(path, csv_error)
    if body and _is_total(body[-1][1]):
        info.notes.append(f"{info.where} {body[-1][0]} is a total row "
                          f"({next(v for v in body[-1][1] if not is_blank(v))!r}): left out")
        body = body[:-1]
    width = max([len(header)] + [len(row) for _, row in body])
    columns = [f"Unnamed: {i}" if is_blank(h) else str(h)
               for i, h in enumerate(list(header) + [None] * (width - len(header)))]
    frame = pd.DataFrame([row + [None] * (width - len(row)) for _, row in body],
                         columns=columns, dtype=object,
                         index=pd.Index([r for r, _ in body], name=info.where, dtype=int))
    frame.attrs["read"] = info
    return frame


@dataclass
class TableStream:
    """A table read as :func:`read_table` reads it, but kept on disk: its rows are read again,
    one at a time, each time :meth:`rows` is called (:func:`open_table`).

    ``columns`` are the headers as :func:`read_table` names them, ``read`` how the file was
    read (its notes, and every line skipped, found when it was opened), ``len`` the number
    of rows.
    """

    columns: list[str]
    read: TableRead
    count: int
    _rows: Callable[[], Iterator[tuple[int, list]]] = field(repr=False)

    def __len__(self) -> int:
        return self.count

    def rows(self) -> Iterator[tuple[int, list]]:
        """``(row number, cells)`` of each row, as the frame of :func:`read_table` holds them.

        Raises
        ------
        cvp_xl.errors.WorkbookError
            The file changed since it was opened.
        """
        return self._rows()


def open_table(path: str | os.PathLike, *, csv_error: str = "cannot be read as a CSV file"
               ) -> TableStream:
    """A table to read row by row: what :func:`read_table` reads, without holding its rows.

    A CSV file is read through once when it is opened (the header, the number of rows, the
    lines skipped, a total row: every error :func:`read_table` raises is raised here), then
    once each time its rows are read; a file that changed in between is refused.  The rows
    of a workbook are held (its cells are read whole).
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = read_table(path)
        numbered = list(zip(frame.index.tolist(), (list(r) for r in
                                                   frame.itertuples(index=False, name=None))))
        return TableStream(list(frame.columns), frame.attrs["read"], len(numbered),
                           lambda: iter(numbered))
    found, info = _csv_stream(path, csv_error)
    header, count, last, last_line = None, 0, None, None
    for line, fields in found():
        if header is None:
            header = fields
        elif not any(f.strip() for f in fields):
            continue
        elif not _skipped(line, fields, header, info):
            count, last, last_line = count + 1, fields, line
    if header is None or (not any(f.strip() for f in header) and last is None
                          and not info.problems):
        raise WorkbookError(f"{path}: {csv_error} (no header line)")
    total = None
    if last is not None and _is_total(_fields(last)):
        first = next(f for f in last if f.strip())
        info.notes.append(f"{info.where} {last_line} is a total row ({first!r}): left out")
        total, count = last_line, count - 1
    columns = [f"Unnamed: {i}" if is_blank(h) else str(h) for i, h in enumerate(header)]

    def rows() -> Iterator[tuple[int, list]]:
        again = found()
        next(again)  # the header
        for line, fields in again:
            if line != total and len(fields) == len(header) and any(f.strip() for f in fields):
                yield line, _fields(fields)

    return TableStream(columns, info, count, rows)


def row_numbers(frame: pd.DataFrame) -> tuple[list[int], str]:
    """Each row's number as its file counts it, and the word for it (``line`` or ``row``).

    A frame from :func:`read_table` carries them in its index; any other frame is numbered
    as a sheet with a header row (the first row is row 2).
    """
    if frame.index.name in ("line", "row"):
        return [int(r) for r in frame.index], frame.index.name
    return list(range(2, len(frame) + 2)), "row"


