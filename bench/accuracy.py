"""Accuracy of batch analysis on the synthetic generator (figures for the report).

Run: /work/venv/bin/python bench/accuracy.py   (tests/test_accuracy.py asserts the targets)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.accuracy import evaluate


def main() -> None:
    for lag in (0.0, 2.0):
        print(f"30 one-hour records, device lag {lag:g} s:")
        for line in evaluate(range(30), lag_s=lag).lines():
            print("  " + line)


if __name__ == "__main__":
    main()
