"""Linear baselines: one independent scikit-learn estimator per task, on the one-hot inputs.

``design_matrix`` turns a split into the matrix the estimators read (sparse for Census's one-hot
attributes); ``LinearTaskModels`` fits one estimator per task and predicts in the same form as
the neural models' outputs (class probabilities, or values in standardised target units).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse

from tranrep.data.problems import InputSpec, ProblemData, SplitTensors, TaskSpec
from tranrep.models.family import POSITIVE_INT

log = logging.getLogger(__name__)

# Options shared by the linear families' schemas.
POSITIVE = {"type": "number", "exclusiveMinimum": 0}
# Solver iterations, by task kind: epochs of saga/lbfgs for classification, sweeps for regression.
MAX_ITER = {
    "type": "object",
    "required": ["classification", "regression"],
    "additionalProperties": False,
    "properties": {"classification": POSITIVE_INT, "regression": POSITIVE_INT},
}

Estimator = Any
EstimatorFactory = Callable[[TaskSpec, int], Estimator]


def design_matrix(inputs: InputSpec, split: SplitTensors) -> np.ndarray | scipy.sparse.csr_matrix:
    """Rows of one-hot features (see ``InputSpec``): dense for images and real-valued tables,
    sparse CSR when a table has nominal attributes."""
    x = split.x.detach().cpu().numpy()
    if inputs.kind == "image":
        return x.reshape(len(x), -1).astype(np.float64)
    dense = x[:, : inputs.n_continuous].astype(np.float64)
    if not inputs.categories:
        return dense
    codes = x[:, inputs.n_continuous :].astype(np.int64)
    offsets = np.asarray(inputs.code_offsets, dtype=np.int64)
    rows = np.repeat(np.arange(len(x)), len(inputs.categories))
    columns = (codes + offsets).ravel()
    one_hot = scipy.sparse.csr_matrix(
        (np.ones(len(columns)), (rows, columns)), shape=(len(x), sum(inputs.categories))
    )
    return scipy.sparse.hstack([scipy.sparse.csr_matrix(dense), one_hot], format="csr")


class LinearTaskModels:
    """One estimator per task, fitted on the training split alone (no early stopping: each
    estimator is fitted to its solver's tolerance)."""

    def __init__(self, problem: ProblemData, make_estimator: EstimatorFactory, seed: int) -> None:
        self.problem = problem
        self.estimators = [make_estimator(task, seed) for task in problem.tasks]
        self.converged = True

    def fit(self) -> LinearTaskModels:
        from sklearn.exceptions import ConvergenceWarning  # only linear jobs import scikit-learn

        train = self.problem.splits["train"]
        features = design_matrix(self.problem.inputs, train)
        for task, estimator, target in zip(
            self.problem.tasks, self.estimators, train.y, strict=True
        ):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                estimator.fit(features, target.detach().cpu().numpy())
            if any(issubclass(w.category, ConvergenceWarning) for w in caught):
                self.converged = False
                log.warning("%s: the solver stopped at its iteration limit", task.name)
        return self

    def predict(self, split: SplitTensors) -> list[np.ndarray]:
        """Class probabilities (classification) or standardised values (regression), per task."""
        features = design_matrix(self.problem.inputs, split)
        outputs = []
        for task, estimator in zip(self.problem.tasks, self.estimators, strict=True):
            if task.is_classification:
                outputs.append(estimator.predict_proba(features))
            else:
                outputs.append(np.asarray(estimator.predict(features), dtype=np.float64))
        return outputs

    @property
    def coefficients(self) -> list[np.ndarray]:
        return [np.atleast_2d(e.coef_) for e in self.estimators]

    @property
    def n_parameters(self) -> int:
        """Weights and intercepts of every task's model."""
        return sum(c.size + c.shape[0] for c in self.coefficients)

    @property
    def zero_fraction(self) -> float:
        """Share of the weights that are exactly zero (the sparsity an L1 penalty buys)."""
        weights = np.concatenate([c.ravel() for c in self.coefficients])
        return float(np.mean(weights == 0.0))
