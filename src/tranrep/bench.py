"""Training throughput per method and problem: ``make bench`` (``tranrep bench``).

For every (problem, method) a fresh process loads the processed data and measures

* samples per second of the trainer's own loop (mini-batches sliced from in-memory tensors by a
  shuffled index, as ``tranrep.train.fit`` does);
* samples per second of the same model and optimiser fed by a plain
  ``torch.utils.data.DataLoader`` over a ``TensorDataset`` (per-sample indexing and collation),
  and the ratio of the two, measured in the same process;
* the process's peak resident memory.

Linear methods have no mini-batch loop: their rate is training rows per second of one fit.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from tranrep.config import job_settings, processed_folder

log = logging.getLogger(__name__)


@dataclass
class BenchResult:
    """One (problem, method) measurement."""

    problem: str
    method: str
    kind: str
    batch_size: int
    samples_per_s: float
    dataloader_samples_per_s: float | None
    ratio_vs_dataloader: float | None
    peak_memory_mb: float
    n_parameters: int


def _neural_rates(model, problem, settings: dict, steps: int) -> tuple[float, float]:
    """Samples per second of the in-memory loop and of a DataLoader loop, same model."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from tranrep.train import task_weight_list, train_step

    training = settings["training"]
    batch = training["batch_size"]
    train = problem.splits["train"]
    weights = task_weight_list(problem, settings["method"].get("task_weights"))
    optimizer = torch.optim.Adam(model.parameters(), lr=training["learning_rate"])

    def step(x, targets) -> None:
        train_step(model, optimizer, problem, x, targets, weights, training["beta_W"])

    def in_memory(n_steps: int) -> float:
        generator = torch.Generator().manual_seed(0)
        order = torch.randperm(len(train), generator=generator)
        started, seen = time.perf_counter(), 0
        for k in range(n_steps):
            start = (k * batch) % max(len(train) - batch, 1)
            index = order[start : start + batch]
            step(train.x[index], [y[index] for y in train.y])
            seen += len(index)
        return seen / (time.perf_counter() - started)

    def with_dataloader(n_steps: int) -> float:
        loader = DataLoader(TensorDataset(train.x, *train.y), batch_size=batch, shuffle=True)
        started, seen = time.perf_counter(), 0
        while seen < n_steps * batch:
            for x, *targets in loader:
                step(x, targets)
                seen += len(x)
                if seen >= n_steps * batch:
                    break
        return seen / (time.perf_counter() - started)

    in_memory(3)  # warm-up
    return in_memory(steps), with_dataloader(steps)


def bench_one(config: dict, problem_name: str, method: str, steps: int) -> BenchResult:
    """Measure one (problem, method) in this process (call it in a fresh one)."""
    from tranrep.data.problems import load_problem
    from tranrep.models.registry import build_model, count_parameters, family_of
    from tranrep.train import seed_everything

    settings = job_settings(config, problem_name, method, seed=0)
    settings["device"] = "cpu"
    seed_everything(0, settings["threads"])
    problem_cfg = config["problems"][problem_name]
    folder = processed_folder(config, problem_cfg["dataset"])
    problem = load_problem(
        problem_name, problem_cfg["dataset"], problem_cfg["tasks"],
        Path(config["data"]["processed_dir"]) / folder,
    )  # fmt: skip
    family = family_of(settings["method"])
    model = build_model(problem, settings["method"], settings.get("encoder", {}), 0)
    if family.kind == "linear":
        started = time.perf_counter()
        model.fit()
        rate = len(problem.splits["train"]) / (time.perf_counter() - started)
        loader_rate, batch = None, len(problem.splits["train"])
    else:
        rate, loader_rate = _neural_rates(model, problem, settings, steps)
        batch = settings["training"]["batch_size"]
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return BenchResult(
        problem=problem_name,
        method=method,
        kind=family.kind,
        batch_size=batch,
        samples_per_s=rate,
        dataloader_samples_per_s=loader_rate,
        ratio_vs_dataloader=rate / loader_rate if loader_rate else None,
        peak_memory_mb=peak_kb / 1024,
        n_parameters=count_parameters(model),
    )


def run_bench(
    config: dict, problems: list[str], methods: list[str], steps: int, out_csv: Path
) -> pd.DataFrame:
    """Measure every (problem, method), each in a fresh process, and write a CSV table."""
    from tranrep.io import write_atomic

    context = multiprocessing.get_context("spawn")
    rows = []
    for problem in problems:
        for method in methods:
            with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
                result = pool.submit(bench_one, config, problem, method, steps).result()
            log.info(
                "%s/%s: %.0f samples/s, ratio vs DataLoader %s, peak %.0f MB", problem, method,
                result.samples_per_s,
                f"{result.ratio_vs_dataloader:.1f}" if result.ratio_vs_dataloader else "n/a",
                result.peak_memory_mb,
            )  # fmt: skip
            rows.append(asdict(result))
    table = pd.DataFrame(rows)
    write_atomic(out_csv, lambda tmp: table.to_csv(tmp, index=False))
    return table
