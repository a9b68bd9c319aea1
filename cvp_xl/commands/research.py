"""``cvp-xl research FINDINGS --spec SPEC -o NEW``: customer value research into a spec.

Each input of the calculator spec with enough observations in the findings (``min_n``, default
3) gets its low, base and high from a percentile rule (P25/P50/P75 unless set, for all inputs
or per input), a source that says where they came from ("9 customers' own figures at 9
customers, 2026-Q2–Q3, P25/P50/P75") and an ``evidence`` mapping that the calculator's Inputs
sheet shows as n and methods (``{n: 9, customers: 9, methods: ["customer's own data"], period:
"2026-Q2–Q3", rule: "P25/P50/P75"}``, on one line).  Inputs without evidence, or with too
little, are left as they are and listed.

The new spec is the old one's text with only those values edited in place: comments, order,
quoting and blank lines stay as they were (the values are found through PyYAML's node
positions; a key the input lacks, such as ``source``, is added after its last key).  It is
checked with the calculator's own spec loader before it is written, written whole or not at all,
and never over the spec it was made from.  Findings with a bad row write nothing.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cvp_xl.domain import research as rs
from cvp_xl.errors import CvpXlError, SpecError, WorkbookError
from cvp_xl.workbooks.research import Observation, read_findings
from cvp_xl.xlsx.atomic import atomic_path

__all__ = ["ResearchError", "LineChange", "InputResult", "ResearchReport", "apply_research",
           "number_text", "evidence_text"]


class ResearchError(CvpXlError, ValueError):
    """A research run that cannot be done as asked (the output is the input spec, ...)."""


@dataclass(frozen=True)
class LineChange:
    """A line of the new spec that differs from the old one, or a line of the old one gone."""

    line: int  # in the new spec; a removed line: the line it was before
    old: str | None  # None: a line added
    new: str | None  # None: a line removed
    input: str


@dataclass(frozen=True)
class InputResult:
    """What the research said about one input, and whether it was set from it."""

    name: str
    n: int
    evidence: rs.Evidence | None  # None when no observation was found
    changed: bool

    @property
    def status(self) -> str:
        return "set" if self.changed else "no evidence" if self.n == 0 else "too few"


@dataclass
class ResearchReport:
    """The outcome of :func:`apply_research`."""

    output: Path
    inputs: list[InputResult] = field(default_factory=list)
    changes: list[LineChange] = field(default_factory=list)

    @property
    def set(self) -> list[InputResult]:
        return [r for r in self.inputs if r.changed]

    @property
    def untouched(self) -> list[InputResult]:
        return [r for r in self.inputs if not r.changed]


def number_text(x: float) -> str:
    """A number as the spec writes it: up to 10 significant digits, never an exponent.

    >>> number_text(3.1500000000000004), number_text(820000.0), number_text(0.00001234)
    ('3.15', '820000', '0.00001234')
    """
    text = f"{x:.10g}"
    if "e" in text:
        digits = max(0, 10 - int(f"{x:e}".split("e")[1]) - 1)
        text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return text


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _find_input(name: str, spec, what: str):
    for item in spec.inputs:
        if item.name.strip().casefold() == name.strip().casefold():
            return item
    close = difflib.get_close_matches(name, [i.name for i in spec.inputs], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ResearchError(f"{what} for {name!r}: not an input of {Path(spec.path).name}{hint}")


# -- editing the spec text ---------------------------------------------------------------------


def _input_nodes(text: str, path: str) -> list[yaml.MappingNode]:
    """The YAML nodes of the spec's ``inputs`` items, in order."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for key, value in root.value:
        if key.value == "inputs" and isinstance(value, yaml.SequenceNode):
            return list(value.value)
    raise SpecError(f"{path}: no 'inputs' list")  # load_spec checked it: not reached


def _scalar(key: str, value) -> str:
    if key == "evidence":
        return value  # already YAML: see evidence_text
    return json.dumps(value, ensure_ascii=False) if key == "source" else number_text(value)


def evidence_text(evidence: rs.Evidence) -> str:
    """The ``evidence`` mapping of an input, as one line of YAML (flow style).

    >>> e = rs.Evidence(9, 8, (("field value assessment", 6), ("survey", 3)),
    ...                 dt.date(2026, 4, 2), dt.date(2026, 9, 30), (25.0, 50.0, 75.0),
    ...                 1, 2, 3, 2, 1, 3)
    >>> print(evidence_text(e))
    {n: 9, customers: 8, methods: ["field value assessment", "survey"], period: "2026-Q2–Q3", \
rule: "P25/P50/P75"}
    """
    methods = json.dumps([m for m, _count in evidence.methods], ensure_ascii=False)
    period = json.dumps(rs.period_text(evidence.first, evidence.last), ensure_ascii=False)
    return (f"{{n: {evidence.n}, customers: {evidence.customers}, methods: {methods}, "
            f"period: {period}, rule: \"{rs.rule_text(evidence.rule)}\"}}")


def _value_end(text: str, value: yaml.Node) -> int:
    """Where a value ends in the text: for a block scalar (``>`` or ``|``), just after the line
    break of its last line of content (PyYAML's end mark also takes the blank lines after it)."""
    end = value.end_mark.index
    if getattr(value, "style", None) in ("|", ">"):
        content = text[value.start_mark.index:end].rstrip()
        end = text.find("\n", value.start_mark.index + len(content))
        end = len(text) if end < 0 else end + 1
    return end


def _edits(text: str, node: yaml.MappingNode, values: Mapping[str, object]
           ) -> list[tuple[int, int, str]]:
    """``(start, end, replacement)`` spans that give the input ``node`` these values."""
    present = {k.value: v for k, v in node.value}
    edits = []
    keys = {k.value: k for k, _v in node.value}
    for key, value in values.items():
        if key in present and isinstance(present[key], yaml.MappingNode) \
                and not present[key].flow_style:  # a block mapping becomes one line
            v = present[key]
            end = len(text[:v.end_mark.index].rstrip())
            edits.append((keys[key].end_mark.index, end, ": " + _scalar(key, value)))
        elif key in present:
            v = present[key]
            block = getattr(v, "style", None) in ("|", ">")
            edits.append((v.start_mark.index, _value_end(text, v),
                          _scalar(key, value) + ("\n" if block else "")))
    missing = [(k, v) for k, v in values.items() if k not in present]
    if missing:
        if node.flow_style:
            close = node.end_mark.index - 1  # the closing brace
            added = "".join(f", {k}: {_scalar(k, v)}" for k, v in missing)
            edits.append((close, close, added))
        else:
            indent = " " * node.value[0][0].start_mark.column
            last = _value_end(text, node.value[-1][1])
            if text[last - 1:last] == "\n":  # after a block scalar: at the next line's start
                edits.append((last, last, "".join(f"{indent}{k}: {_scalar(k, v)}\n"
                                                  for k, v in missing)))
            else:
                eol = text.find("\n", last)
                eol = len(text) if eol < 0 else eol
                edits.append((eol, eol, "".join(f"\n{indent}{k}: {_scalar(k, v)}"
                                                for k, v in missing)))
    return edits


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _last_line(text: str, node: yaml.Node) -> int:
    """The last line (from 1) with content of a node (a block mapping's end mark is the start
    of whatever follows it)."""
    return text.count("\n", 0, len(text[:node.end_mark.index].rstrip())) + 1


def _line_key(line: str) -> tuple[int, str] | None:
    """Indentation and key of a YAML line (``    base: 24`` gives ``(4, 'base')``)."""
    m = re.match(r"(\s*)(?:-\s+)?\{?\s*([^:#{}]+?)\s*:", line)
    return (len(m.group(1)), m.group(2)) if m else None


def _line_changes(old: str, new: str, owners: Sequence[tuple[int, int, str]]
                  ) -> list[LineChange]:
    """Every line of ``new`` that is not in ``old``, and every line of ``old`` that is gone,
    with the input it belongs to (``owners``: first and last line of each input in ``new``).

    Within a changed block, a new line replaces the old line with the same key (``base:`` for
    ``base:``); a new line without one was added, an old line without one removed (the
    continuation lines of a folded ``source: >``)."""
    a, b = old.splitlines(), new.splitlines()

    def owner(line: int) -> str:
        return next((name for first, last, name in owners if first <= line <= last), "")

    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        unused = list(range(i1, i2))
        for j in range(j1, j2):
            key = _line_key(b[j])
            i = next((i for i in unused if key is not None and _line_key(a[i]) == key), None)
            if i is not None:
                unused.remove(i)
            out.append(LineChange(j + 1, None if i is None else a[i], b[j], owner(j + 1)))
        out += [LineChange(j2 + 1, a[i], None, owner(j2)) for i in unused]
    return sorted(out, key=lambda c: (c.line, c.new is None))


# -- the run -----------------------------------------------------------------------------------


def apply_research(findings: str | os.PathLike, spec_path: str | os.PathLike,
                   output: str | os.PathLike, rule: Sequence[float] = rs.DEFAULT_RULE,
                   rules: Mapping[str, Sequence[float]] | None = None, min_n: int = 3,
                   segment: str | None = None, today: dt.date | None = None) -> ResearchReport:
    """Write a new spec whose inputs take low, base, high and source from the findings.

    Parameters
    ----------
    findings : path-like
        The research table (CSV or .xlsx; see :func:`cvp_xl.workbooks.research.read_findings`).
    spec_path : path-like
        The calculator spec; it is read, never written.
    output : path-like
        The new spec; refused when it is ``spec_path`` (or the same file).
    rule : (low, base, high) percentiles
        For every input without a rule of its own; default P25/P50/P75.
    rules : mapping, optional
        Input name (as in the spec, case ignored) to its own rule.
    min_n : int
        Observations an input needs before it is set (default 3).
    segment : str, optional
        Use only the observations of this segment (case ignored).
    today : datetime.date, optional
        Observations dated after it are refused (default: today).

    Returns
    -------
    ResearchReport
        Each input's outcome and every changed line of the new spec.

    Raises
    ------
    ResearchError
        The output is the input spec, an unknown input in ``rules``, no observation in
        ``segment``, ``min_n`` below 1.
    cvp_xl.workbooks.research.FindingsError
        The findings have bad rows (every one listed); nothing is written.
    cvp_xl.errors.SpecError, cvp_xl.errors.WorkbookError
        The spec or the findings cannot be read.
    """
    from cvp_xl.workbooks.calculator.spec import load_spec, parse_spec

    spec_path, output = Path(spec_path), Path(output)
    if _same_file(spec_path, output):
        raise ResearchError(f"{output}: is the spec being read; write the new spec to another "
                            "file (-o), so the original stays as it was")
    if min_n < 1:
        raise ResearchError(f"min_n: expected 1 or more observations, got {min_n}")
    spec = load_spec(spec_path)
    own = {_find_input(name, spec, "rule").name: tuple(r) for name, r in (rules or {}).items()}
    observations: list[Observation] = read_findings(findings, spec, today)
    if segment is not None:
        key = segment.strip().casefold()
        chosen = [o for o in observations if o.segment.casefold() == key]
        if not chosen:
            known = sorted({o.segment for o in observations})
            raise ResearchError(f"{findings}: no observations in segment {segment!r} "
                                f"(segments: {', '.join(known) or 'none'})")
        observations = chosen
    if not output.parent.is_dir():
        raise WorkbookError(f"{output}: its folder {output.parent} does not exist")

    text = spec.text
    nodes = _input_nodes(text, str(spec_path))
    report = ResearchReport(output)
    edits = []
    for item, node in zip(spec.inputs, nodes):
        mine = [o for o in observations if o.input == item.name]
        evidence = None
        if mine:
            evidence = rs.summarize([o.value for o in mine], [o.customer for o in mine],
                                    [o.method for o in mine], [o.date for o in mine],
                                    own.get(item.name, rule))
        changed = evidence is not None and len(mine) >= min_n
        report.inputs.append(InputResult(item.name, len(mine), evidence, changed))
        if changed:
            source = rs.provenance(evidence)
            if segment is not None:
                source += f", segment {mine[0].segment}"
            values = {"base": evidence.base, "low": evidence.low, "high": evidence.high,
                      "source": source, "evidence": evidence_text(evidence)}
            edits += _edits(text, node, values)
    new_text = _apply(text, edits)
    parse_spec(new_text, str(output))  # the calculator's own checks, before writing
    owners = [(node.start_mark.line + 1, _last_line(new_text, node), item.name)
              for item, node in zip(spec.inputs, _input_nodes(new_text, str(output)))]
    report.changes = _line_changes(text, new_text, owners)
    with atomic_path(output) as tmp:
        tmp.write_text(new_text, encoding="utf-8")
    return report
