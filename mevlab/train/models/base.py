"""What every model type hands back, and the per-iteration hook it calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cancel import CancelToken
from ..device import Device
from ..events import Sink


class Hooks:
    """Called once per boosting round or epoch: emits the `iteration` event, then honours a cancel."""

    def __init__(self, model: str, emit: Sink, token: CancelToken) -> None:
        self.model = model
        self.emit = emit
        self.token = token
        self.last = 0  # the last iteration reported: how many ran

    def iteration(self, i: int, total: int, train: dict[str, float | None], valid: dict[str, float | None]) -> None:
        self.last = i
        self.emit(
            {"event": "iteration", "model": self.model, "iteration": i, "total": total, "train": train, "valid": valid}
        )
        self.token.check()


@dataclass
class Fitted:
    native: Any
    device: Device
    iterations: int  # rounds or epochs run
    best_iteration: int  # 1-based count kept: the model holds rounds 1..best_iteration
    predict: Callable[[np.ndarray], np.ndarray]  # the library's own predictions, probabilities [N]
    to_onnx: Callable[[list[str]], Any]  # an onnx.ModelProto: input `features` [N, F], output `probability` [N]
    library: dict[str, str] = field(default_factory=dict)  # name -> version
    native_predict: str = ""  # what `predict` calls, for the card
