"""
The model types. Each module (xgb, lgbm, torch_mlp) imports its library only when that model is
trained, so a machine without XGBoost or LightGBM still trains the MLP.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import TrainError
from ..params import MODELS

_MODULES = {"xgb": "xgb", "lgbm": "lgbm", "torch": "torch_mlp"}


def model_module(name: str) -> ModuleType:
    if name not in _MODULES:
        raise TrainError("unknown_model", f"unknown model type '{name}' (known: {', '.join(MODELS)})", model=name)
    return importlib.import_module(f"{__name__}.{_MODULES[name]}")


def check_model_names(names: list[str]) -> None:
    for name in names:
        if name not in _MODULES:
            raise TrainError("unknown_model", f"unknown model type '{name}' (known: {', '.join(MODELS)})", model=name)
