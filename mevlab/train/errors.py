"""The trainer's errors: each has a stable `code` (the NDJSON `error` event's) and an exit status."""

from __future__ import annotations

# code -> exit status. 2: the input or the arguments; 3: the GPU; 4: the export or its parity check;
# 5: a missing library; 1: anything unexpected. A cancelled run exits 128 + the signal's number.
EXIT_STATUS: dict[str, int] = {
    "bad_args": 2,
    "bad_params": 2,
    "unknown_model": 2,
    "input_not_found": 2,
    "bad_input": 2,
    "dataset_corrupt": 2,
    "empty_input": 2,
    "empty_split": 2,
    "one_class": 2,
    "missing_target": 2,
    "bad_target": 2,
    "missing_feature": 2,
    "text_feature": 2,
    "nan_feature": 2,
    "missing_time_column": 2,
    "bad_time_column": 2,
    "gpu_unavailable": 3,
    "gpu_unsupported": 3,
    "gpu_fallback": 3,
    "parity_failed": 4,
    "export_failed": 4,
    "dependency_missing": 5,
    "cancelled": 130,
    "internal": 1,
}


class TrainError(Exception):
    """A failure the user can act on. `details` go into the error event as they are."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        if code not in EXIT_STATUS:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.code]


class Cancelled(TrainError):
    """The run was asked to stop (SIGTERM, SIGINT or the caller's cancel)."""

    def __init__(self, signum: int | None = None) -> None:
        name = {2: "SIGINT", 15: "SIGTERM"}.get(signum or 0, "a cancel request")
        super().__init__("cancelled", f"cancelled by {name}; nothing was written", signal=signum)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum if self.signum else 130


def require(module: str, model: str) -> object:
    """Imports an optional library, or says which extra provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise TrainError(
            "dependency_missing",
            f"model '{model}' needs the Python package '{module}', which is not installed here "
            f"(pip install 'mevlab[train]', or scripts/setup.sh --train)",
            package=module,
        ) from err
