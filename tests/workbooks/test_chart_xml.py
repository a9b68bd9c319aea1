"""Our charts against charts Excel itself saved: the XML that decides whether an axis shows,
where it sits, where it crosses, how its labels and numbers read, and how lines are drawn.

The references are chart parts saved by Excel 2007 (``tests/corpus/excel_charts``, from
XlsxWriter's test suite; NOTICE there).  For each chart our builders write, the elements below
are read from our file and from the Excel chart of the same kind, and every difference must be
one listed in :data:`DIFFERENCES` with the reason it is right; any other difference fails, and
so does a listed one that went away.

Excel leaves an element out when its value is Excel's default, and reads it back the same way;
another program may not share the default, so our files write each element.  Where Excel's
file leaves one out, its record holds the default that the references themselves show:

- ``c:delete``: absent for a shown axis; ``1`` for the axis hidden in chart_axis49 (made with
  ``set_x_axis({"visible": 0})``), so absent is ``0``.
- ``c:smooth``: absent in chart_line01 and chart_scatter02 (straight lines; the same suite's
  chart_line03, made smooth, writes ``1``), so absent is ``0``.
- ``c:dispBlanksAs``: absent in every reference (blank cells as gaps, XlsxWriter's default; its
  chart_blank02/03 write ``zero`` and ``span``), so absent is ``gap``.
- ``c:majorTickMark``: absent (Excel's default marks) except in chart_axis41, made with
  ``"major_tick_mark": "none"``; recorded as ``(default)``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from cvp_xl.workbooks import example, positioning, pricing, tracker
from cvp_xl.workbooks.calculator import load_spec
from cvp_xl.workbooks.calculator.builder import build

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
EXCEL = Path(__file__).resolve().parents[1] / "corpus" / "excel_charts"
EXCEL_DEFAULTS = {"delete": "0", "series smooth": "0", "dispBlanksAs": "gap",
                  "majorTickMark": "(default)"}


def _val(element, tag: str, attr: str = "val") -> str | None:
    found = None if element is None else element.find(C + tag)
    return None if found is None else found.get(attr, "1")


def record(xml: bytes, excel: bool = False) -> dict[str, object]:
    """The elements compared, by axis role: ``x`` is the chart's first axis (categories, or
    a scatter chart's X values), ``y`` its second (values); Excel's absent defaults filled."""
    root = etree.fromstring(xml)
    chart = root.find(C + "chart")
    plot = chart.find(C + "plotArea")
    plots = [p for p in plot if etree.QName(p).localname.endswith("Chart")]
    axes = {a.find(C + "axId").get("val"): a for a in plot
            if etree.QName(a).localname.endswith("Ax")}
    roles = dict(zip([a.get("val") for a in plots[0].findall(C + "axId")], ("x", "y")))
    out: dict[str, object] = {}

    def put(key: str, value, default_key: str | None = None) -> None:
        if value is None and excel and default_key in EXCEL_DEFAULTS:
            value = EXCEL_DEFAULTS[default_key]
        out[key] = value

    out["plots"] = tuple((etree.QName(p).localname, _val(p, "barDir"), _val(p, "grouping"),
                          _val(p, "scatterStyle")) for p in plots)
    put("plotVisOnly", _val(chart, "plotVisOnly"))
    put("dispBlanksAs", _val(chart, "dispBlanksAs"), "dispBlanksAs")
    for p in plots:
        kind = etree.QName(p).localname
        if kind == "lineChart":
            put(f"{kind} marker", _val(p, "marker"))
        if kind in ("lineChart", "scatterChart"):
            smooth = {_val(s, "smooth") for s in p.findall(C + "ser")}
            put(f"{kind} series smooth", smooth.pop() if len(smooth) == 1 else smooth,
                "series smooth")
    for axis_id, role in roles.items():
        axis = axes[axis_id]
        put(f"{role} axis", etree.QName(axis).localname)
        put(f"{role} delete", _val(axis, "delete"), "delete")
        put(f"{role} axPos", _val(axis, "axPos"))
        put(f"{role} orientation", _val(axis.find(C + "scaling"), "orientation"))
        put(f"{role} crossAx", roles.get(_val(axis, "crossAx")))
        put(f"{role} crosses", _val(axis, "crosses"))
        put(f"{role} majorTickMark", _val(axis, "majorTickMark"), "majorTickMark")
        put(f"{role} tickLblPos", _val(axis, "tickLblPos"))
        put(f"{role} numFmt sourceLinked", _val(axis, "numFmt", "sourceLinked"))
        put(f"{role} crossBetween", _val(axis, "crossBetween"))
    return out


def excel(*names: str) -> dict[str, object]:
    """The record of Excel's chart; a second name adds its plot (a line over columns)."""
    first = record((EXCEL / f"{names[0]}.xml").read_bytes(), excel=True)
    for name in names[1:]:
        more = record((EXCEL / f"{name}.xml").read_bytes(), excel=True)
        first["plots"] += more["plots"]
        first.update({k: v for k, v in more.items() if k.startswith("lineChart")})
    return first


# -- the differences, each with why it is right -------------------------------------------------
# element: (ours, Excel's, the reference in which Excel itself writes our value on the same
# element (None: ours leaves the element out), why)

TICKS = {  # every chart
    f"{role} majorTickMark": ("none", "(default)", "chart_axis41", "no tick marks, a matter of "
                              "style: the axis line and its labels show either way")
    for role in "xy"}
OWN_FORMAT = {  # a value axis with our number format
    "y numFmt sourceLinked": ("0", "1", "chart_axis22", "the amounts in our format (thousands "
                              "separated, the currency's), not the cells' General")}
NAMES_AS_CATEGORIES = {
    "x numFmt sourceLinked": (None, "1", None, "Excel gives a category axis a number format "
                              "when its categories are numbers (chart_axis08's are); ours are "
                              "names, as in chart_line01 and chart_column02, whose category "
                              "axes have none")}
BOTTOM_VALUES = {
    "y crosses": ("max", "autoZero", "chart_crossing01", "the value axis crosses the reversed "
                  "categories at the last one, so it sits at the bottom, under the largest "
                  "bar drawn on top"),
    "y axPos": ("b", "t", "chart_bar01", "the bottom, where crossing at the last reversed "
                "category puts it (the rule of "
                "test_every_axis_sits_on_the_edge_excel_puts_it_on)")}
LABELS_LOW = {
    f"{role} tickLblPos": ("low", "nextTo", "chart_axis19", "labels at the low edge of the "
                           "plot, clear of the bars and lines below zero")
    for role in "xy"}
OWN_X_FORMAT = {
    "x numFmt sourceLinked": ("0", "1", "chart_axis22", "whole numbers in our format")}

CHARTS = {  # our chart (its title starts so) -> the Excel chart of its kind, the differences
    "calculator: cumulative net cash flow": (
        "Cumulative net cash flow", ("chart_scatter02",),
        {**TICKS, **OWN_FORMAT, **OWN_X_FORMAT, **LABELS_LOW}),
    "calculator: value per element": (
        "Value per year by element", ("chart_axis08",),
        {**TICKS, **OWN_FORMAT, **NAMES_AS_CATEGORIES, **BOTTOM_VALUES}),
    "calculator: tornado": (
        "Tornado", ("chart_axis08",),
        {**TICKS, **OWN_FORMAT, **NAMES_AS_CATEGORIES, **BOTTOM_VALUES,
         "x tickLblPos": LABELS_LOW["x tickLblPos"]}),
    "pricing: economic value estimation": (
        "Economic value estimation", ("chart_column02", "chart_line01"),
        {**TICKS, **OWN_FORMAT}),
    "positioning: customer value map": (
        "Customer value map", ("chart_scatter02",),
        {**TICKS, **OWN_FORMAT, **OWN_X_FORMAT}),
    "tracker: promised vs documented": (
        "Promised vs documented value", ("chart_line01",), {**TICKS, **OWN_FORMAT}),
}
DIFFERENCES = {name: diffs for name, (_, _, diffs) in CHARTS.items()}


@pytest.fixture(scope="module")
def our_charts(tmp_path_factory) -> dict[str, bytes]:
    """Every chart part of the shipped example workbooks, by the start of its title."""
    folder = tmp_path_factory.mktemp("charts")
    books = [folder / "calculator.xlsx"]
    build(load_spec(example("calculators", "fleet-routing.yaml")), books[0], customer="Acme")
    books += pricing.build_example_workbooks(folder)
    books += positioning.build_example_workbooks(folder)
    books += tracker.build_example_workbooks(folder)
    parts = {}
    for book in books:
        with zipfile.ZipFile(book) as archive:
            for name in archive.namelist():
                if name.startswith("xl/charts/chart"):
                    parts[f"{Path(book).name}:{name}"] = archive.read(name)
    return parts


def _ours(our_charts, title: str) -> bytes:
    found = [xml for xml in our_charts.values() if f"<a:t>{title}".encode() in xml]
    assert len(found) == 1, title
    return found[0]


@pytest.mark.parametrize("name", CHARTS)
def test_our_chart_differs_from_excels_only_as_written_down(our_charts, name):
    title, references, _ = CHARTS[name]
    ours, theirs = record(_ours(our_charts, title)), excel(*references)
    found = {key: (ours.get(key), theirs.get(key)) for key in sorted(set(ours) | set(theirs))
             if ours.get(key) != theirs.get(key)}
    assert found == {key: (o, e) for key, (o, e, _, _) in DIFFERENCES[name].items()}
    for role in "xy":  # and so, as in every Excel chart: both axes shown, crossing each other
        assert ours[f"{role} delete"] == "0"
        assert ours[f"{role} crossAx"] == {"x": "y", "y": "x"}[role]


def test_the_defaults_read_into_excels_files_are_what_its_files_show():
    hidden = record((EXCEL / "chart_axis49.xml").read_bytes())  # set_x_axis visible 0
    assert (hidden["x delete"], hidden["y delete"]) == ("1", None)
    no_ticks = record((EXCEL / "chart_axis41.xml").read_bytes())  # major_tick_mark none
    assert (no_ticks["x majorTickMark"], no_ticks["y majorTickMark"]) == ("none", None)
    straight = record((EXCEL / "chart_line01.xml").read_bytes())
    assert straight["lineChart series smooth"] is None and straight["lineChart marker"] == "1"


@pytest.mark.parametrize("name", CHARTS)
def test_every_value_we_differ_in_is_one_excel_writes(name):
    """Each value of ours in DIFFERENCES is on the same element in the Excel chart cited."""
    for key, (ours, _, cited, _) in DIFFERENCES[name].items():
        if cited is None:
            continue
        element = key.split(" ", 1)[1]
        seen = {value for k, value in record((EXCEL / f"{cited}.xml").read_bytes()).items()
                if k.split(" ", 1)[-1] == element}
        assert ours in seen, (key, cited, seen)


def _edge(rec: dict, role: str, horizontal: bool) -> str:
    """Excel's rule for an axis's edge: left (categories of a bar chart, and every value or Y
    axis otherwise) or bottom; the opposite edge when the axis it crosses runs reversed or
    it crosses that axis at its maximum, but not both."""
    other = {"x": "y", "y": "x"}[role]
    edge = ("l" if role == "x" else "b") if horizontal else ("b" if role == "x" else "l")
    if (rec[f"{other} orientation"] == "maxMin") != (rec[f"{role} crosses"] == "max"):
        edge = {"l": "r", "b": "t"}[edge]
    return edge


@pytest.mark.parametrize("source", ["excel", "ours"])
def test_every_axis_sits_on_the_edge_excel_puts_it_on(our_charts, source):
    charts = ([(EXCEL / p.name).read_bytes() for p in sorted(EXCEL.glob("*.xml"))]
              if source == "excel" else list(our_charts.values()))
    assert len(charts) == (10 if source == "excel" else 6)
    for xml in charts:
        rec = record(xml)
        horizontal = rec["plots"][0][1] == "bar"
        for role in "xy":
            assert rec[f"{role} axPos"] == _edge(rec, role, horizontal), (role, rec)
