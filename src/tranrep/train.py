"""Train one (problem, method, seed) job and write its results.

Every neural method gets the same budget: Adam, mini-batches drawn from in-memory tensors, early
stopping on the validation selection score, and the best validation epoch is the one tested.
The loss is eq. 11: Σ_i λ_i L_i + β_W ‖W‖²_F + the model's own term (β_A ‖A − I‖²_F for TRAN),
with L_i the MSE (eq. 12) or cross-entropy (eq. 13).
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
import torch.nn.functional as F
from torch import nn

from tranrep.data.parquet import write_table
from tranrep.data.problems import ProblemData, SplitTensors, TaskSpec
from tranrep.io import write_atomic, write_json
from tranrep.metrics import selection_score, task_metric
from tranrep.models.linear import LinearTaskModels
from tranrep.models.registry import build_model, count_parameters, family_of

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Model outputs on one split: task outputs (probabilities or values), targets in their
    original units, per-task metrics and A when present."""

    outputs: list[np.ndarray]
    truths: list[np.ndarray]
    attention: np.ndarray | None
    metrics: list[float]


def resolve_device(requested: str) -> torch.device:
    """``auto`` picks CUDA when available, else the CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "setting device is 'cuda' (params.yaml or an override) but torch sees no CUDA device"
        )
    return torch.device(requested)


def seed_everything(seed: int, threads: int) -> None:
    """Same seed and settings, same numbers on the CPU."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def task_loss(task: TaskSpec, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 12 (MSE) for regression, eq. 13 (cross-entropy over a softmax) for classification."""
    if task.is_classification:
        return F.cross_entropy(output, target)
    return F.mse_loss(output.squeeze(-1), target)


def squared_norm(model: nn.Module) -> torch.Tensor:
    """‖W‖²_F over every trainable parameter (eq. 11)."""
    return sum(p.pow(2).sum() for p in model.parameters() if p.requires_grad)


def joint_loss(
    model: nn.Module,
    problem: ProblemData,
    x: torch.Tensor,
    targets: list[torch.Tensor],
    task_weights: list[float],
    beta_W: float,
) -> torch.Tensor:
    """Eq. 11 on one mini-batch."""
    result = model(x)
    loss = result.penalty + beta_W * squared_norm(model)
    for weight, task, output, target in zip(
        task_weights, problem.tasks, result.outputs, targets, strict=True
    ):
        loss = loss + weight * task_loss(task, output, target)
    return loss


def score_outputs(
    problem: ProblemData,
    split: SplitTensors,
    outputs: list[np.ndarray],
    attention: np.ndarray | None,
    metric: str,
) -> Evaluation:
    """Per-task metrics from outputs: probabilities for classification, values in standardised
    units for regression (put back into the target's units here)."""
    values, truths = [], []
    for task, output, y in zip(problem.tasks, outputs, split.y, strict=True):
        truth = y.cpu().numpy()
        if task.is_classification:
            values.append(output)
            truths.append(truth)
        else:
            values.append(output * task.target_std + task.target_mean)
            truths.append(truth * task.target_std + task.target_mean)
    metrics = [task_metric(metric, t, o) for t, o in zip(truths, values, strict=True)]
    return Evaluation(values, truths, attention, metrics)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    problem: ProblemData,
    x: torch.Tensor,
    targets: list[torch.Tensor],
    task_weights: list[float],
    beta_W: float,
) -> torch.Tensor:
    """One optimiser step on the eq. 11 loss of a mini-batch; returns that loss."""
    loss = joint_loss(model, problem, x, targets, task_weights, beta_W)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


@torch.no_grad()
def evaluate(
    model: nn.Module, problem: ProblemData, split: SplitTensors, metric: str, batch_size: int
) -> Evaluation:
    """Outputs in original units (probabilities for classification) and per-task metrics."""
    model.eval()
    chunks: list[list[torch.Tensor]] = [[] for _ in problem.tasks]
    attention: list[torch.Tensor] = []
    for start in range(0, len(split), batch_size):
        result = model(split.x[start : start + batch_size])
        for k, (task, output) in enumerate(zip(problem.tasks, result.outputs, strict=True)):
            chunks[k].append(
                torch.softmax(output, dim=-1) if task.is_classification else output.squeeze(-1)
            )
        if result.attention is not None:
            attention.append(result.attention)
    model.train()
    outputs = [torch.cat(c).cpu().numpy() for c in chunks]
    A = torch.cat(attention).cpu().numpy() if attention else None
    return score_outputs(problem, split, outputs, A, metric)


def task_weight_list(problem: ProblemData, weights: dict | None) -> list[float]:
    """λ_i of eq. 11 in task order; tasks not named get 1 (names of other problems' tasks are
    ignored here; params validation rejects names that are no task at all)."""
    weights = weights or {}
    return [float(weights.get(t.name, 1.0)) for t in problem.tasks]


def fit(model: nn.Module, problem: ProblemData, settings: dict) -> tuple[list[dict], int]:
    """Train with early stopping; load the best validation state. Returns the curve, best epoch."""
    training, metric = settings["training"], settings["problem"]["metric"]
    weights = task_weight_list(problem, settings["method"].get("task_weights"))
    optimizer = torch.optim.Adam(model.parameters(), lr=training["learning_rate"])
    train = problem.splits["train"]
    generator = torch.Generator().manual_seed(settings["seed"])
    scales = [t.target_std for t in problem.tasks]
    best_score, best_epoch, best_state = -np.inf, 0, copy.deepcopy(model.state_dict())
    curve: list[dict] = []
    label = f"{settings['problem']['name']}/{settings['method']['name']}/seed{settings['seed']}"
    for epoch in range(1, training["max_epochs"] + 1):
        started = time.perf_counter()
        order = torch.randperm(len(train), generator=generator).to(train.x.device)
        total, batches = 0.0, 0
        for start in range(0, len(train), training["batch_size"]):
            index = order[start : start + training["batch_size"]]
            loss = train_step(
                model, optimizer, problem, train.x[index], [y[index] for y in train.y], weights,
                training["beta_W"],
            )  # fmt: skip
            total, batches = total + loss.item(), batches + 1
        validation = evaluate(
            model, problem, problem.splits["validation"], metric, training["eval_batch_size"]
        )
        score = selection_score(metric, validation.metrics, scales)
        mean_metric = float(np.mean(validation.metrics))
        curve.append(
            {
                "epoch": epoch,
                "train_loss": total / batches,
                "val_metric": mean_metric,
                "val_score": score,
            }
        )
        if score > best_score:
            best_score, best_epoch, best_state = score, epoch, copy.deepcopy(model.state_dict())
        if epoch % training["log_every_epochs"] == 0:
            log.info(
                "%s epoch %d/%d loss %.4f val %s %.4f (best epoch %d) %.1fs", label, epoch,
                training["max_epochs"], total / batches, metric, mean_metric,
                best_epoch, time.perf_counter() - started,
            )  # fmt: skip
        if epoch - best_epoch >= training["patience"]:
            log.info("%s early stop at epoch %d", label, epoch)
            break
    model.load_state_dict(best_state)
    return curve, best_epoch


def prediction_table(problem: ProblemData, split: SplitTensors, result: Evaluation) -> pa.Table:
    """Test predictions: per task the target, the prediction and (binary tasks) the score."""
    columns: dict[str, np.ndarray] = {"row_id": np.asarray(split.row_id, dtype=np.int64)}
    for task, out, truth in zip(problem.tasks, result.outputs, result.truths, strict=True):
        if task.is_classification:
            columns[f"{task.name}_true"] = truth.astype(np.int64)
            columns[f"{task.name}_pred"] = out.argmax(axis=1).astype(np.int64)
            if task.kind == "binary":
                columns[f"{task.name}_score"] = out[:, 1].astype(np.float64)
        else:
            columns[f"{task.name}_true"] = truth
            columns[f"{task.name}_pred"] = out.astype(np.float64)
    return pa.table(columns)


def train_neural(
    model: nn.Module, problem: ProblemData, settings: dict
) -> tuple[Evaluation, list[dict], int, dict]:
    """Fit a neural model (early stopping on validation) and evaluate it on the test split."""
    curve, best_epoch = fit(model, problem, settings)
    test = evaluate(
        model, problem, problem.splits["test"], settings["problem"]["metric"],
        settings["training"]["eval_batch_size"],
    )  # fmt: skip
    return test, curve, best_epoch, {}


def train_linear(
    model: LinearTaskModels, problem: ProblemData, settings: dict
) -> tuple[Evaluation, list[dict], int, dict]:
    """Fit one linear model per task on the training split and evaluate it on the test split.

    The curve has a single point: the validation metric of the fitted models."""
    metric = settings["problem"]["metric"]
    model.fit()
    splits = problem.splits
    validation = score_outputs(
        problem, splits["validation"], model.predict(splits["validation"]), None, metric
    )
    scales = [t.target_std for t in problem.tasks]
    curve = [
        {
            "epoch": 1,
            "train_loss": float("nan"),
            "val_metric": float(np.mean(validation.metrics)),
            "val_score": selection_score(metric, validation.metrics, scales),
        }
    ]
    test = score_outputs(problem, splits["test"], model.predict(splits["test"]), None, metric)
    extra = {"zero_weight_fraction": model.zero_fraction, "solver_converged": model.converged}
    return test, curve, 1, extra


def run_job(problem: ProblemData, settings: dict, out_dir: Path) -> dict:
    """Train, select on validation, test, and write every result file of the job to ``out_dir``."""
    started = time.perf_counter()
    seed_everything(settings["seed"], settings["threads"])
    method = settings["method"]
    family = family_of(method)
    # scikit-learn estimators run on the CPU: a linear job needs no GPU, even under `device: cuda`
    device = resolve_device(settings["device"]) if family.kind == "neural" else torch.device("cpu")
    problem.to(device)
    model = build_model(problem, method, settings.get("encoder", {}), settings["seed"])
    if family.kind == "neural":
        model = model.to(device)
        n_parameters = count_parameters(model)
        log.info("training %s (%d parameters) on %s", method["name"], n_parameters, device)
        test, curve, best_epoch, extra = train_neural(model, problem, settings)
    else:
        log.info("fitting %s (%s, one model per task)", method["name"], family.name)
        test, curve, best_epoch, extra = train_linear(model, problem, settings)
        n_parameters = count_parameters(model)
    metric = settings["problem"]["metric"]
    test_split = problem.splits["test"]
    summary = {
        "problem": settings["problem"]["name"],
        "method": method["name"],
        "family": family.name,
        "kind": family.kind,
        "seed": settings["seed"],
        "metric": metric,
        "test": {t.name: v for t, v in zip(problem.tasks, test.metrics, strict=True)},
        "best_epoch": best_epoch,
        "epochs_run": len(curve),
        "n_parameters": n_parameters,
        **extra,
        "device": str(device),
        "wall_time_s": time.perf_counter() - started,
        "torch": torch.__version__,
        "settings": settings,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    table = prediction_table(problem, test_split, test)
    write_table(out_dir / "predictions.parquet", table, table.schema)
    attention = test.attention if test.attention is not None else np.zeros((0,), np.float32)
    write_atomic(
        out_dir / "attention.npz",
        lambda tmp: np.savez_compressed(
            tmp, A=attention.astype(np.float32), row_id=test_split.row_id
        ),
        ".npz",
    )
    write_atomic(out_dir / "curve.csv", lambda tmp: pd.DataFrame(curve).to_csv(tmp, index=False))
    write_json(out_dir / "metrics.json", summary)
    log.info("%s test %s %s", summary["method"], metric, summary["test"])
    return summary
