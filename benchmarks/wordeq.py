"""Time cvp_xl.wordeq.evaluate() over 100,000 customers against hand-written numpy.

The equation is DOMAIN.md §4's savings from fewer unplanned stops. Run from the project root:

    python benchmarks/wordeq.py

It prints the best of several runs for each and their ratio; the target is within 3x.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cvp_xl.wordeq import evaluate  # noqa: E402

EQUATION = """Savings from fewer unplanned stops per year =
    (Unplanned stops per year with the alternative - Unplanned stops per year with ours)
    x Hours lost per stop x Contribution margin lost per hour"""
NAMES = [
    "Unplanned stops per year with the alternative",
    "Unplanned stops per year with ours",
    "Hours lost per stop",
    "Contribution margin lost per hour",
]
CUSTOMERS = 100_000
RUNS = 50


def best_of(func, runs: int = RUNS) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(2006)
    alternative = rng.uniform(8, 20, CUSTOMERS)
    ours = rng.uniform(0, 8, CUSTOMERS)
    hours = rng.uniform(1, 12, CUSTOMERS)
    margin = rng.uniform(200, 5000, CUSTOMERS)
    values = [alternative, ours, hours, margin]

    def by_hand():
        return (alternative - ours) * hours * margin

    def by_word_equation():
        return evaluate(EQUATION, NAMES, values)

    assert np.array_equal(by_word_equation(), by_hand())
    by_word_equation()  # parse once (cached), as a batch job would
    hand = best_of(by_hand)
    word = best_of(by_word_equation)
    print(f"customers:                 {CUSTOMERS:,}")
    print(f"hand-written numpy:        {hand * 1e3:8.3f} ms (best of {RUNS})")
    print(f"wordeq.evaluate():         {word * 1e3:8.3f} ms (best of {RUNS})")
    print(f"ratio evaluate / numpy:    {word / hand:8.2f}x (target: within 3x)")


if __name__ == "__main__":
    main()
