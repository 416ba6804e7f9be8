"""
The time-ordered split: rows sorted by the time column, then cut into train, validation and test by
the fractions. Rows that share a timestamp never straddle a cut (they all go to the later split), so
every training row is strictly older than every validation row, and those than every test row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from .errors import TrainError
from .features import Matrix

SPLITS = ("train", "valid", "test")


@dataclass
class Part:
    name: str
    x: np.ndarray
    y: np.ndarray
    t: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.y.shape[0])


@dataclass
class Split:
    train: Part
    valid: Part
    test: Part
    time_type: str

    def parts(self) -> list[Part]:
        return [self.train, self.valid, self.test]

    def describe(self) -> dict[str, object]:
        return {p.name: self._describe(p) for p in self.parts()}

    def _describe(self, p: Part) -> dict[str, object]:
        return {
            "rows": p.rows,
            "positives": int(p.y.sum()),
            "from": _time_value(p.t.min(), self.time_type),
            "to": _time_value(p.t.max(), self.time_type),
        }


def parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError as err:
        raise TrainError(
            "bad_args", f"--split takes train,valid,test fractions such as 0.7,0.15,0.15, not {text!r}"
        ) from err
    if len(values) == 2:
        values.append(1.0 - sum(values))
    if len(values) != 3 or any(not (0 < v < 1) for v in values) or abs(sum(values) - 1) > 1e-6:
        raise TrainError("bad_args", f"--split needs three fractions in (0, 1) that add up to 1, not {text!r}")
    return values[0], values[1], values[2]


def time_split(m: Matrix, fractions: tuple[float, float, float]) -> Split:
    order = np.argsort(m.t, kind="stable")
    t_sorted = m.t[order]
    n = len(order)
    cuts = [_cut(t_sorted, round(n * fractions[0])), _cut(t_sorted, round(n * (fractions[0] + fractions[1])))]
    bounds = [0, cuts[0], max(cuts[0], cuts[1]), n]
    parts = []
    for i, name in enumerate(SPLITS):
        idx = order[bounds[i] : bounds[i + 1]]
        if len(idx) == 0:
            raise TrainError(
                "empty_split",
                f"the {name} split is empty ({n} rows, fractions {fractions}; rows with one timestamp stay together)",
                split=name,
                rows=n,
            )
        parts.append(Part(name, m.x[idx], m.y[idx], m.t[idx]))
    split = Split(parts[0], parts[1], parts[2], m.time_type)
    if split.train.y.min() == split.train.y.max():
        raise TrainError(
            "one_class",
            f"every training row has target {int(split.train.y[0])}: there is nothing to learn",
            split="train",
        )
    return split


def _cut(t_sorted: np.ndarray, at: int) -> int:
    """Moves a cut back to the first row of its timestamp."""
    if at <= 0 or at >= len(t_sorted):
        return at
    return int(np.searchsorted(t_sorted, t_sorted[at], side="left"))


def _time_value(v: np.generic, time_type: str) -> object:
    if time_type == "timestamp":
        return datetime.fromtimestamp(int(v) / 1e9, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    return v.item()
