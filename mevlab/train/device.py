"""Which device a model trains on: `--gpu false | true | auto`, checked before anything is trained."""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass

from .errors import TrainError

GPU_CHOICES = ("false", "true", "auto")


@dataclass(frozen=True)
class Device:
    kind: str  # "cpu" or "cuda"
    name: str  # "cpu" or the GPU's name
    note: str | None = None  # why `auto` chose the CPU

    @property
    def torch_device(self) -> str:
        return "cuda:0" if self.kind == "cuda" else "cpu"

    def describe(self) -> dict[str, object]:
        return {"device": self.kind, "device_name": self.name, "device_note": self.note}


CPU = Device("cpu", "cpu")


def parse_gpu(value: object) -> str:
    text = str(value).strip().lower()
    text = {"1": "true", "yes": "true", "0": "false", "no": "false", "none": "false"}.get(text, text)
    if text not in GPU_CHOICES:
        raise TrainError("bad_args", f"--gpu takes true, false or auto, not {value!r}")
    return text


@functools.lru_cache(maxsize=1)
def cuda_device_names() -> tuple[str, ...]:
    """The CUDA GPUs this process can use: torch's view when torch is installed, else nvidia-smi's."""
    try:
        import torch

        if torch.cuda.is_available():
            return tuple(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return ()
    except ImportError:
        pass
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(
        line.split(":", 1)[1].split("(UUID")[0].strip() for line in out.stdout.splitlines() if line.startswith("GPU ")
    )


def choose(model: str, gpu: str, library_problem: str | None) -> Device:
    """
    `library_problem`: why the model's library cannot train on CUDA here (None when it can).
    `true` fails when there is no GPU or the library cannot use one; `auto` falls back to the CPU.
    """
    if gpu == "false":
        return CPU
    names = cuda_device_names()
    if library_problem is None and names:
        return Device("cuda", names[0])
    if gpu == "auto":
        return Device("cpu", "cpu", library_problem or "no CUDA GPU is visible")
    if library_problem is not None:
        raise TrainError("gpu_unsupported", f"--gpu true: {library_problem}", model=model)
    raise TrainError(
        "gpu_unavailable",
        f"--gpu true: no usable CUDA GPU is visible to model '{model}' (no driver, no device, or "
        "CUDA_VISIBLE_DEVICES hides it); use --gpu auto or false to train on the CPU",
        model=model,
    )
