"""
Reading the input: one Arrow IPC file (memory-mapped, no copy), one Parquet file, or a dataset
directory (the project's exports: `manifest.json` plus one file per table, kernel-helpers
src/data/export.ts). The dataset id is the manifest's (`sha256:` of its bytes, as datasetId() in
dataset-manifest.ts), else the sha256 of the input file's bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from .errors import TrainError

ARROW_SUFFIXES = (".arrow", ".ipc", ".feather", ".arrows")
TABLE_SUFFIXES = (".parquet", *ARROW_SUFFIXES, ".jsonl", ".jsonl.zst", ".jsonl.gz")


@dataclass
class Loaded:
    table: pa.Table
    dataset_id: str
    source: str  # "manifest", "file" or "directory"
    path: str
    table_name: str | None = None
    files: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, object]:
        return {
            "id": self.dataset_id,
            "source": self.source,
            "path": self.path,
            "table": self.table_name,
            "files": self.files,
        }


def load(path: str, table: str | None = None) -> Loaded:
    p = Path(path)
    if not p.exists():
        raise TrainError("input_not_found", f"input {path} does not exist", path=path)
    if p.is_dir():
        return _load_directory(p, table)
    return Loaded(_read_file(p), f"sha256:{_sha256(p)}", "file", str(p.resolve()), None, [p.name])


def tables_in(path: str) -> list[str]:
    """The tables a dataset directory holds (empty for a single file)."""
    p = Path(path)
    if not p.is_dir():
        return []
    manifest = p / "manifest.json"
    if manifest.exists():
        return sorted({str(f.get("table")) for f in _manifest(manifest)["files"]})
    return sorted({_table_of(f.name) for f in p.iterdir() if f.name.endswith(TABLE_SUFFIXES)})


def _read_file(p: Path) -> pa.Table:
    name = p.name
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return pq.read_table(p, memory_map=True)
        if name.endswith((".jsonl", ".jsonl.zst", ".jsonl.gz")):
            import pyarrow.json as pj

            with pa.input_stream(str(p), compression="detect") as stream:
                return pj.read_json(stream)
        return _read_arrow(p)
    except TrainError:
        raise
    except (pa.ArrowException, OSError) as err:
        raise TrainError(
            "bad_input", f"{p} could not be read as Arrow, Parquet or JSON lines: {err}", path=str(p)
        ) from err


def _read_arrow(p: Path) -> pa.Table:
    """An Arrow IPC file or stream, memory-mapped: the columns point into the mapping."""
    source = pa.memory_map(str(p), "r")
    try:
        return ipc.open_file(source).read_all()
    except pa.ArrowInvalid:
        source.seek(0)
        return ipc.open_stream(source).read_all()


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _table_of(file_name: str) -> str:
    return file_name.split(".", 1)[0]


def _manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError) as err:
        raise TrainError("dataset_corrupt", f"{path} is not JSON: {err}", path=str(path)) from err
    if (
        not isinstance(manifest, dict)
        or manifest.get("kind") != "mevlab.dataset"
        or not isinstance(manifest.get("files"), list)
    ):
        raise TrainError("dataset_corrupt", f"{path} is not a mevlab dataset manifest", path=str(path))
    return manifest


def _pick_table(tables: list[str], table: str | None, where: Path) -> str:
    if table is not None:
        if table not in tables:
            raise TrainError(
                "bad_input", f"{where} has no table '{table}' (it has: {', '.join(tables) or 'none'})", table=table
            )
        return table
    if len(tables) == 1:
        return tables[0]
    if not tables:
        raise TrainError("empty_input", f"{where} holds no data files", path=str(where))
    raise TrainError(
        "bad_args",
        f"{where} holds several tables ({', '.join(tables)}): name one with --table or --module",
        path=str(where),
    )


def _load_directory(p: Path, table: str | None) -> Loaded:
    manifest_path = p / "manifest.json"
    if not manifest_path.exists():
        return _load_plain_directory(p, table)
    raw = manifest_path.read_bytes()
    manifest = _manifest(manifest_path)
    chosen = _pick_table(sorted({str(f.get("table")) for f in manifest["files"]}), table, p)
    parts: list[pa.Table] = []
    names: list[str] = []
    for entry in manifest["files"]:
        if entry.get("table") != chosen:
            continue
        rel = str(entry.get("path", ""))
        if os.path.isabs(rel) or ".." in Path(rel).parts:
            raise TrainError("dataset_corrupt", f"manifest file path {rel!r} is outside the dataset", path=rel)
        f = p / rel
        _verify(f, entry)
        parts.append(_read_file(f))
        names.append(rel)
    dataset_id = f"sha256:{hashlib.sha256(raw).hexdigest()}"
    return Loaded(_concat(parts), dataset_id, "manifest", str(p.resolve()), chosen, names)


def _verify(f: Path, entry: dict) -> None:
    """A file must be the one the manifest names, or the dataset id would not say what was trained on."""
    if not f.exists():
        raise TrainError("dataset_corrupt", f"{f} is in the manifest but missing", path=str(f))
    size = f.stat().st_size
    if size != entry.get("bytes"):
        raise TrainError(
            "dataset_corrupt", f"{f} has {size} bytes, the manifest says {entry.get('bytes')}", path=str(f)
        )
    if _sha256(f) != entry.get("sha256"):
        raise TrainError("dataset_corrupt", f"{f} does not match the sha256 in the manifest", path=str(f))


def _load_plain_directory(p: Path, table: str | None) -> Loaded:
    files = sorted(f for f in p.iterdir() if f.is_file() and f.name.endswith(TABLE_SUFFIXES))
    chosen = _pick_table(sorted({_table_of(f.name) for f in files}), table, p)
    used = [f for f in files if _table_of(f.name) == chosen]
    listing = "".join(f"{f.name}\0{_sha256(f)}\n" for f in used)
    dataset_id = f"sha256:{hashlib.sha256(listing.encode()).hexdigest()}"
    parts = [_read_file(f) for f in used]
    return Loaded(_concat(parts), dataset_id, "directory", str(p.resolve()), chosen, [f.name for f in used])


def _concat(parts: list[pa.Table]) -> pa.Table:
    if len(parts) == 1:
        return parts[0]
    try:
        return pa.concat_tables(parts, promote_options="default")
    except pa.ArrowInvalid as err:
        raise TrainError("bad_input", f"the dataset's files have different schemas: {err}") from err
