"""Every spec is read with limits (cvp_xl.workbooks.yaml_safe): the other builders' specs too.

Each hostile file is refused with the file, the line and a bounded message; the calculator's
own spec has its tests in tests/workbooks/calculator/test_calculator_spec.py.
"""

from __future__ import annotations

import pytest

from cvp_xl.errors import CvpValueError, SpecError
from cvp_xl.workbooks import load_yaml, positioning, pricing, wordeq_library, yaml_safe
from cvp_xl.workbooks.spec_fields import text_field

PLAIN = "(tab and line breaks are the only control characters allowed)"


def _bomb() -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 10)]
    return "\n".join(lines) + "\n"


HOSTILE = {
    # name: (text, the message after "<path>")
    "bomb": (_bomb(), ":7: its aliases expand to more than 1,000,000 values; a spec needs far "
                      "fewer"),
    "deep": ("title: x\nalternative: " + "[" * 100_000,
             ":2: nested more than 64 levels deep; a spec needs a few"),
    "control": ("title: x\ncurrency: U\x1bSD\n",
                f":2: control character U+001B in column 12; a spec is plain text {PLAIN}"),
    "escape": ('title: "x\\u0008y"\n',
               f":1: text with control character U+0008; a spec is plain text {PLAIN}"),
    "long": ("title: " + "x" * 40_000 + "\n",
             ":1: text of 40,000 characters; an Excel cell holds at most 32,767"),
    "digits": ("title: x\nunits: " + "7" * 4_301 + "\n",
               ":2: a whole number of 4,301 digits; numbers in a spec have at most 4,300"),
    "syntax": ("title: x\n- y\n", ":2: not valid YAML: expected <block end>, but found '-'"),
}


@pytest.mark.parametrize("builder", [pricing, positioning, wordeq_library],
                         ids=["pricing", "positioning", "wordeq_library"])
@pytest.mark.parametrize("name", HOSTILE)
def test_every_builder_refuses_a_hostile_spec_by_file_and_line(tmp_path, builder, name):
    text, message = HOSTILE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        builder.load_spec(path)
    assert str(info.value) == f"{path}{message}"


def test_a_large_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "large.yaml"
    path.write_bytes(b"title: x\n" + b"# " * 600_000)  # 1,200,009 bytes
    with pytest.raises(SpecError) as info:
        load_yaml(path, path)
    assert str(info.value) == (f"{path}: refused: 1,200,009 bytes is more than a spec needs "
                               "(limit 1,048,576)")


def test_a_missing_file_and_a_folder_are_named(tmp_path):
    with pytest.raises(SpecError) as info:
        load_yaml(tmp_path / "none.yaml", tmp_path)
    assert str(info.value) == f"{tmp_path / 'none.yaml'}: no such file"
    with pytest.raises(SpecError) as info:
        load_yaml(tmp_path, tmp_path)
    assert str(info.value) == f"{tmp_path}: is a folder, not a spec file"


def test_a_good_file_with_anchors_and_a_merge_key_reads_as_yaml_means_it(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("base: &base {price: 2.5, source: Quote 2024}\n"
                    "other: {<<: *base, price: 3}\n", encoding="utf-8")
    data, where = load_yaml(path, path)
    assert where == "ok.yaml"
    assert data == {"base": {"price": 2.5, "source": "Quote 2024"},
                    "other": {"price": 3, "source": "Quote 2024"}}


def test_a_refused_field_is_quoted_only_in_part():
    with pytest.raises(CvpValueError) as info:
        text_field({"title": [[0] * 10] * 100_000}, "title", "spec.yaml")
    assert info.value.message == "spec.yaml: title: expected text, got a list of 100,000 items"


@pytest.mark.parametrize("value, shown", [
    ("abc", "'abc'"),
    ("é" * 61, f"'{'é' * 60}...' (61 characters)"),
    ({"a": 1, "b": 2}, "a mapping of 2 keys"),
    ([1], "a list of 1 item"),
    (10**100, "1" + "0" * 59 + "..."),
    (b"\x00" * 5, "binary data of 5 bytes"),
])
def test_shown_is_bounded(value, shown):
    assert yaml_safe.shown(value) == shown


def test_a_spec_whose_expansion_fits_the_limit_loads():
    # 10 levels of 3 aliases: 3**10 = 59,049 strings and the lists that hold them, under a
    # million: aliases are not refused as such
    lines = ['a0: &a0 ["x", "x", "x"]']
    lines += [f"a{k}: &a{k} [*a{k - 1}, *a{k - 1}, *a{k - 1}]" for k in range(1, 10)]
    data = yaml_safe.load("\n".join(lines) + "\n", "fits.yaml")
    flat, stack = 0, [data["a9"]]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            flat += 1
    assert flat == 3**10
