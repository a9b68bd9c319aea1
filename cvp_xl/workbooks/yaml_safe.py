"""Reading a YAML spec with limits: size, nesting, alias expansion and plain text.

Every spec goes through here: the calculator's (:func:`cvp_xl.workbooks.calculator.load_spec`)
and the other builders' (:func:`cvp_xl.workbooks.load_yaml`).  A spec is a small, hand-written
file, so whatever a hostile or broken one holds is refused early, with a
:class:`~cvp_xl.errors.SpecError` whose message starts with ``file:line:`` (the command line
prints it and exits 2) and never quotes more than a few dozen characters of what it refuses:

- a file of more than :data:`MAX_BYTES` (1 MiB), or not UTF-8 (the line of the first bad byte);
- a control character (other than tab and line breaks) or another character YAML refuses
  (U+FFFE, a lone surrogate), by line and column, also when a quoted escape (``"\\a"``) makes
  one;
- text longer than an Excel cell holds (:data:`cvp_xl.xlsx.a1.MAX_TEXT`, 32,767 characters):
  refused, never cut;
- nesting deeper than :data:`MAX_DEPTH` (64) levels (a hundred thousand ``[`` would otherwise
  exhaust Python's stack);
- aliases that expand to more than :data:`MAX_NODES` (1,000,000) values.  Anchors and aliases
  (``&name``, ``*name``, merge keys ``<<: *name``) are allowed, as YAML means them, but every
  use of an alias counts as a copy of what it names, so a 2 KB "billion laughs" file is refused
  after composing a few hundred nodes, before anything is built from it; an alias used inside
  its own anchor (a structure that contains itself) is refused too;
- a whole number of more than 4,300 digits, an impossible date: refused by line.

>>> load("a: [1, 2]\\nb: &x {c: 3}\\nd: *x\\n", "ok.yaml")
{'a': [1, 2], 'b': {'c': 3}, 'd': {'c': 3}}
>>> try:
...     load("a: 1\\nb: " + "[" * 100_000, "deep.yaml")
... except SpecError as error:
...     print(error)
deep.yaml:2: nested more than 64 levels deep; a spec needs a few
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from cvp_xl.errors import CvpXlError, SpecError
from cvp_xl.xlsx.a1 import MAX_TEXT

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "MAX_TEXT", "LimitedLoader", "read_text",
           "check_plain", "not_plain", "load", "load_file", "shown"]

#: The largest spec file read (bytes).
MAX_BYTES = 1 << 20
#: The deepest nesting of lists and mappings.
MAX_DEPTH = 64
#: The most values (scalars, lists and mappings) a spec may hold once its aliases are expanded.
MAX_NODES = 1_000_000
#: The characters YAML refuses in a stream: control characters but tab, line feed, carriage
#: return and next line (U+0085); lone surrogates; U+FFFE and U+FFFF.
_NOT_PLAIN = re.compile(yaml.reader.Reader.NON_PRINTABLE.pattern)
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_PROBLEM_CHARS = 200  # at most this much of a YAML parser's own message is quoted


def _cut(text: str) -> str:
    return text if len(text) <= _PROBLEM_CHARS else text[:_PROBLEM_CHARS] + "..."


def shown(value, limit: int = 60) -> str:
    """How a refused value reads in a message: bounded whatever the value.

    Text and numbers as ``repr`` (long text cut, with its length), lists and mappings by
    their size only.

    >>> shown("abc"), shown(12.5), shown(True)
    ("'abc'", '12.5', 'True')
    >>> shown("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (100 characters)"
    >>> shown([[1] * 10**6] * 10**6), shown({"a": 1})
    ('a list of 1,000,000 items', 'a mapping of 1 key')
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        head = repr(value[:limit])
        return f"{head[:-1]}...{head[-1]} ({len(value):,} characters)"
    if isinstance(value, dict):
        return f"a mapping of {len(value):,} key{'s' * (len(value) != 1)}"
    if isinstance(value, (list, tuple, set)):
        return f"a list of {len(value):,} item{'s' * (len(value) != 1)}"
    if isinstance(value, (bytes, bytearray)):
        return f"binary data of {len(value):,} bytes"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _line_of(text: str, position: int) -> int:
    """The 1-based line of ``position``, counting line breaks as YAML does."""
    return 1 + sum(1 for _ in _LINE_BREAK.finditer(text, 0, position))


def _what_char(ch: str) -> str:
    kind = "control character" if unicodedata.category(ch) == "Cc" else "character"
    return f"{kind} U+{ord(ch):04X}"


_PLAIN_ONLY = "a spec is plain text (tab and line breaks are the only control characters allowed)"


def not_plain(text: str) -> str | None:
    """What makes ``text`` more than plain text (a control character other than tab and line
    breaks, U+FFFE, ...), or None.

    >>> not_plain("Acme\\tCorp"), not_plain("Acme\\x07")
    (None, 'control character U+0007 at character 5')
    """
    bad = _NOT_PLAIN.search(text)
    return None if bad is None else f"{_what_char(bad.group())} at character {bad.start() + 1}"


def check_plain(text: str, name: str) -> None:
    """Refuse a character YAML does not allow, naming its line and column."""
    bad = _NOT_PLAIN.search(text)
    if bad:
        line = _line_of(text, bad.start())
        starts = [m.end() for m in _LINE_BREAK.finditer(text, 0, bad.start())]
        column = bad.start() - (starts[-1] if starts else 0) + 1
        raise SpecError(f"{name}:{line}: {_what_char(bad.group())} in column {column}; "
                        f"{_PLAIN_ONLY}")


def read_text(path: str | Path, max_bytes: int = MAX_BYTES) -> str:
    """A spec file's text: refused when missing, too large, not UTF-8 or not plain text.

    >>> try:
    ...     read_text("no-such-spec.yaml")
    ... except SpecError as error:
    ...     print(error)
    no-such-spec.yaml: no such file
    """
    p = Path(path)
    try:
        if p.is_dir():
            raise SpecError(f"{p}: is a folder, not a spec file")
        size = p.stat().st_size
        if size > max_bytes:
            raise SpecError(f"{p}: refused: {size:,} bytes is more than a spec needs "
                            f"(limit {max_bytes:,})")
        with open(p, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise SpecError(f"{p}: no such file") from None
    except OSError as exc:
        raise SpecError(f"{p}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:  # it grew since stat
        raise SpecError(f"{p}: refused: more than {max_bytes:,} bytes is more than a spec "
                        f"needs")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SpecError(f"{p}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start:,})"
                        ) from None
    check_plain(text, str(p))
    return text


class LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with this module's limits; ``name`` is used in messages."""

    def __init__(self, stream: str, name: str = "<spec>"):
        super().__init__(stream)
        self.name = name
        self._depth = 0

    def _refuse(self, mark, message: str):
        line = f":{mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{self.name}{line}: {message}")

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                self._refuse(self.peek_event().start_mark,
                             f"nested more than {MAX_DEPTH} levels deep; a spec needs a few")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        if node is not None:
            self._check_expansion(node)
        return node

    def _check_expansion(self, root) -> None:
        """Count the values with every alias expanded, without expanding anything."""
        size: dict[int, int] = {}
        on_path: set[int] = set()
        stack = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            children = _children(node)
            if done:
                on_path.discard(key)
                size[key] = min(MAX_NODES + 1, 1 + sum(size[id(c)] for c in children))
                if size[key] > MAX_NODES:
                    self._refuse(node.start_mark,
                                 f"its aliases expand to more than {MAX_NODES:,} values; a "
                                 "spec needs far fewer")
                continue
            if key in size:
                continue
            on_path.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in on_path:
                    self._refuse(child.start_mark, "an alias is used inside its own anchor "
                                 "(a structure that contains itself)")
                if id(child) not in size:
                    stack.append((child, False))

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, CvpXlError):
            raise
        except ValueError as exc:  # int(), a date that does not exist, ...
            if node.tag == _INT_TAG:
                digits = sum(ch.isdigit() for ch in node.value)
                self._refuse(node.start_mark, f"a whole number of {digits:,} digits; numbers "
                                              "in a spec have at most 4,300")
            self._refuse(node.start_mark, f"{shown(node.value)} cannot be read: "
                                          f"{_cut(str(exc))}")


def _children(node) -> list:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_text(loader: LimitedLoader, node: ScalarNode) -> str:
    text = loader.construct_scalar(node)
    bad = _NOT_PLAIN.search(text)
    if bad:
        loader._refuse(node.start_mark, f"text with {_what_char(bad.group())}; {_PLAIN_ONLY}")
    if len(text) > MAX_TEXT:
        loader._refuse(node.start_mark, f"text of {len(text):,} characters; an Excel cell holds "
                                        f"at most {MAX_TEXT:,}")
    return text


LimitedLoader.add_constructor(_STR_TAG, _construct_text)


def load(text: str, name: str = "<spec>", loader: type[LimitedLoader] = LimitedLoader,
         max_bytes: int = MAX_BYTES):
    """The data of one YAML document, read with this module's limits.

    Parameters
    ----------
    text : str
        The YAML text.
    name : str
        How messages name it (the file's path).
    loader : type, optional
        A subclass of :class:`LimitedLoader` (the calculator's keeps the line of every key).
    max_bytes : int, optional
        The largest text accepted, in bytes of UTF-8.

    Raises
    ------
    cvp_xl.errors.SpecError
        ``name:line: ...`` for anything refused, including YAML that does not parse.
    """
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise SpecError(f"{name}: refused: more than {max_bytes:,} bytes is more than a spec "
                        "needs")
    check_plain(text, name)
    reader = loader(text, name)
    try:
        return reader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = _cut(str(exc.problem or exc.context or "cannot be read"))
        raise SpecError(f"{name}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{name}: not valid YAML: {_cut(str(exc))}") from None
    finally:
        reader.dispose()


def load_file(path: str | Path, loader: type[LimitedLoader] = LimitedLoader,
              max_bytes: int = MAX_BYTES):
    """:func:`load` the text of a file (:func:`read_text`); messages name the path as given."""
    return load(read_text(path, max_bytes), str(path), loader, max_bytes)
