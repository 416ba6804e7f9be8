"""
The feature sets of each module, and the table → float32 matrix step with its checks.

FEATURE_SETS is the one place to edit when the event store's opportunity tables gain columns
(control-plane/src/sink/tables.ts); docs/training.md lists the same sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import TrainError


@dataclass(frozen=True)
class ModuleSpec:
    table: str  # the event store table (and dataset file) of the module's opportunities
    target: str  # the label column
    default: tuple[str, ...]
    extended: tuple[str, ...]  # added to default


# Columns of the opportunity tables (kernel-helpers src/data/streams.ts, docs/simulation.md). Features
# are what the agent knew when it decided; never an outcome (landed, net_*, cf_*: `cf_would_land` is
# the simulation's label for every opportunity, sent or not) nor an id. `extended` adds the raw tip
# floor, the sizes and the agents' own estimate to `default`.
_MARKET = ("f_tip_ratio_p75", "f_hotpath_us", "f_competing_bundles", "f_pool_liquidity_lamports")
_FLOOR = (
    "f_tip_floor_p25_lamports",
    "f_tip_floor_p50_lamports",
    "f_tip_floor_p75_lamports",
    "f_tip_floor_p95_lamports",
)
_PROFIT = ("tip_lamports", "gross_lamports", "fees_lamports", "p_land_est")
FEATURE_SETS: dict[str, ModuleSpec] = {
    "arbitrage": ModuleSpec(
        table="arb_opportunities",
        target="cf_would_land",
        default=(*_MARKET, "f_route_hops", "f_leader_slot_index"),
        extended=(*_FLOOR, *_PROFIT, "amount_in"),
    ),
    "mev": ModuleSpec(
        table="mev_opportunities",
        target="cf_would_land",
        default=(*_MARKET, "f_victim_pool_ratio", "f_leader_slot_index"),
        extended=(*_FLOOR, *_PROFIT, "victim_amount_in", "frontrun_amount_in"),
    ),
}
FEATURE_SET_NAMES = ("default", "extended")
MODULE_ALIASES = {"arbitrage": "arbitrage", "arb": "arbitrage", "mev": "mev"}


def module_spec(module: str) -> ModuleSpec:
    name = MODULE_ALIASES.get(module)
    if name is None:
        raise TrainError("bad_args", f"unknown module '{module}' (known: arbitrage, mev)", module=module)
    return FEATURE_SETS[name]


def feature_set(module: str, name: str) -> list[str]:
    spec = module_spec(module)
    if name == "default":
        return list(spec.default)
    if name == "extended":
        return [*spec.default, *spec.extended]
    raise TrainError("bad_args", f"unknown feature set '{name}' (known: default, extended)", feature_set=name)


def module_of_table(table: str | None) -> str | None:
    return next((m for m, s in FEATURE_SETS.items() if s.table == table), None)


@dataclass
class Matrix:
    x: np.ndarray  # float32 [n, F], NaN where a value is missing
    y: np.ndarray  # float32 [n], 0 or 1
    t: np.ndarray  # the time column as int64 or float64 [n]
    features: list[str]
    time_type: str  # "timestamp" (t in ns since the epoch) or "number"


def to_matrix(table: pa.Table, features: list[str], target: str, time_column: str) -> Matrix:
    if table.num_rows == 0:
        raise TrainError("empty_input", "the input has no rows")
    names = set(table.column_names)
    if target not in names:
        raise TrainError(
            "missing_target", f"target column '{target}' is not in the input", column=target, columns=sorted(names)
        )
    missing = [f for f in features if f not in names]
    if missing:
        hint = " (the feature sets are default and extended)" if len(features) == 1 else ""
        raise TrainError(
            "missing_feature", f"feature columns not in the input: {', '.join(missing)}{hint}", columns=missing
        )
    if target in features:
        raise TrainError("bad_args", f"the target '{target}' is also a feature", column=target)
    x = np.empty((table.num_rows, len(features)), dtype=np.float32)
    for j, name in enumerate(features):
        x[:, j] = _feature(table.column(name), name)
    t, time_type = _time(table, time_column)
    return Matrix(x, _target(table.column(target), target), t, list(features), time_type)


def _numeric(typ: pa.DataType) -> bool:
    return pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ) or pa.types.is_decimal(typ)


def _feature(col: pa.ChunkedArray, name: str) -> np.ndarray:
    typ = col.type
    if pa.types.is_null(typ):
        raise TrainError("nan_feature", f"feature column '{name}' has no values (all null)", column=name)
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    if not _numeric(typ):
        raise TrainError(
            "text_feature",
            f"feature column '{name}' is {typ}, not numeric: encode it first or leave it out",
            column=name,
            type=str(typ),
        )
    values = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    if np.isnan(values).all():
        raise TrainError("nan_feature", f"feature column '{name}' has no values (all NaN or null)", column=name)
    return values


def _target(col: pa.ChunkedArray, name: str) -> np.ndarray:
    if col.null_count:
        raise TrainError("bad_target", f"target column '{name}' has {col.null_count} null values", column=name)
    if not _numeric(col.type):
        raise TrainError("bad_target", f"target column '{name}' is {col.type}; it must be boolean or 0/1", column=name)
    y = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    bad = ~((y == 0) | (y == 1))
    if bad.any():
        raise TrainError(
            "bad_target", f"target column '{name}' must hold only 0 and 1 (found {y[bad][0]!r})", column=name
        )
    return y.astype(np.float32)


def _time(table: pa.Table, name: str) -> tuple[np.ndarray, str]:
    if name not in table.column_names:
        raise TrainError(
            "missing_time_column", f"time column '{name}' is not in the input (--time-column)", column=name
        )
    col = table.column(name)
    if col.null_count:
        raise TrainError("bad_time_column", f"time column '{name}' has {col.null_count} null values", column=name)
    typ = col.type
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        ns = pc.cast(col, pa.timestamp("ns"), safe=False) if not pa.types.is_timestamp(typ) or typ.unit != "ns" else col
        return pc.cast(ns, pa.int64()).to_numpy(zero_copy_only=False), "timestamp"
    if pa.types.is_integer(typ):
        return pc.cast(col, pa.int64(), safe=False).to_numpy(zero_copy_only=False), "number"
    if pa.types.is_floating(typ):
        t = col.to_numpy(zero_copy_only=False).astype(np.float64)
        if np.isnan(t).any():
            raise TrainError("bad_time_column", f"time column '{name}' has NaN values", column=name)
        return t, "number"
    raise TrainError(
        "bad_time_column", f"time column '{name}' is {typ}: it must be a timestamp or a number", column=name
    )
