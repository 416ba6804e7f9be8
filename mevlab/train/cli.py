"""`python -m mevlab.train`: NDJSON events on stdout, logs on stderr, the exit status of docs/training.md."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from typing import NoReturn

from .cancel import CancelToken, cancel_on_signals
from .config import TrainConfig
from .errors import TrainError
from .events import NdjsonWriter, claim_stdout
from .params import MODELS
from .run import train
from .split import parse_fractions

log = logging.getLogger("mevlab.train")


class _Parser(argparse.ArgumentParser):
    """Usage errors become the `bad_args` error event instead of argparse's exit(2) with text only."""

    def error(self, message: str) -> NoReturn:
        raise TrainError("bad_args", message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m mevlab.train",
        description="Train XGBoost, LightGBM or PyTorch models; export ONNX and a model card.",
    )
    p.add_argument("--input", required=True, help="Arrow IPC file, Parquet file, or dataset directory")
    p.add_argument("--model", required=True, help=f"{', '.join(MODELS)}; several separated by commas")
    p.add_argument("--out", default="models", help="models go to OUT/<sha256>/ (default: models)")
    p.add_argument("--module", help="arbitrage or mev: table, feature sets and target")
    p.add_argument("--features", default="default", help="default, extended, or col1,col2,…")
    p.add_argument("--target", help="the 0/1 or boolean label column (default: the module's)")
    p.add_argument("--table", help="a dataset directory's table (default: the module's)")
    p.add_argument("--time-column", help="the column the split orders by (default: ts, else ts_ms)")
    p.add_argument("--split", default="0.7,0.15,0.15", help="train,valid,test fractions in time order")
    p.add_argument("--gpu", default="false", help="false (default), true or auto")
    p.add_argument("--params", help='JSON object of parameters, e.g. {"max_depth":6,"lr":0.1}')
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="one parameter; repeatable")
    for name in ("max-depth", "learning-rate", "lr", "n-estimators", "epochs", "early-stopping-rounds", "seed"):
        p.add_argument(f"--{name}", dest=f"p_{name.replace('-', '_')}", metavar="VALUE", help="that parameter")
    return p


def config_from_args(argv: list[str]) -> TrainConfig:
    a = parser().parse_args(argv)
    params: dict[str, object] = {}
    if a.params:
        try:
            loaded = json.loads(a.params)
        except ValueError as err:
            raise TrainError("bad_args", f"--params is not JSON: {err}") from err
        if not isinstance(loaded, dict):
            raise TrainError("bad_args", "--params must be a JSON object")
        params.update(loaded)
    for item in a.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TrainError("bad_args", f"--param takes KEY=VALUE, not {item!r}")
        params[key.strip()] = value
    for key, value in vars(a).items():
        if key.startswith("p_") and value is not None:
            params[key[2:]] = value
    return TrainConfig(
        input=a.input,
        models=[m.strip() for m in a.model.split(",") if m.strip()],
        out=a.out,
        module=a.module,
        features=a.features,
        target=a.target,
        table=a.table,
        time_column=a.time_column,
        split=parse_fractions(a.split),
        gpu=a.gpu,
        params=params,
    )


def main(argv: list[str] | None = None) -> int:
    emit = NdjsonWriter(claim_stdout())
    token = CancelToken()
    cancel_on_signals(token)
    level = os.environ.get("MEVLAB_LOG_LEVEL", "info").upper()
    level = level if level in ("DEBUG", "INFO", "WARNING", "ERROR") else "INFO"
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.setLevel(level)  # the libraries' INFO lines (the ONNX exporter's passes) stay out
    try:
        train(config_from_args(sys.argv[1:] if argv is None else argv), emit, token)
        return 0
    except TrainError as err:
        log.error("%s: %s", err.code, err.message)
        emit({"event": "error", "code": err.code, "message": err.message, **err.details})
        return err.exit_status
    except Exception as err:  # anything else is a bug: say so, with the trace on stderr
        traceback.print_exc(file=sys.stderr)
        emit({"event": "error", "code": "internal", "message": f"{type(err).__name__}: {err}"})
        return 1
