"""What the calculator's sheets share: checks, number formats, the look, the page setup.

- :class:`Theme`: the house look, or the spec's branding (accent colour, supplier, logo);
- :func:`money_format`, :func:`input_format`: a currency on every amount, a percent format on
  every share, and no ``#,##0.##`` (Excel shows ``2,400,000.`` for it);
- :func:`print_setup`: each sheet prints one page wide on A4 and Letter (Letter for USD and
  CAD, A4 otherwise), with its header rows repeated and a footer with the sheet's name and
  the page number;
- :class:`Formulas`: each value element's native formula, made once per build, and checked
  against Excel's limit of :data:`cvp_xl.xlsx.a1.MAX_FORMULA` characters.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from openpyxl.styles import Alignment, Font, PatternFill

from cvp_xl import wordeq
from cvp_xl.errors import CvpValueError, SpecError
from cvp_xl.workbooks.calculator.spec import Spec
from cvp_xl.workbooks.style import HEAD_FONT, INPUT_BORDER, INPUT_FILL, UNLOCKED
from cvp_xl.xlsx.a1 import MAX_FORMULA
from cvp_xl.xlsx.write import set_text

__all__ = ["OK", "CHECK_INPUTS", "Theme", "guard", "header", "input_cell", "money_format",
           "input_format", "print_setup", "Formulas", "quoted", "amount_text",
           "amount_words", "round_half_up", "general_text", "HOUSE_ACCENT", "chart_title",
           "wrapped_height"]

OK = "ok"
CHECK_INPUTS = "check inputs"
#: The house colour of headers (a spec without branding keeps it).
HOUSE_ACCENT = "1F4E78"
#: Currencies whose customers print on Letter paper; every other prints on A4.
LETTER_CURRENCIES = frozenset({"USD", "CAD"})


@dataclass(frozen=True)
class Theme:
    """The look of every sheet: the house colours, or the spec's branding."""

    accent: str = HOUSE_ACCENT
    branded: bool = False
    supplier: str = ""
    logo: bytes | None = None

    @classmethod
    def of(cls, spec: Spec) -> Theme:
        b = spec.branding
        return cls(accent=b.accent or HOUSE_ACCENT, branded=bool(b.accent),
                   supplier=b.supplier, logo=b.logo_image)

    @property
    def head_fill(self) -> PatternFill:
        return PatternFill("solid", fgColor=self.accent)

    @property
    def title_font(self) -> Font:
        return Font(bold=True, size=14, color=self.accent if self.branded else None)

    @property
    def band_font(self) -> Font:
        """A section title on the Summary: bold, in the accent colour."""
        return Font(bold=True, size=12, color=self.accent)

    def series_colour(self) -> str | None:
        """The colour of a chart's main series: the accent when branded, else the default."""
        return self.accent if self.branded else None


def chart_title(text: str, size: int = 1100):
    """A chart title in bold at ``size`` hundredths of a point (LibreOffice's default is
    large enough to crowd a small chart)."""
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import (
        CharacterProperties,
        Paragraph,
        ParagraphProperties,
        RegularTextRun,
    )

    props = CharacterProperties(sz=size, b=True)
    para = Paragraph(pPr=ParagraphProperties(defRPr=props), r=[RegularTextRun(rPr=props, t=text)])
    return Title(tx=Text(rich=RichText(p=[para])), overlay=False)


def wrapped_height(text: str, width: float, line: float = 15.0) -> float:
    """The height (points) of a row whose cell of ``width`` characters wraps ``text``
    (spreadsheet programs do not grow a row for wrapped text written by another program)."""
    return line * max(1, math.ceil(len(text) * 1.1 / max(width, 1)))


def header(ws, row: int, titles: list[str], theme: Theme, col: int = 1) -> None:
    """A header row: white bold titles on the accent colour, wrapped."""
    longest = max((len(t) for t in titles[1:]), default=0)
    if longest > 16:
        ws.row_dimensions[row].height = 30 if longest <= 28 else 44  # room for wrapped titles
    for k, title in enumerate(titles):
        cell = ws.cell(row, col + k)
        set_text(cell, title)
        cell.font, cell.fill = HEAD_FONT, theme.head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def input_cell(cell, value, number_format: str = "General") -> None:
    cell.value = value
    cell.fill, cell.border, cell.protection = INPUT_FILL, INPUT_BORDER, UNLOCKED
    cell.number_format = number_format


def guard(formula: str) -> str:
    """Show 'check inputs' instead of a cascade of #VALUE! when an input is bad."""
    return f'=IF(Summary!$B$7,{formula},"{CHECK_INPUTS}")'


def money_format(currency: str) -> str:
    """Whole amounts with the currency code, negatives in red: ``USD 1,234`` / ``-USD 1,234``.

    >>> money_format("EUR")
    '[$EUR] #,##0;[Red]-[$EUR] #,##0'
    """
    return f"[${currency}] #,##0;[Red]-[${currency}] #,##0"


def _decimals(x: float, most: int = 6) -> int:
    for d in range(most + 1):
        if math.isclose(round(x, d), x, rel_tol=1e-12, abs_tol=1e-12):
            return d
    return most


def input_format(unit: str, values) -> str:
    """The number format of an input: a percent for ``%``, else grouped digits, with as
    many decimals as the spec's own figures need (at most 6).

    >>> input_format("%", [0.08, 0.05, 0.5]), input_format("miles/year", [2_400_000])
    ('0%', '#,##0')
    >>> input_format("USD/mile", [0.62, 0.55]), input_format("%", [0.055])
    ('#,##0.00', '0.0%')
    """
    percent = unit.strip() in ("%", "percent")
    numbers = [v * (100 if percent else 1) for v in values if v is not None]
    d = max((_decimals(v) for v in numbers), default=0)
    tail = "." + "0" * d if d else ""
    return f"0{tail}%" if percent else f"#,##0{tail}"


def print_setup(ws, spec: Spec, theme: Theme, *, landscape: bool = False,
                pages_tall: int = 0, title_rows: str | None = None,
                area: str | None = None) -> None:
    """One page wide (``pages_tall`` 0: as many pages tall as needed), narrow margins, the
    paper of the spec's currency, header rows repeated, the sheet and page in the footer."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = (ws.PAPERSIZE_LETTER if spec.currency in LETTER_CURRENCIES
                               else ws.PAPERSIZE_A4)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_tall
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    if title_rows:
        ws.print_title_rows = title_rows
    if area:
        ws.print_area = area
    supplier = theme.supplier.replace("&", "&&")
    ws.oddFooter.left.text = supplier
    ws.oddFooter.center.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"
    for part in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right):
        part.size, part.color = 8, "595959"


def quoted(text: str) -> str:
    """Text as an Excel string literal: ``"..."`` with ``"`` doubled."""
    return '"' + text.replace('"', '""') + '"'


def round_half_up(x: float, digits: int = 0) -> float:
    """Excel's ROUND: halves away from zero, on the number's shortest decimal form.

    >>> round_half_up(2.5), round_half_up(-2.5), round_half_up(1.25, 1), round_half_up(2.675, 2)
    (3.0, -3.0, 1.3, 2.68)
    """
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def general_text(x: float) -> str:
    """A number as ``&`` turns it into text in Excel and LibreOffice (15 significant digits).

    >>> general_text(2.0), general_text(10.2), general_text(1234567.0)
    ('2', '10.2', '1234567')
    """
    return f"{x:.15g}"


def amount_text(ref: str) -> str:
    """An expression: ``ROUND(ABS(ref), 0)`` as text with ``,`` between groups of three.

    English grouping, written out with ROUND, INT and RIGHT, so that the sentence
    reads the same in every Excel and LibreOffice, whatever their locale (TEXT's format codes
    change meaning with the locale).  See :func:`amount_words` for the Python side.
    """
    a = f"ROUND(ABS({ref}),0)"

    def group(div: int) -> str:  # the three digits of (a / div) mod 1000, zero-padded
        inner = f"INT({a}/{div})" if div > 1 else a
        return f'RIGHT((1000+{inner}-1000*INT({inner}/1000))&"",3)'

    return (f'IF({a}>=1000000000,INT({a}/1000000000)&","&{group(1000000)}&","&{group(1000)}'
            f'&","&{group(1)},IF({a}>=1000000,INT({a}/1000000)&","&{group(1000)}&","&'
            f'{group(1)},IF({a}>=1000,INT({a}/1000)&","&{group(1)},{a}&"")))')


def amount_words(x: float) -> str:
    """What :func:`amount_text` shows for ``x``.

    >>> amount_words(-1234567.5), amount_words(999.4), amount_words(12_000_000_000)
    ('1,234,568', '999', '12,000,000,000')
    """
    return f"{int(round_half_up(abs(x))):,}"


class Formulas:
    """Each value element's native expression (without ``=``), made once per build.

    The expression reads the inputs of one column of the Inputs sheet (``C`` in use, ``D``
    base, ``E`` low, ``F`` high); :meth:`moved` reads one input from another column.  Every
    formula a sheet writes around it is checked with :meth:`fits`.
    """

    def __init__(self, spec: Spec, input_rows: dict[str, int]):
        self.spec, self.rows = spec, input_rows
        names = spec.input_names
        self.parsed = {el.name: wordeq.parse(el.equation, names) for el in spec.elements}
        self._cache: dict[tuple[str, str], str] = {}

    def uses(self, element: str) -> tuple[str, ...]:
        """The inputs an element's equation uses, in order of first appearance."""
        return self.parsed[element].quantities

    def _refs(self, element: str, column: str, moved: tuple[str, str] | None = None) -> dict:
        refs = {q: f"Inputs!${column}${self.rows[q]}" for q in self.uses(element)}
        if moved is not None:
            refs[moved[0]] = f"Inputs!${moved[1]}${self.rows[moved[0]]}"
        return refs

    def expr(self, element: str, column: str) -> str:
        key = (element, column)
        if key not in self._cache:
            self._cache[key] = self._emit(element, self._refs(element, column))
        return self._cache[key]

    def moved(self, element: str, column: str, name: str, to: str) -> str:
        """The expression with input ``name`` read from column ``to``, the rest from
        ``column``."""
        return self._emit(element, self._refs(element, column, (name, to)))

    def _emit(self, element: str, refs: dict) -> str:
        try:
            return self.parsed[element].to_formula(refs)[1:]
        except CvpValueError as exc:  # wordeq refuses a formula over Excel's limit
            found = re.search(r"would be ([\d,]+) characters", exc.message)
            if found is None:
                raise
            self.too_long(element, "Value", int(found.group(1).replace(",", "")))
            raise

    def fits(self, formula: str, element: str, sheet: str) -> str:
        """``formula`` when it fits Excel's limit; else a SpecError naming the element."""
        if len(formula) > MAX_FORMULA:
            self.too_long(element, sheet, len(formula))
        return formula

    def too_long(self, element: str, sheet: str, length: int) -> None:
        el = next(e for e in self.spec.elements if e.name == element)
        raise SpecError(
            f"{self.spec.path}:{el.line}: value element '{el.name}': its formula on the "
            f"{sheet} sheet would be {length:,} characters long; Excel opens no file with a "
            f"formula over {MAX_FORMULA:,} (split the element, or use fewer inputs in it)")
