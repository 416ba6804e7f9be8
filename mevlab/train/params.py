"""
Model parameters: the blueprint's (`max_depth`, `learning_rate` alias `lr`), the iteration count
(`n_estimators`, alias `epochs`), early stopping, `seed`, and a few per model. Defaults, aliases and
ranges live in the tables below; docs/training.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import TrainError


@dataclass(frozen=True)
class Range:
    kind: str  # "int", "float" or "ints" (a list of ints, "64,32" on the command line)
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # lo itself is not allowed


TYPES: dict[str, Range] = {
    "max_depth": Range("int", 1, 64),
    "learning_rate": Range("float", 0, 10, lo_open=True),
    "n_estimators": Range("int", 1, 100_000),
    "early_stopping_rounds": Range("int", 0, 100_000),
    "seed": Range("int", 0, 2**31 - 1),
    "threads": Range("int", 0, 1024),
    "subsample": Range("float", 0, 1, lo_open=True),
    "colsample_bytree": Range("float", 0, 1, lo_open=True),
    "min_child_weight": Range("float", 0),
    "min_child_samples": Range("int", 1),
    "num_leaves": Range("int", 2, 131_072),
    "reg_lambda": Range("float", 0),
    "reg_alpha": Range("float", 0),
    "gamma": Range("float", 0),
    "max_bin": Range("int", 2, 65_535),
    "scale_pos_weight": Range("float", 0, lo_open=True),
    "hidden": Range("ints", 1, 65_536),
    "batch_size": Range("int", 1, 10_000_000),
    "weight_decay": Range("float", 0),
    "dropout": Range("float", 0, 0.99),
}

ALIASES = {
    "lr": "learning_rate",
    "eta": "learning_rate",
    "epochs": "n_estimators",
    "num_boost_round": "n_estimators",
    "patience": "early_stopping_rounds",
    "random_state": "seed",
    "n_jobs": "threads",
}

_COMMON = {"n_estimators": 200, "early_stopping_rounds": 20, "seed": 0, "threads": 0}
DEFAULTS: dict[str, dict[str, object]] = {
    "xgb": {
        **_COMMON,
        "max_depth": 6,
        "learning_rate": 0.1,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "min_child_weight": 1.0,
        "reg_lambda": 1.0,
        "reg_alpha": 0.0,
        "gamma": 0.0,
        "max_bin": 256,
        "scale_pos_weight": 1.0,
    },
    "lgbm": {
        **_COMMON,
        "max_depth": 6,
        "learning_rate": 0.1,
        "num_leaves": 31,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "min_child_samples": 20,
        "reg_lambda": 0.0,
        "reg_alpha": 0.0,
        "max_bin": 255,
        "scale_pos_weight": 1.0,
    },
    "torch": {
        **_COMMON,
        "n_estimators": 30,
        "early_stopping_rounds": 5,
        "learning_rate": 1e-3,
        "hidden": [64, 32],
        "batch_size": 256,
        "weight_decay": 0.0,
        "dropout": 0.0,
    },
}
MODELS = tuple(DEFAULTS)


def resolve(model: str, given: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    """The model's parameters with defaults filled in, and the given names this model does not use."""
    params = dict(DEFAULTS[model])
    seen: dict[str, tuple[str, object]] = {}
    unused: list[str] = []
    for key, raw in given.items():
        name = ALIASES.get(key, key)
        if name not in TYPES:
            known = ", ".join(sorted([*TYPES, *ALIASES]))
            raise TrainError("bad_params", f"unknown parameter '{key}' (known: {known})", param=key)
        value = _coerce(key, raw, TYPES[name])
        if name in seen and seen[name][1] != value:
            raise TrainError(
                "bad_params", f"'{seen[name][0]}' and '{key}' are the same parameter with different values", param=key
            )
        seen[name] = (key, value)
        if name in params:
            params[name] = value
        else:
            unused.append(key)  # another model's parameter (a blueprint sends max_depth to the MLP too)
    return params, unused


def _coerce(key: str, raw: object, r: Range) -> object:
    try:
        if r.kind == "ints":
            items = raw.split(",") if isinstance(raw, str) else raw
            if not isinstance(items, (list, tuple)) or not items:
                raise ValueError
            values = [_number(v, int) for v in items]
            for v in values:
                _check(key, v, r)
            return values
        value = _number(raw, int if r.kind == "int" else float)
    except (TypeError, ValueError) as err:
        raise TrainError("bad_params", f"parameter '{key}' must be {_kind_text(r)}, not {raw!r}", param=key) from err
    _check(key, value, r)
    return value


def _number(raw: object, kind: type) -> int | float:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, str):
        raw = raw.strip()
        value = float(raw)
    elif isinstance(raw, (int, float)):
        value = float(raw)
    else:
        raise ValueError
    if kind is int:
        if value != int(value):
            raise ValueError
        return int(value)
    return value


def _check(key: str, v: float, r: Range) -> None:
    low_bad = r.lo is not None and (v <= r.lo if r.lo_open else v < r.lo)
    if low_bad or (r.hi is not None and v > r.hi) or v != v:
        lo = "" if r.lo is None else f"{'>' if r.lo_open else '>='} {r.lo:g}"
        hi = "" if r.hi is None else f"<= {r.hi:g}"
        raise TrainError(
            "bad_params", f"parameter '{key}' must be {' and '.join(s for s in (lo, hi) if s)}, not {v}", param=key
        )


def _kind_text(r: Range) -> str:
    return {"int": "an integer", "float": "a number", "ints": "a list of integers such as 64,32"}[r.kind]
