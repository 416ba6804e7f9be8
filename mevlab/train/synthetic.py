"""
A synthetic opportunity table with the arbitrage module's default features and a `cf_would_land`
label that depends on them through a seeded logistic process with noise (a stand-in for
docs/simulation.md's). For the tests and scripts/gpu-check.py;
the simulated market's own data comes from the agents.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def opportunities(rows: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    tip_ratio = rng.lognormal(0.0, 0.6, rows)
    hotpath = rng.lognormal(np.log(400.0), 0.5, rows)
    competing = rng.poisson(3.0, rows)
    liquidity = rng.lognormal(np.log(5e11), 1.0, rows)
    hops = rng.integers(2, 5, rows)
    leader = rng.integers(0, 4, rows)
    logit = (
        1.8 * np.log(tip_ratio)
        - 0.002 * (hotpath - 400)
        - 0.35 * (competing - 3)
        + 0.3 * np.log(liquidity / 5e11)
        - 0.25 * (hops - 2)
        - 0.6 * (leader == 0)
    )
    would_land = rng.random(rows) < 1 / (1 + np.exp(-(logit + rng.normal(0, 0.5, rows))))
    ts = START_MS + np.cumsum(rng.integers(0, 400, rows))  # ties happen: several rows per millisecond
    return pa.table(
        {
            "ts_ms": pa.array(ts, pa.uint64()),
            "id": pa.array([f"opp-{i}" for i in range(rows)]),
            "f_tip_ratio_p75": tip_ratio,
            "f_hotpath_us": hotpath,
            "f_competing_bundles": pa.array(competing, pa.uint32()),
            "f_pool_liquidity_lamports": pa.array(liquidity.astype(np.uint64), pa.uint64()),
            "f_route_hops": pa.array(hops, pa.uint32()),
            "f_leader_slot_index": pa.array(leader, pa.uint32()),
            "cf_would_land": would_land,
        }
    )


def write_arrow(table: pa.Table, path: str | Path) -> Path:
    path = Path(path)
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return path
