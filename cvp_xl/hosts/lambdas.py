"""The LAMBDA library: ``CVP_*`` functions in Excel 365 with nothing installed.

Excel 365 (Windows, Mac and the web) lets a workbook define its own functions as named
``LAMBDA`` formulas: no add-in, no Python, no macros.  :func:`library` makes one such defined
name for every registry function whose native translation needs only its argument expressions
(not the contents of cells, as ``CVP_WORDEQ``'s does).  The body is the registry's own
translation called with the parameters, so every argument check the translation makes (a blank
or text argument giving ``#VALUE!``) is the LAMBDA's too:

>>> roi = lambda_name("CVP_ROI")
>>> roi.shown.startswith("=LAMBDA(benefit,cost,")
True
>>> roi.refers_to == "_xlfn.LAMBDA(_xlpm.benefit,_xlpm.cost," + stored_form(
...     get("CVP_ROI").to_native("_xlpm.benefit", "_xlpm.cost")) + ")"
True

``shown`` is what Excel's Name Manager shows; ``refers_to`` is the text of the
``<definedName>`` element in ``xl/workbook.xml``, written the way Excel saves it:

- no leading ``=``;
- ``_xlfn.LAMBDA(``, and ``_xlfn.`` before every function newer than Excel 2007 (those not in
  openpyxl's list of Excel 2007 functions, ``openpyxl.utils.formulas.FORMULAE``), with
  ``_xlfn._xlws.`` for ``FILTER`` and ``SORT`` (MS-XLSX 2.2.2, "Formulas");
- each parameter ``_xlpm.name`` in the parameter list and in the body; an optional parameter
  is ``_xlop.name`` in the list and ``_xlpm.name`` in the body (``[name]`` as typed);
- the name's ``comment`` holds the function's description (Excel refuses more than 255
  characters; the registry keeps descriptions within that).

An optional argument is handled with ``ISOMITTED`` (``_xlfn.ISOMITTED``): the body holds the
translation for each combination of given and left-out optional arguments, chosen with
``IF(<p left out>, ..., ...)`` (:func:`left_out_test`: left out of the call, or one blank
cell, which every other host reads as left out too); a combination the translation refuses
(``CVP_CASE_STATS`` with ``segments`` but no ``segment``) gives that error's code.

:func:`substitute` gives the plain formula that a call computes (the body with its parameters
replaced by the call's arguments and each ``ISOMITTED`` by TRUE or FALSE), so a spreadsheet
without LAMBDA, such as LibreOffice 7.4, can check the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cvp_xl.errors import CvpError
from cvp_xl.registry import Function, NoTranslation, functions, get
from cvp_xl.xlsx.a1 import MAX_FORMULA

__all__ = [
    "LambdaName",
    "NotLambda",
    "PARAMETER",
    "OPTIONAL_PARAMETER",
    "library",
    "lambda_name",
    "lambda_able",
    "left_out_test",
    "not_lambda",
    "stored_form",
    "substitute",
]

#: The prefixes Excel writes before a LAMBDA's parameters in a file: every use, and the
#: declaration of an optional parameter (typed ``[name]``).
PARAMETER, OPTIONAL_PARAMETER = "_xlpm.", "_xlop."
#: The prefix of functions newer than Excel 2007, and the one FILTER and SORT carry as well.
FUTURE, WORKSHEET = "_xlfn.", "_xlfn._xlws."
_WORKSHEET_FUNCTIONS = frozenset({"FILTER", "SORT"})
#: Functions that bind names of their own, which a body cannot use (their names would need
#: prefixes this module does not write).
_BINDERS = frozenset({"LAMBDA", "LET"})
#: Excel refuses a name's comment longer than this.
MAX_COMMENT = 255
#: What a parameter name must look like (Excel's rules for names, and no period).
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_CELL = re.compile(r"^(?:[A-Za-z]{1,3}[0-9]+|[RrCc]|[Rr][0-9]*[Cc][0-9]*)$")


class NotLambda(ValueError):
    """A registry function that cannot become a named LAMBDA, with the reason."""


@dataclass(frozen=True)
class LambdaName:
    """One function of the library: a defined name holding a LAMBDA.

    Attributes
    ----------
    name : str
        The function's name, such as ``CVP_ROI``.
    parameters : tuple of str
        The argument names, in order.
    optional : tuple of bool
        Which of them may be left out.
    body : str
        The body as typed (functions without prefixes), parameters as ``_xlpm.name``.
    comment : str
        The description, shown as the name's comment in the Name Manager.
    """

    name: str
    parameters: tuple[str, ...]
    optional: tuple[bool, ...]
    body: str
    comment: str

    @property
    def refers_to(self) -> str:
        """The text of the ``<definedName>`` element, as Excel stores it."""
        declared = [(OPTIONAL_PARAMETER if opt else PARAMETER) + p
                    for p, opt in zip(self.parameters, self.optional)]
        return f"{FUTURE}LAMBDA({','.join(declared)},{stored_form(self.body)})"

    @property
    def shown(self) -> str:
        """The definition as Excel's Name Manager shows it (``=LAMBDA(x,[y],...)``)."""
        declared = [f"[{p}]" if opt else p for p, opt in zip(self.parameters, self.optional)]
        body = _replace_parameters(self.body, {p: p for p in self.parameters})
        return f"=LAMBDA({','.join(declared)},{body})"

    @property
    def signature(self) -> str:
        """``CVP_CASE_STATS(values, [segments], [segment], [statistic])``, as Excel's
        formula tips show a LAMBDA's arguments."""
        declared = [f"[{p}]" if opt else p for p, opt in zip(self.parameters, self.optional)]
        return f"{self.name}({', '.join(declared)})"


def lambda_able(entry: Function) -> bool:
    """True when ``entry`` has a native translation that needs no cell contents."""
    return entry.native is not None and not entry.native_reads_cells


def not_lambda(entry: Function) -> str:
    """Why ``entry`` is not in the library (empty when it is)."""
    if entry.native is None:
        return "it has no native-formula translation: it needs Python"
    if entry.native_reads_cells:
        return ("its native formula is made from the contents of its argument cells, "
                "which a LAMBDA cannot read: it needs Python")
    try:
        lambda_name(entry)
    except NotLambda as exc:
        return str(exc)
    return ""


def lambda_name(entry: Function | str) -> LambdaName:
    """The named LAMBDA for one registry function (``Function`` or its name).

    Raises
    ------
    NotLambda
        The function has no translation that works from argument expressions alone, a
        parameter name Excel would not accept, a body that defines names of its own (LET,
        LAMBDA), or a definition longer than Excel allows.
    """
    if isinstance(entry, str):
        entry = get(entry)
    if not lambda_able(entry):
        raise NotLambda(f"{entry.name}: no native translation from argument expressions")
    for a in entry.args:
        if not _PARAMETER_NAME.match(a.name) or _LOOKS_LIKE_CELL.match(a.name):
            raise NotLambda(f"{entry.name}: {a.name!r} cannot be a LAMBDA parameter name")
    required = [PARAMETER + a.name for a in entry.args if not a.optional]
    optional = [PARAMETER + a.name for a in entry.args if a.optional]
    if any(a.optional for a in entry.args[:len(required)]):
        raise NotLambda(f"{entry.name}: optional arguments must come after the required ones")
    body = _tree(entry, required, optional, [])
    for name in _functions_called(body):
        if name in _BINDERS:
            raise NotLambda(f"{entry.name}: the translation uses {name}, which binds names")
    if len(entry.description) > MAX_COMMENT:
        raise NotLambda(f"{entry.name}: a description of more than {MAX_COMMENT} characters")
    made = LambdaName(
        name=entry.name,
        parameters=tuple(a.name for a in entry.args),
        optional=tuple(a.optional for a in entry.args),
        body=body,
        comment=entry.description,
    )
    if len(made.refers_to) + 1 > MAX_FORMULA:
        raise NotLambda(f"{entry.name}: the LAMBDA would be {len(made.refers_to) + 1:,} "
                        f"characters long; Excel allows {MAX_FORMULA:,}")
    return made


def library() -> list[LambdaName]:
    """The named LAMBDA of every registry function that can have one, in catalogue order.

    A function whose LAMBDA cannot be made (:func:`not_lambda` says why: a body longer than
    Excel allows, ...) is left out, as are those without a translation from their arguments.
    """
    made = []
    for entry in functions():
        if lambda_able(entry):
            try:
                made.append(lambda_name(entry))
            except NotLambda:
                continue
    return made


def _tree(entry: Function, required: list[str], optional: list[str], given: list[str]) -> str:
    """The body for the optional arguments from ``len(given)`` on, chosen with ISOMITTED."""
    if len(given) == len(optional):
        args = list(required) + given
        while len(args) > len(required) and args[-1] == "":
            args.pop()  # trailing arguments left out, as a call without them
        try:
            return entry.to_native(*args)
        except NoTranslation as exc:
            raise NotLambda(f"{entry.name}: {exc}") from None
        except CvpError as exc:  # the translation refuses this combination of arguments
            return exc.code
    p = optional[len(given)]
    left_out = _tree(entry, required, optional, given + [""])
    present = _tree(entry, required, optional, given + [p])
    if left_out == present:
        return present
    return f"IF({left_out_test(p)},{left_out},{present})"


def left_out_test(p: str) -> str:
    """The condition under which the optional parameter ``p`` counts as left out.

    Left out of the call (``ISOMITTED``), or given as one blank cell: every host hands the
    function ``None`` for a blank cell, which it reads as the argument left out (the registry's
    examples: "types left blank (as if omitted)"), so the LAMBDA does the same.  ``IFERROR``
    because ROWS and COLUMNS refuse a single value (a number or text typed in the call).

    >>> left_out_test("_xlpm.n")
    'IF(ISOMITTED(_xlpm.n),TRUE,AND(IFERROR(ROWS(_xlpm.n)*COLUMNS(_xlpm.n),1)=1,ISBLANK(_xlpm.n)))'
    """
    return (f"IF(ISOMITTED({p}),TRUE,AND(IFERROR(ROWS({p})*COLUMNS({p}),1)=1,"
            f"ISBLANK({p})))")


# -- formula text ------------------------------------------------------------------------------


def _tokens(formula: str):
    from openpyxl.formula.tokenizer import Tokenizer

    return Tokenizer("=" + formula).items


def _is_open(tok) -> bool:
    from openpyxl.formula.tokenizer import Token

    return tok.type == Token.FUNC and tok.subtype == Token.OPEN


def _functions_called(formula: str) -> list[str]:
    return [tok.value[:-1].upper() for tok in _tokens(formula) if _is_open(tok)]


def stored_form(formula: str) -> str:
    """A formula (no ``=``) with the prefixes Excel writes in a file before newer functions.

    >>> stored_form('IF(ISOMITTED(_xlpm.x),SUM(A1:A3),IFS(A1>0,"a",TRUE,"b"))')
    'IF(_xlfn.ISOMITTED(_xlpm.x),SUM(A1:A3),_xlfn.IFS(A1>0,"a",TRUE,"b"))'
    >>> stored_form("SORT(FILTER(A1:A9,A1:A9>2))")
    '_xlfn._xlws.SORT(_xlfn._xlws.FILTER(A1:A9,A1:A9>2))'
    """
    from openpyxl.utils.formulas import FORMULAE

    registry = {entry.name for entry in functions()}
    out = []
    for tok in _tokens(formula):
        text = tok.value
        if _is_open(tok):
            name = text[:-1].upper()
            if name.startswith("_XL") or name in FORMULAE or name in registry:
                pass
            elif name in _WORKSHEET_FUNCTIONS:
                text = WORKSHEET + text
            else:
                text = FUTURE + text
        out.append(text)
    return "".join(out)


def _replace_parameters(body: str, values: dict[str, str]) -> str:
    """``body`` with each ``_xlpm.name`` operand replaced by ``values[name]``."""
    from openpyxl.formula.tokenizer import Token

    lowered = {k.lower(): v for k, v in values.items()}
    out = []
    for tok in _tokens(body):
        text = tok.value
        if tok.type == Token.OPERAND and tok.subtype == Token.RANGE \
                and text.lower().startswith(PARAMETER):
            key = text[len(PARAMETER):].lower()
            if key not in lowered:
                raise KeyError(f"no value for the parameter {text}")
            text = lowered[key]
        out.append(text)
    return "".join(out)


def substitute(entry: LambdaName | Function | str, args: list[str]) -> str:
    """The plain formula (``=...``) that calling the LAMBDA with ``args`` computes.

    ``args`` are the call's argument expressions, as typed in a cell (``B3``, ``C2:C9``); an
    optional argument left out is missing from the end of the list, or ``""`` in its place.
    Each ``ISOMITTED(p)`` becomes TRUE or FALSE and the ``IF`` it decides its branch, and each
    parameter the argument, in parentheses unless it is a reference, a name or a number.  For
    a spreadsheet that has no LAMBDA (LibreOffice 7.4), to check what a LAMBDA computes.

    >>> text = substitute("CVP_ROI", ["B2", "B3*2"])
    >>> text.startswith("="), "_xlpm." in text, "(B3*2)" in text
    (True, False, True)

    Raises
    ------
    ValueError
        More arguments than parameters, a required argument left out, or a body that still
        uses a left-out argument once ISOMITTED is decided.
    """
    from cvp_xl.registry import _atom

    made = entry if isinstance(entry, LambdaName) else lambda_name(entry)
    if len(args) > len(made.parameters):
        raise ValueError(f"{made.name} takes {len(made.parameters)} arguments, got {len(args)}")
    given = {}
    for i, p in enumerate(made.parameters):
        text = args[i].strip() if i < len(args) else ""
        if not text and not made.optional[i]:
            raise ValueError(f"{made.name}: the argument {p} is required")
        given[p] = _atom(text) if text else None
    body = _simplify(_decide_omitted(made.body, {p: v is None for p, v in given.items()}))
    left_out = {p for p, v in given.items() if v is None}
    try:
        return "=" + _replace_parameters(body, {p: v for p, v in given.items() if v is not None})
    except KeyError as exc:
        raise ValueError(f"{made.name}: the body uses an argument that was left out "
                         f"({', '.join(sorted(left_out))}): {exc}") from None


def _decide_omitted(body: str, omitted: dict[str, bool]) -> str:
    """``body`` with each ``ISOMITTED(_xlpm.p)`` replaced by TRUE or FALSE."""
    from openpyxl.formula.tokenizer import Token

    lowered = {k.lower(): v for k, v in omitted.items()}
    tokens = [t for t in _tokens(body) if t.type != Token.WSPACE]
    out, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        if (_is_open(tok) and tok.value.upper() == "ISOMITTED(" and i + 2 < len(tokens)
                and tokens[i + 1].value.lower().startswith(PARAMETER)
                and tokens[i + 2].subtype == Token.CLOSE):
            decided = lowered[tokens[i + 1].value[len(PARAMETER):].lower()]
            out.append("TRUE" if decided else "FALSE")
            i += 3
            continue
        out.append(tok.value)
        i += 1
    return "".join(out)


def _simplify(formula: str) -> str:
    """``formula`` with every ``IF(TRUE,a,b)`` made ``a`` and every ``IF(FALSE,a,b)`` ``b``."""
    from openpyxl.formula.tokenizer import Token

    tokens = [t for t in _tokens(formula) if t.type != Token.WSPACE]
    out, i = [], 0
    while i < len(tokens):
        tok = tokens[i]
        if _is_open(tok) and tok.value.upper() == "IF(":
            args, end = _arguments(tokens, i)
            texts = [_simplify("".join(t.value for t in arg)) for arg in args]
            if len(texts) in (2, 3) and texts[0].upper() in ("TRUE", "FALSE"):
                chosen = texts[1] if texts[0].upper() == "TRUE" else (
                    texts[2] if len(texts) == 3 else "FALSE")
                out.append(chosen)
            else:
                out.append(tok.value + ",".join(texts) + ")")
            i = end
            continue
        out.append(tok.value)
        i += 1
    return "".join(out)


def _arguments(tokens, start: int):
    """The arguments (lists of tokens) of the call opened at ``tokens[start]``, and the index
    after its closing parenthesis."""
    from openpyxl.formula.tokenizer import Token

    args, current, depth = [], [], 0
    i = start + 1
    while i < len(tokens):
        tok = tokens[i]
        if tok.subtype == Token.OPEN:
            depth += 1
        elif tok.subtype == Token.CLOSE:
            if depth == 0:
                args.append(current)
                return args, i + 1
            depth -= 1
        elif tok.type == Token.SEP and tok.subtype == Token.ARG and depth == 0:
            args.append(current)
            current = []
            i += 1
            continue
        current.append(tok)
        i += 1
    raise ValueError("unbalanced parentheses")
