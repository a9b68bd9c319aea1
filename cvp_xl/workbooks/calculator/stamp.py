"""Calculators of one spec, each written by stamping it into the file of the first.

:meth:`Stamper.build` takes what :func:`~cvp_xl.workbooks.calculator.builder.build` takes and
writes the same file: the builder lays out the workbook in memory, with every cell, every
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

``Stamper.stamped`` and ``Stamper.built`` count the files written each way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
from collections import OrderedDict
from pathlib import Path

from cvp_xl.workbooks.calculator import builder, digests
from cvp_xl.workbooks.calculator.spec import Spec
from cvp_xl.xlsx.atomic import atomic_path, scratch_path
from cvp_xl.xlsx.stamp import ShapeChanged, Template, differences, shape

__all__ = ["Stamper", "stamper"]

_KEEP = 8          # templates kept per spec (one per shape)
_LOCAL = threading.local()  # each thread its stampers (a Dask worker may run several)


def _book(spec, given, scenario, built_at, customer, results, sens, properties, carried):
    """The calculator's :class:`~cvp_xl.workbooks.book.Book` as ``builder.build`` saves it:
    the workbook, its template record and document properties.  (``build`` does these same
    steps; the test of this module compares the two files for every example spec.)"""
    from openpyxl.packaging.custom import StringProperty

    built_at = built_at or dt.datetime.now(dt.timezone.utc)
    book, layout = builder._workbook(spec, given, scenario, built_at, customer, results, sens,
                                     carried)
    record = digests.fingerprint(book.wb, builder._build_params(spec, given, customer,
                                                                built_at, carried))
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

    def __init__(self, spec: Spec, verify: int = 2):
        self.spec = spec
        self.verify = max(int(verify), 1)
        self.templates: OrderedDict = OrderedDict()   # shape -> [Template, checks left]
        self.refused: dict = {}                        # shape -> why it is not stamped
        self.notes: list[str] = []
        self.stamped = 0
        self.built = 0

    def build(self, path: str | Path, given: dict | None = None, scenario: str = "Base",
              built_at: dt.datetime | None = None, customer: str | None = None,
              results=None, sens=None, properties: dict | None = None,
              carried: list[dict] | None = None) -> builder.Layout:
        """Write the calculator :func:`~cvp_xl.workbooks.calculator.builder.build` would
        write with these arguments to ``path`` (atomically); return its layout."""
        path = Path(path)
        book, layout = _book(self.spec, given, scenario, built_at, customer, results, sens,
                             properties, carried)
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
