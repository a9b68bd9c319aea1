"""Hypothesis strategies shared by the property tests."""

from hypothesis import strategies as st

#: Amounts of money as a spreadsheet holds them: finite, of business size.
money = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
positive_money = st.floats(min_value=0.01, max_value=1e9, allow_nan=False, allow_infinity=False)
cash_flows = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1,
                      max_size=30)
