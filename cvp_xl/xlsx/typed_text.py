"""Text as people type it in exported tables: encodings, separators, numbers.

The pure-text half of :mod:`cvp_xl.xlsx.tables` (which documents the rules and is where
callers read tables): how the bytes of a CSV file become text (:func:`decode_text`), which
character separates its fields (:func:`find_separator`), its records with the line each
starts on (:func:`records`), and how a number typed as text reads with a given decimal mark
(:func:`read_number`, :func:`decimal_mark`).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import re
from collections.abc import Iterable

from cvp_xl.errors import WorkbookError

__all__ = ["decode_text", "find_separator", "records", "number_parts", "read_number",
           "decimal_mark", "DecimalMark", "NumberField", "number_field", "SEPARATORS", "UTF8",
           "UTF8_BOM", "CP1252", "LATIN1"]


# -- numbers as people type them -----------------------------------------------------------------

#: Characters that group thousands besides the other decimal mark: space, no-break space,
#: narrow no-break space (Excel and LibreOffice write these in French and Nordic locales).
_GROUP_SPACES = " \u00a0\u202f"
_MINUS = "-\u2212"  # hyphen-minus and the minus sign


def number_parts(text: str):
    """``(sign, body, percent)`` of a trimmed field, or None when it cannot be a number."""
    t = text.strip()
    percent = t.endswith("%")
    if percent:
        t = t[:-1].rstrip()
    sign = ""
    if t[:1] in ("+",) + tuple(_MINUS):
        sign, t = ("-" if t[0] in _MINUS else ""), t[1:].lstrip()
    if not t or t[0] not in "0123456789.," or _NUMBER_CHARS.fullmatch(t) is None:
        return None
    return sign, t, percent


_NUMBER_CHARS = re.compile(f"[0-9.,eE+\\-{_GROUP_SPACES}]+")
#: A body of digits, optionally the decimal mark and digits: read as Python reads it.
_PLAIN = {".": re.compile(r"[0-9]+(?:\.[0-9]+)?"), ",": re.compile(r"[0-9]+(?:,[0-9]+)?")}


def _grouped(digits: str, sep: str) -> str | None:
    """``1,234,567`` -> ``1234567`` when ``sep`` groups thousands properly; else None."""
    if sep not in digits:
        return digits if digits.isdigit() else None
    groups = digits.split(sep)
    if not (1 <= len(groups[0]) <= 3 and groups[0].isdigit()):
        return None
    if not all(len(g) == 3 and g.isdigit() for g in groups[1:]):
        return None
    return "".join(groups)


def read_number(body: str, decimal: str) -> float | None:
    """The number ``body`` means with this decimal mark (``.`` or ``,``), or None."""
    plain = _PLAIN.get(decimal)
    if plain is not None and plain.fullmatch(body):  # 12 or 12.5: the rule below, at once
        value = float(body.replace(",", ".") if decimal == "," else body)
        return value if math.isfinite(value) else None
    other = "," if decimal == "." else "."
    mantissa, exponent = body, ""
    for e in ("e", "E"):
        if e in body:
            mantissa, _, exponent = body.partition(e)
            if not re.fullmatch(r"[+-]?[0-9]+", exponent):
                return None
            exponent = "e" + exponent
    whole, _, fraction = mantissa.partition(decimal)
    if decimal in fraction or not (fraction.isdigit() or fraction == ""):
        return None
    seps = {ch for ch in whole if not ch.isdigit()}
    if len(seps) > 1 or (seps and (seps - set(other + _GROUP_SPACES) or exponent)):
        return None
    digits = _grouped(whole, seps.pop()) if seps else whole
    if digits is None or (digits == "" and fraction == "") or not (digits.isdigit()
                                                                  or digits == ""):
        return None
    value = float(f"{digits or '0'}.{fraction or '0'}{exponent}")
    return value if math.isfinite(value) else None


class NumberField:
    """A field read once as a number could be: its sign, body and percent
    (:func:`number_parts`), and its value by each decimal mark, read when first asked."""

    __slots__ = ("sign", "body", "percent", "_dot", "_comma")

    def __init__(self, sign: str, body: str, percent: bool):
        self.sign, self.body, self.percent = sign, body, percent
        self._dot = self._comma = _UNREAD

    def read(self, mark: str) -> float | None:
        """:func:`read_number` of the body with ``mark`` (``.`` or ``,``), read once."""
        if mark == ".":
            if self._dot is _UNREAD:
                self._dot = read_number(self.body, ".")
            return self._dot
        if self._comma is _UNREAD:
            self._comma = read_number(self.body, ",")
        return self._comma


_UNREAD = object()


def number_field(text: str) -> NumberField | None:
    """The :class:`NumberField` of a text, or None when it cannot be a number."""
    parts = number_parts(text)
    return None if parts is None else NumberField(*parts)


def _mark_evidence(field: NumberField | None) -> str | None:
    """The decimal mark a field shows unambiguously (``.`` or ``,``), or None."""
    if field is None:
        return None
    body = field.body.split("e")[0].split("E")[0]
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        last = "." if body.rfind(".") > body.rfind(",") else ","
        return last if field.read(last) is not None else None
    if not dots and not commas:
        return None
    mark = "." if dots else ","
    other = "," if mark == "." else "."
    if body.count(mark) > 1:  # repeated: it groups thousands, so the other is the decimal mark
        return other if field.read(other) is not None else None
    if field.read(mark) is None:
        return None
    # one mark: a thousands separator only when 1-3 digits (not starting with 0) precede
    # exactly three after it
    whole, _, fraction = body.partition(mark)
    if len(fraction) != 3:
        return mark
    whole = "".join(ch for ch in whole if ch not in _GROUP_SPACES)
    if 1 <= len(whole) <= 3 and whole[0] != "0" and whole.isdigit():
        return None  # 1,234 or 1.234: either reading is possible
    return mark


class DecimalMark(str):
    """The decimal mark :func:`decimal_mark` found (``"."``, ``","`` or ``"mixed"``: it is
    that text), with ``fields``, the text fields it read (``{text: NumberField or None}``):
    :func:`cvp_xl.xlsx.tables.parse_number` given this mark reads none of them again.
    Pickled (sent to another process), it is the plain text."""

    fields: dict

    def __reduce__(self):
        return str, (str(self),)


def decimal_mark(fields: Iterable, default: str = ".") -> str:
    """The decimal mark of a table's number fields: ``"."``, ``","`` or ``"mixed"``.

    A field shows its decimal mark when it can be read one way only: ``0.08``, ``12,5``,
    ``1.234,56``, ``1,234,567``.  Fields that could be read either way (``1,234``) and
    fields that are not text show nothing.  When no field shows a mark, ``default`` is the
    mark; when fields show both, the table is ``"mixed"`` (:func:`parse_number` then refuses
    the fields that could be read either way).

    The mark is a :class:`DecimalMark`: it keeps what each text field read as, so that
    :func:`~cvp_xl.xlsx.tables.parse_number` given it parses no field a second time.

    >>> decimal_mark(["0.08", "1,234", 7]), decimal_mark(["1.234,5"]), decimal_mark(["1,234"])
    ('.', ',', '.')
    >>> decimal_mark(["0.08", "0,5"]), decimal_mark([], default=",")
    ('mixed', ',')
    """
    seen: set[str] = set()
    read: dict[str, NumberField | None] = {}
    for value in fields:
        if isinstance(value, str) and value not in read:
            field = read[value] = number_field(value)
            mark = _mark_evidence(field)
            if mark:
                seen.add(mark)
                if len(seen) == 2:
                    break
    found = DecimalMark("mixed" if len(seen) == 2 else seen.pop() if seen else default)
    found.fields = read
    return found


# -- CSV -----------------------------------------------------------------------------------------

#: How a CSV file's bytes were read, as messages name it.
UTF8, UTF8_BOM, CP1252, LATIN1 = (
    "UTF-8", "UTF-8 with a byte-order mark", "Windows-1252", "ISO-8859-1 (Latin-1)")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


def decode_text(data: bytes, source: str, error: str = "cannot be read as a CSV file"
                ) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with (one of the names above).

    The rule: UTF-8 (with or without a byte-order mark) when every byte sequence is valid
    UTF-8; otherwise Windows-1252 (what Excel on Windows saves as "CSV"), or ISO-8859-1
    where a byte is one of the five Windows-1252 leaves undefined.  A file that is UTF-8 in
    one place and not in another, and UTF-16 text, are refused with the line or the reason.

    >>> decode_text("Müller".encode("cp1252"), "t.csv"), decode_text(b"a,b", "t.csv")
    (('Müller', 'Windows-1252'), ('a,b', 'UTF-8'))
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise WorkbookError(f"{source}: {error} (UTF-16 text, as Excel's \"Unicode Text\" "
                            f"saves it; save it as \"CSV UTF-8\" instead)")
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        return data[3:].decode("utf-8") if bom else data.decode("utf-8"), (
            UTF8_BOM if bom else UTF8)
    except UnicodeDecodeError as exc:
        if bom or _UTF8_MULTIBYTE.search(data):
            at = exc.start + (3 if bom else 0)
            line = data.count(b"\n", 0, at) + 1
            raise WorkbookError(
                f"{source}: {error} (line {line}: byte "
                f"0x{data[at]:02x} is not UTF-8, though the rest of the file is; save it "
                f"again as CSV UTF-8)") from None
    try:
        return data.decode("cp1252"), CP1252
    except UnicodeDecodeError:
        return data.decode("latin-1"), LATIN1


def records(text: str, separator: str):
    """``(first line, fields)`` of each record (a quoted field may span lines).

    A NUL character in a field is kept (Python 3.10's csv module refuses it: it is passed
    through as a private-use character and back)."""
    nul = "\x00" in text and "\ue000" not in text
    reader = csv.reader(io.StringIO(text.replace("\x00", "\ue000") if nul else text,
                                    newline=""), delimiter=separator)
    line = 0
    for fields in reader:
        yield line + 1, [f.replace("\ue000", "\x00") for f in fields] if nul else fields
        line = reader.line_num


def find_separator(text: str) -> str:
    """The separator that splits the first records most consistently (ties: the comma)."""
    best, score = ",", None
    for sep in SEPARATORS:
        try:
            sample = [f for _, f in itertools.islice(records(text, sep), 20)]
        except csv.Error:
            continue
        if not sample:
            continue
        width = len(sample[0])
        same = sum(len(f) == width for f in sample[1:] if any(x.strip() for x in f))
        candidate = (width > 1, same, width)
        if score is None or candidate > score:
            best, score = sep, candidate
    return best


