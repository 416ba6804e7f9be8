"""
The one ONNX contract all three models meet: input `features` float32 [N, F] (N symbolic), output
`probability` float32 [N], the positive class's probability; feature names, target and model type in
metadata_props. Also the parity check: onnxruntime against the library's own predictions.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

INPUT = "features"
OUTPUT = "probability"
BATCH = "N"
PARITY_LIMIT = 1e-5


def positive_class(model: Any, probabilities: str) -> Any:
    """Replaces a tree converter's outputs (label, probabilities [N, 2]) by `probability` [N]."""
    from onnx import TensorProto, helper

    graph = model.graph
    graph.initializer.append(helper.make_tensor("positive_class_index", TensorProto.INT64, [], [1]))
    graph.node.append(
        helper.make_node("Gather", [probabilities, "positive_class_index"], [OUTPUT], axis=1, name="positive_class")
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [BATCH]))
    if not any(op.domain in ("", "ai.onnx") for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("", 15))
    return model


def name_batch_dim(model: Any) -> None:
    for value in (*model.graph.input, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = BATCH


def finish(model: Any, features: list[str], target: str, model_type: str) -> bytes:
    """Names, metadata and a structural check; returns the bytes whose sha256 is the model id."""
    import onnx

    name_batch_dim(model)
    del model.metadata_props[:]
    meta = {
        "mevlab.feature_names": json.dumps(features),
        "mevlab.target": target,
        "mevlab.model_type": model_type,
        "mevlab.output": f"{OUTPUT}: P({target} = 1), float32 [N]",
    }
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "mevlab.train"
    model.graph.name = f"mevlab_{model_type}"  # the tree converters name it with a random uuid
    onnx.checker.check_model(model, full_check=True)
    _check_contract(model, len(features))
    return model.SerializeToString()


def _check_contract(model: Any, n_features: int) -> None:
    inputs = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    outs = list(model.graph.output)
    if len(inputs) != 1 or inputs[0].name != INPUT or len(outs) != 1 or outs[0].name != OUTPUT:
        raise ValueError(f"exported graph has inputs {[i.name for i in inputs]} and outputs {[o.name for o in outs]}")
    dims = inputs[0].type.tensor_type.shape.dim
    if len(dims) != 2 or dims[1].dim_value != n_features or inputs[0].type.tensor_type.elem_type != 1:
        raise ValueError(f"exported input is not float32 [N, {n_features}]")


def session(onnx_bytes: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


def parity(onnx_bytes: bytes, x: np.ndarray, native: np.ndarray) -> dict[str, object]:
    """Max abs difference between onnxruntime (CPU) and the library's predictions on the same rows."""
    out = session(onnx_bytes).run([OUTPUT], {INPUT: np.ascontiguousarray(x, dtype=np.float32)})[0]
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    diff = float(np.max(np.abs(out - np.asarray(native, dtype=np.float64).reshape(-1)))) if len(out) else 0.0
    return {"max_abs_diff": diff, "rows": len(out), "limit": PARITY_LIMIT, "ok": diff <= PARITY_LIMIT}
