"""Fixtures: a small synthetic opportunity table (3,000 rows) and its Arrow IPC file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from mevlab.train.synthetic import opportunities, write_arrow


@pytest.fixture(scope="session")
def table() -> pa.Table:
    return opportunities(3000, seed=11)


@pytest.fixture
def arrow_file(tmp_path: Path, table: pa.Table) -> Path:
    return write_arrow(table, tmp_path / "opps.arrow")
