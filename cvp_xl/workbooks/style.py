"""The house style of every workbook cvp-xl writes: colours, fonts, number formats, headers,
and how each sheet prints.

Inputs are pale yellow and unlocked; headers white on dark blue; sheets are protected without a
password (Review > Unprotect Sheet) so formulas are not overwritten by accident.  Every font
names Calibri (a font without a name prints in the reader's default, often a serif).  Every
sheet gets a page setup from :func:`print_setup`: orientation, one page wide, print titles,
breaks between blocks, and a footer with the sheet's name and the page number.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break, RowBreak

from cvp_xl.xlsx.write import set_text

__all__ = [
    "INPUT_FILL", "INPUT_FONT", "INPUT_BORDER", "HEAD_FILL", "HEAD_FONT", "TITLE_FONT", "BOLD",
    "ITALIC", "NOTE_FONT", "LINK_FONT", "UNLOCKED", "MONEY", "MONEY_CENTS", "PERCENT", "RATIO",
    "FONT", "WRAP", "HEAD_RIGHT", "as_input", "label", "header", "protect", "validation", "note",
    "print_setup", "page_breaks", "page_height", "fit_row_heights", "text_lines", "excel_axes",
]

#: The font of every styled cell (the workbook's default font too).
FONT = "Calibri"
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
INPUT_FONT = Font(name=FONT, size=11, color="1F4E78")
THIN = Side(style="thin", color="BFBFBF")
INPUT_BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
HEAD_FONT = Font(name=FONT, size=11, bold=True, color="FFFFFF")
TITLE_FONT = Font(name=FONT, bold=True, size=14)
BOLD = Font(name=FONT, size=11, bold=True)
ITALIC = Font(name=FONT, size=11, italic=True)
NOTE_FONT = Font(name=FONT, size=11, italic=True, color="595959")
LINK_FONT = Font(name=FONT, size=11, color="0563C1", underline="single")

#: Text that wraps within its cell, top-aligned (rows get their height from
#: :func:`fit_row_heights`).
WRAP = Alignment(wrap_text=True, vertical="top")
#: A column title over numbers: right-aligned, wrapped.
HEAD_RIGHT = Alignment(horizontal="right", wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)

#: Whole money amounts, negatives in red; money with cents; shares; ratios.
MONEY = "#,##0;[Red]-#,##0"
MONEY_CENTS = "#,##0.00"
PERCENT = "0.0%"
RATIO = "0.00"


def as_input(cell, border: bool = False) -> None:
    """Mark a cell as an input: yellow, unlocked (it stays editable on a protected sheet)."""
    cell.fill, cell.font, cell.protection = INPUT_FILL, INPUT_FONT, UNLOCKED
    if border:
        cell.border = INPUT_BORDER


def label(cell, text: str, font: Font | None = None) -> None:
    """A label: always text, even when it starts with ``=``."""
    set_text(cell, text)
    if font is not None:
        cell.font = font


def header(ws, row: int, col: int, titles: list[str]) -> None:
    """A header row: white bold titles on dark blue, wrapped."""
    for j, title in enumerate(titles):
        cell = ws.cell(row, col + j)
        set_text(cell, title)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def protect(ws) -> None:
    """Protect the sheet without a password: inputs stay editable, formulas do not."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # let users widen columns
    ws.protection.formatRows = False


def validation(ws, kind: str, operator: str | None, formula1: str, formula2: str | None,
               message: str) -> DataValidation:
    """A data validation with an error message, added to ``ws`` (add cells to it after)."""
    dv = DataValidation(type=kind, operator=operator, formula1=formula1, formula2=formula2,
                        allow_blank=True, showErrorMessage=True, errorTitle="Check the input",
                        error=message)
    ws.add_data_validation(dv)
    return dv


def note(ws, ref: str, text: str, last_col: str, font: Font | None = NOTE_FONT) -> None:
    """A paragraph of text at ``ref`` wrapped over the columns up to ``last_col`` (merged), so
    that it neither runs off the printed page nor widens it; :func:`fit_row_heights` gives
    its row the height it needs."""
    cell = ws[ref]
    label(cell, text, font)
    cell.alignment = WRAP
    if last_col != cell.column_letter:
        ws.merge_cells(f"{ref}:{last_col}{cell.row}")


# -- printing ------------------------------------------------------------------------------------

#: Points per line of 11-point text: Excel's default row height.
LINE_HEIGHT = 15.0
#: Pixels of a column per unit of text width (an average lowercase letter of 11-point text).
#: Measured on LibreOffice's PDFs (which print Calibri as DejaVu Sans where Calibri is not
#: installed, and widen the columns with the font): text that needs 7.06 pixels a unit fits,
#: text that needs 6.73 does not.  Calibri's letters are a little wider against its digits,
#: which set a column's width, so Excel fits about 3 % less: hence 7.3.
PIXELS_PER_UNIT = 7.3
#: Excel's width of a column whose width was never set.
DEFAULT_WIDTH = 8.43


def _width(ws, letter: str) -> float:
    dim = ws.column_dimensions.get(letter)
    if dim is None or not dim.customWidth or dim.width is None:
        return DEFAULT_WIDTH
    return 0.0 if dim.hidden else float(dim.width)


@functools.lru_cache(maxsize=1024)
def _char_width(ch: str) -> float:
    """The width of a character in units of an average lowercase letter (DejaVu Sans)."""
    if ch in " .,:;'|!ilj":
        return 0.55
    if ch in "frt()-/[]":
        return 0.7
    if ch in "mwMW":
        return 1.6
    if ch.isdigit():
        return 1.12
    if ch.isupper():
        return 1.25
    return 1.0 if ch.islower() else 1.3


def text_lines(text: str, width: float, font: Font | None = None, indent: float = 0) -> int:
    """How many lines ``text`` takes when wrapped in a cell ``width`` characters wide.

    An estimate: words are put on a line while their widths (each character's, bold 15 %
    wider, larger text in proportion) fit the column's pixels; a word longer than a line is
    broken; each line break in the text starts a new line.

    >>> text_lines("Cumulative documented", 14), text_lines("Period", 10)
    (2, 1)
    """
    size = float(font.sz) if font is not None and font.sz else 11.0
    scale = size / 11.0 * (1.15 if font is not None and font.b else 1.0)
    return _lines(str(text), round(max(1.0, (width * 7 + 5 - 9 * indent) / PIXELS_PER_UNIT
                                        / scale), 3))


@functools.lru_cache(maxsize=65536)
def _lines(text: str, room: float) -> int:
    """:func:`text_lines` for a line ``room`` units wide (remembered: texts repeat)."""
    if "\n" not in text and len(text) * 1.6 <= room:  # even of the widest letters
        return 1
    space = _char_width(" ")
    lines = 0
    for part in str(text).split("\n"):
        used, lines = None, lines + 1  # None: nothing on the line yet
        for word in part.split():
            size_of = sum(_char_width(ch) for ch in word)
            if used is not None and used + space + size_of <= room:
                used += space + size_of
                continue
            if used is not None:
                lines += 1
            used = 0.0
            for ch in word:  # a word longer than the line is broken
                if used + _char_width(ch) > room and used > 0:
                    lines += 1
                    used = 0.0
                used += _char_width(ch)
    return max(lines, 1)


def fit_row_heights(ws, values: dict | None = None, rows: Iterable[int] | None = None) -> None:
    """Give each row holding wrapped text (:data:`WRAP`) the height its longest cell needs.

    Neither Excel nor LibreOffice grows a row for wrapped text in a file it opens, so a header
    or a paragraph would print cut off.  Rows whose height was set are left as they are.  In a
    row made taller, cells that say nothing of their vertical alignment are aligned to the
    top, so a number stands level with the first line of its label.

    Parameters
    ----------
    ws : openpyxl worksheet
    values : dict, optional
        What formula cells show, ``{(sheet, "A1"): value}`` (``Book.values``); without it a
        formula cell counts as one line.
    rows : iterable of int, optional
        The rows to fit (default: every row).
    """
    merged = {}
    covered = set()
    for rng in ws.merged_cells.ranges:
        merged[(rng.min_row, rng.min_col)] = sum(  # with the 5 pixels of each joined column
            _width(ws, get_column_letter(c)) + 5 / 7 for c in range(rng.min_col, rng.max_col + 1)
        ) - 5 / 7
        covered |= {(r, c) for r in range(rng.min_row, rng.max_row + 1)
                    for c in range(rng.min_col, rng.max_col + 1)} - {(rng.min_row, rng.min_col)}
    wanted = set(rows) if rows is not None else None
    widths: dict[int, float] = {}
    for row in ws.iter_rows():
        if not row:
            continue
        r = row[0].row
        if (wanted is not None and r not in wanted) or ws.row_dimensions[r].height is not None:
            continue
        lines, size = 1, 11.0
        for cell in row:
            if cell.value is None or not cell.alignment.wrap_text or (r, cell.column) in covered:
                continue
            shown = cell.value
            if cell.data_type == "f":
                shown = (values or {}).get((ws.title, cell.coordinate), "")
            if not isinstance(shown, str) or not shown:
                continue
            if (r, cell.column) in merged:
                width = merged[(r, cell.column)]
            else:
                width = widths.setdefault(cell.column, _width(ws, cell.column_letter))
            if width <= 0:  # a hidden column
                continue
            lines = max(lines, text_lines(shown, width, cell.font, cell.alignment.indent or 0))
            size = max(size, float(cell.font.sz or 11))
        if lines > 1:
            ws.row_dimensions[r].height = math.ceil(lines * LINE_HEIGHT * size / 11.0)
            for cell in row:
                if cell.value is not None and cell.alignment.vertical is None:
                    aligned = copy.copy(cell.alignment)
                    aligned.vertical = "top"
                    cell.alignment = aligned


#: Portrait paper in points (width, height).
PAPERS = {"A4": (595.3, 841.9), "Letter": (612.0, 792.0)}
#: Margins in inches: left, right, top, bottom, header, footer.
MARGINS = (0.5, 0.5, 0.6, 0.7, 0.3, 0.3)
#: How much of a page :func:`page_breaks` fills: row heights are exact in Excel (15 points, or
#: as :func:`fit_row_heights` set them), the scale is Excel's estimate; LibreOffice's rows are
#: shorter.
FILL = 0.97


def _row_height(ws, row: int) -> float:
    height = ws.row_dimensions[row].height if row in ws.row_dimensions else None
    return LINE_HEIGHT if height is None else float(height)


def _column_points(ws, col: int) -> float:
    """A column's width in points: Excel's width counts characters of 7 pixels, plus 5."""
    width = _width(ws, get_column_letter(col))
    return 0.0 if width == 0 else (width * 7 + 5) * 0.75


def _charts(ws) -> list[tuple[int, int, float, float]]:
    """Each chart's anchor (row and column, from 1) and its width and height in points."""
    out = []
    for chart in ws._charts:
        start = getattr(chart.anchor, "_from", None)
        if start is None:  # anchored by a cell reference
            from openpyxl.utils.cell import coordinate_to_tuple

            row, col = coordinate_to_tuple(chart.anchor)
        else:
            row, col = start.row + 1, start.col + 1
        out.append((row, col, chart.width * 72 / 2.54, chart.height * 72 / 2.54))
    return out


def page_height(ws, orientation: str, last_col: int) -> float:
    """How much of the sheet's height (points at 100 %) a page holds, on the smaller of A4 and
    Letter, with the sheet scaled to one page wide (``last_col`` its last printed column)."""
    left, right, top, bottom = (72 * m for m in MARGINS[:4])
    wide = sum(_column_points(ws, c) for c in range(1, last_col + 1))
    for _, col, width, _ in _charts(ws):
        wide = max(wide, sum(_column_points(ws, c) for c in range(1, col)) + width)
    room = math.inf
    for paper_w, paper_h in PAPERS.values():
        if orientation == "landscape":
            paper_w, paper_h = paper_h, paper_w
        scale = min(1.0, math.floor(100 * (paper_w - left - right) / max(wide, 1.0)) / 100)
        room = min(room, (paper_h - top - bottom) / max(scale, 0.1))
    return room * FILL


def page_breaks(ws, orientation: str, blocks: Iterable[tuple[int, int]] = (),
                title_rows: tuple[int, int] | None = None, last_col: int | None = None,
                last_row: int | None = None, forced: Iterable[int] = ()) -> list[int]:
    """The rows that start a page, so that no block (first row, last row) and no chart is
    split across pages: every page break, placed by an estimate of each row's height.

    All of the sheet's breaks are given (not only those before blocks), so the program that
    prints never breaks a page on its own, at a row the estimate did not foresee.  A block
    taller than a page starts a page and runs on.  ``forced`` rows start a page whatever
    the room left.
    """
    forced = set(forced)
    last_col = last_col or ws.max_column
    room = page_height(ws, orientation, last_col)
    keep = {}
    for first, last in blocks:
        keep[first] = max(keep.get(first, first), last)
    for row, _, _, height in _charts(ws):
        end, total = row, 0.0
        while total < height:
            total += _row_height(ws, end)
            end += 1
        keep[row] = max(keep.get(row, row), end - 1)
    titles = (sum(_row_height(ws, r) for r in range(title_rows[0], title_rows[1] + 1))
              if title_rows else 0.0)
    last_row = max([last_row or ws.max_row, *keep.values()])
    filled = {cell.row for row in ws.iter_rows(max_row=last_row) for cell in row
              if cell.value is not None} | set(keep)
    breaks, used = [], 0.0
    for r in range(1, last_row + 1):
        if r in forced:
            breaks.append(r)
            used = titles
        if r in keep and used > titles:
            block = sum(_row_height(ws, k) for k in range(r, keep[r] + 1))
            if used + block > room:
                breaks.append(r)
                used = titles
        height = _row_height(ws, r)
        if used + height > room and used > titles and r in filled:
            breaks.append(r)  # (an empty row may run past the bottom of a page)
            used = titles
        used += height
    return breaks


def print_setup(ws, orientation: str = "portrait", *, fit_width: bool = True,
                one_page: bool = False, title_rows: str | None = None, area: str | None = None,
                breaks: Iterable[int] = (), keep_together: Iterable[tuple[int, int]] | None = None,
                values: dict | None = None) -> None:
    """How ``ws`` prints, on A4 or Letter: the one page setup every builder uses.

    Scaled to one page wide (and as many tall as it needs) unless told otherwise; margins of
    half an inch left and right; a footer with the sheet's name and "Page n of m"; rows of
    wrapped text as tall as their text (:func:`fit_row_heights`); on a sheet of several pages
    that holds charts or blocks to keep together, page breaks that split none of them
    (:func:`page_breaks`).

    Parameters
    ----------
    ws : openpyxl worksheet
    orientation : {"portrait", "landscape"}
    fit_width : bool
        Scale the sheet to one page wide (default), so no column is cut off onto a page of its
        own.
    one_page : bool
        Also one page tall: a sheet meant to be handed over as one page.
    title_rows : str, optional
        Rows repeated at the top of every page, e.g. ``"1:1"``: the header of a long table.
    area : str, optional
        The print area, e.g. ``"A1:G20"`` (default: every cell used).
    breaks : iterable of int
        Rows that start a new page: a block (a chart, a section) that must not be split.
    keep_together : iterable of (int, int), optional
        Blocks of rows (first, last) that must not be split across pages.  With them, or with
        a chart on the sheet, every page break is placed here (:func:`page_breaks`).
    values : dict, optional
        What formula cells show (``Book.values``), for the height of wrapped formula text.

    Notes
    -----
    Excel ignores manual page breaks on a sheet scaled to a number of pages tall, so a sheet
    with ``breaks`` is scaled to its width only (``one_page`` must be False).
    """
    if orientation not in ("portrait", "landscape"):
        raise ValueError(f"orientation: expected 'portrait' or 'landscape', got {orientation!r}")
    breaks = sorted(set(breaks))
    if breaks and one_page:
        raise ValueError("a sheet printed on one page has no page breaks")
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    setup = ws.page_setup
    setup.orientation = orientation
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = fit_width or one_page
    setup.fitToWidth = 1 if fit_width else 0
    setup.fitToHeight = 1 if one_page else 0
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, header=0.3,
                                  footer=0.3)
    if title_rows is not None:
        ws.print_title_rows = title_rows
    if area is not None:
        ws.print_area = area
    for part, text in ((ws.oddFooter.left, "&A"), (ws.oddFooter.right, "Page &P of &N")):
        part.text, part.size, part.color = text, 8, "595959"
    fit_row_heights(ws, values)
    if not one_page and fit_width and (keep_together is not None or ws._charts):
        from openpyxl.utils.cell import range_boundaries

        titles = None
        if title_rows is not None:
            first, _, last = title_rows.partition(":")
            titles = (int(first), int(last or first))
        bounds = range_boundaries(area) if area is not None else None
        breaks = sorted(set(breaks) | set(page_breaks(
            ws, orientation, keep_together or (), titles, bounds[2] if bounds else None,
            bounds[3] if bounds else None, forced=breaks)))
    ws.row_breaks = RowBreak()
    for row in breaks:
        ws.row_breaks.append(Break(id=row - 1))  # a break above the row (ids count from 0)


def excel_axes(chart) -> None:
    """Write each axis of ``chart`` with every setting Excel writes in the charts it saves, so
    that no program (desktop Excel, Excel for the web, LibreOffice) falls back on a default of
    its own for a missing element.

    Call it after the chart's own settings, just before ``ws.add_chart``: what the builder set
    stays (a reversed axis, ``crosses="max"``, labels at ``low``, a number format); what it
    left out is filled in as Excel writes it: the axis shown (``c:delete`` 0), where it
    crosses (``autoZero``), its labels next to it (``nextTo``), how the value axis crosses
    the categories (``between``; ``midCat`` in a scatter chart), the edge it sits on
    (``c:axPos``: left or bottom, the other edge when the axis it crosses runs the other way
    or it crosses that axis at its maximum), and markers on in a line chart (each series
    still says which marker, ``none`` included).  ``tests/workbooks/test_chart_xml.py``
    compares the result with charts Excel saved.

    Parameters
    ----------
    chart : openpyxl.chart.BarChart, LineChart or ScatterChart
        A chart with an ``x_axis`` and a ``y_axis``; a chart combined into it with ``+``
        (a line over bars) shares its axes and gets the line chart's marker setting.
    """
    horizontal = getattr(chart, "barDir", None) == "bar"  # categories on the left
    x_edge, y_edge = ("l", "b") if horizontal else ("b", "l")
    pairs = ((chart.x_axis, chart.y_axis, x_edge), (chart.y_axis, chart.x_axis, y_edge))
    for axis, other, edge in pairs:
        axis.delete = False
        if axis.crosses is None and axis.crossesAt is None:
            axis.crosses = "autoZero"
        if axis.tickLblPos is None:
            axis.tickLblPos = "nextTo"
        if "crossBetween" in axis.__elements__ and axis.crossBetween is None:
            axis.crossBetween = "midCat" if chart.tagname == "scatterChart" else "between"
        reversed_other = other.scaling.orientation == "maxMin"
        if reversed_other != (axis.crosses == "max"):  # the opposite edge
            edge = {"l": "r", "b": "t"}[edge]
        axis.axPos = edge
    for part in (chart, *getattr(chart, "_charts", ())):
        if part.tagname == "lineChart":
            part.marker = True
