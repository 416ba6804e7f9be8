"""What one training run is asked to do, and how its columns are resolved against the input."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .data import tables_in
from .device import parse_gpu
from .errors import TrainError
from .features import FEATURE_SET_NAMES, MODULE_ALIASES, feature_set, module_of_table, module_spec
from .models import check_model_names

DEFAULT_TIME_COLUMNS = ("ts", "ts_ms")  # `ts` first; the event store's exports have `ts_ms`


@dataclass
class TrainConfig:
    input: str
    models: list[str]
    out: str = "models"
    module: str | None = None  # arbitrage / mev: picks the table, the feature sets and the target
    features: str | list[str] = "default"  # "default", "extended" or column names
    target: str | None = None
    table: str | None = None  # a dataset directory's table (default: the module's)
    time_column: str | None = None  # default `ts`, else `ts_ms`
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    gpu: str = "false"
    params: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if not self.models:
            raise TrainError("bad_args", "no model given (--model xgb, lgbm or torch; several separated by commas)")
        check_model_names(self.models)
        if len(set(self.models)) != len(self.models):
            raise TrainError("bad_args", f"a model is named twice in {self.models}")
        self.gpu = parse_gpu(self.gpu)
        if self.module is not None:
            module_spec(self.module)  # raises on an unknown module
        if isinstance(self.features, str) and self.features not in FEATURE_SET_NAMES:
            self.features = [c.strip() for c in self.features.split(",") if c.strip()]
        if isinstance(self.features, list) and not self.features:
            raise TrainError("bad_args", "--features names no column")

    def table_to_read(self) -> str | None:
        if self.table is not None:
            return self.table
        if self.module is not None and tables_in(self.input):
            return module_spec(self.module).table
        return None


@dataclass
class Columns:
    module: str | None
    feature_set: str  # "default", "extended" or "custom"
    features: list[str]
    target: str
    time_column: str


def resolve_columns(cfg: TrainConfig, column_names: list[str], table_name: str | None) -> Columns:
    module = MODULE_ALIASES[cfg.module] if cfg.module else module_of_table(table_name)
    if isinstance(cfg.features, str):
        if module is None:
            raise TrainError(
                "bad_args",
                f"feature set '{cfg.features}' needs --module arbitrage or mev (the input's table is not a module's); "
                "or name the columns: --features col1,col2 --target col",
            )
        features, set_name = feature_set(module, cfg.features), cfg.features
    else:
        features, set_name = list(cfg.features), "custom"
    target = cfg.target or (module_spec(module).target if module else None)
    if target is None:
        raise TrainError("bad_args", "--target is needed with your own --features (no --module to take it from)")
    return Columns(module, set_name, features, target, _time_column(cfg, column_names))


def _time_column(cfg: TrainConfig, column_names: list[str]) -> str:
    if cfg.time_column:
        return cfg.time_column
    found = next((c for c in DEFAULT_TIME_COLUMNS if c in column_names), None)
    if found is None:
        raise TrainError(
            "missing_time_column",
            f"the input has no time column ({' or '.join(DEFAULT_TIME_COLUMNS)}): name one with --time-column",
            columns=sorted(column_names),
        )
    return found
