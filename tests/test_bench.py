"""The benchmark script measures both loops on the same model, in a fresh process per case."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tranrep.bench import run_bench
from tranrep.config import deep_merge


def test_bench_reports_rates_memory_and_the_dataloader_ratio(
    fixture_config: dict, processed_dir: Path, tmp_path: Path
):
    config = deep_merge(fixture_config, {"data": {"processed_dir": str(processed_dir)}})
    out = tmp_path / "bench.csv"
    table = run_bench(config, ["sarcos"], ["tran", "lasso"], steps=3, out_csv=out)
    assert out.is_file() and len(pd.read_csv(out)) == 2
    neural = table.set_index("method").loc["tran"]
    assert neural["samples_per_s"] > 0 and neural["dataloader_samples_per_s"] > 0
    ratio = neural["samples_per_s"] / neural["dataloader_samples_per_s"]
    assert abs(neural["ratio_vs_dataloader"] - ratio) < 1e-9
    assert neural["peak_memory_mb"] > 50 and neural["n_parameters"] > 0
    linear = table.set_index("method").loc["lasso"]
    assert linear["samples_per_s"] > 0 and pd.isna(linear["ratio_vs_dataloader"])
