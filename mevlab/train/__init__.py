"""
The trainer: XGBoost, LightGBM and PyTorch models from an Arrow file or a dataset directory, exported
as ONNX with a model card. `python -m mevlab.train --help`; the contract is docs/training.md.

    from mevlab.train import TrainConfig, train
    result = train(TrainConfig(input="opps.arrow", models=["xgb"], module="arbitrage"), emit=print)
"""

from .cancel import CancelToken
from .config import TrainConfig
from .errors import Cancelled, TrainError
from .run import train

__all__ = ["CancelToken", "Cancelled", "TrainConfig", "TrainError", "train"]
