"""LASSO: an L1-regularised linear model per task (Tibshirani, 1996), fitted by scikit-learn.

Regression: min_w (1/2n) ‖y − Xw − b‖² + α ‖w‖₁ (``sklearn.linear_model.Lasso``).
Classification: min_w (1/n) Σ_n ℓ(y_n, Xw + b) + α ‖w‖₁ with ℓ the logistic (binary) or
multinomial cross-entropy, i.e. ``LogisticRegression`` with an L1 penalty and C = 1/(α n).
The same α means the same strength per sample in both.
"""

from __future__ import annotations

from tranrep.data.problems import ProblemData, TaskSpec
from tranrep.models.family import Family
from tranrep.models.linear import MAX_ITER, POSITIVE, LinearTaskModels


def build(problem: ProblemData, method: dict, encoder: dict, seed: int) -> LinearTaskModels:
    from sklearn.linear_model import Lasso, LogisticRegression  # only linear jobs import it

    n_train = len(problem.splits["train"])

    def make_estimator(task: TaskSpec, task_seed: int) -> Lasso | LogisticRegression:  # noqa: F821
        if not task.is_classification:
            return Lasso(
                alpha=method["l1_strength"], max_iter=method["max_iter"]["regression"],
                tol=method["tol"],
                random_state=task_seed,
            )  # fmt: skip
        return LogisticRegression(
            C=1.0 / (method["l1_strength"] * n_train), l1_ratio=1.0, solver="saga",
            max_iter=method["max_iter"]["classification"], tol=method["tol"],
            random_state=task_seed,
        )  # fmt: skip

    return LinearTaskModels(problem, make_estimator, seed)


FAMILY = Family(
    "lasso",
    "linear",
    {"l1_strength": POSITIVE, "max_iter": MAX_ITER, "tol": POSITIVE},
    build,
    (
        "One model per task on the one-hot inputs; the L1 strength α is a setting, not tuned "
        "on validation; classification uses L1-regularised logistic regression (saga solver).",
    ),
)
