"""Bayesian linear models, one per task.

Regression: Bayesian ridge regression (``sklearn.linear_model.BayesianRidge``): a Gaussian prior
on the weights, whose precision and the noise's are set by maximising the evidence.

Classification: Bayesian logistic regression under a Gaussian prior w ~ N(0, λ⁻¹ I), by the
Laplace approximation. The posterior mode w* is the L2-regularised fit (``LogisticRegression``
with C = 1/λ: λ/2 ‖w‖² + Σ_n ℓ_n); the posterior is approximated by N(w*, H⁻¹) keeping the
diagonal of the Hessian, H_jj = λ + Σ_n p_n(1 − p_n) x_nj² (the intercept has no prior). The
predictive probability uses the probit approximation (MacKay, 1992):
p(y = 1 | x) ≈ σ(μ / √(1 + π s²/8)), μ = w*·x + b, s² = Σ_j x_j² / H_jj. For several classes each
class's logit is moderated in the same way with its own diagonal, then a softmax.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from scipy.special import expit, softmax

from tranrep.data.problems import ProblemData, TaskSpec
from tranrep.models.family import Family
from tranrep.models.linear import MAX_ITER, POSITIVE, LinearTaskModels


def _squared(features: np.ndarray | scipy.sparse.spmatrix) -> np.ndarray | scipy.sparse.spmatrix:
    if scipy.sparse.issparse(features):
        return features.multiply(features).tocsr()
    return features**2


class LaplaceLogistic:
    """Bayesian logistic (or softmax) regression by a diagonal Laplace approximation."""

    def __init__(self, prior_precision: float, max_iter: int, tol: float) -> None:
        from sklearn.linear_model import LogisticRegression  # only linear jobs import it

        self.prior_precision = prior_precision
        self.mode = LogisticRegression(
            C=1.0 / prior_precision, l1_ratio=0.0, solver="lbfgs", max_iter=max_iter, tol=tol
        )

    def fit(self, features, target: np.ndarray) -> LaplaceLogistic:
        self.mode.fit(features, target)
        probabilities = self.mode.predict_proba(features)
        if probabilities.shape[1] == 2:
            probabilities = probabilities[:, 1:]
        curvature = probabilities * (1.0 - probabilities)  # (n, C') per-sample Hessian weights
        squared = _squared(features)
        hessian = np.asarray((squared.T @ curvature).T) + self.prior_precision  # (C', features)
        self.weight_variance = 1.0 / hessian
        self.intercept_variance = 1.0 / curvature.sum(axis=0)
        return self

    @property
    def coef_(self) -> np.ndarray:
        return self.mode.coef_

    def predict_proba(self, features) -> np.ndarray:
        logits = self.mode.decision_function(features)
        if logits.ndim == 1:  # two classes: the positive class's logit
            logits = logits[:, None]
        variance = np.asarray(_squared(features) @ self.weight_variance.T) + self.intercept_variance
        moderated = logits / np.sqrt(1.0 + np.pi * variance / 8.0)
        if moderated.shape[1] == 1:
            positive = expit(moderated[:, 0])
            return np.column_stack([1.0 - positive, positive])
        return softmax(moderated, axis=1)


def build(problem: ProblemData, method: dict, encoder: dict, seed: int) -> LinearTaskModels:
    from sklearn.linear_model import BayesianRidge  # only linear jobs import it

    def make_estimator(task: TaskSpec, task_seed: int) -> BayesianRidge | LaplaceLogistic:
        if not task.is_classification:
            return BayesianRidge(max_iter=method["max_iter"]["regression"], tol=method["tol"])
        iterations = method["max_iter"]["classification"]
        return LaplaceLogistic(method["prior_precision"], iterations, method["tol"])

    return LinearTaskModels(problem, make_estimator, seed)


FAMILY = Family(
    "bayesian",
    "linear",
    {"prior_precision": POSITIVE, "max_iter": MAX_ITER, "tol": POSITIVE},
    build,
    (
        "Regression: Bayesian ridge with evidence-maximised precisions. Classification: "
        "Laplace-approximated Bayesian logistic regression with a diagonal Hessian and the "
        "probit approximation of the predictive probability; the prior precision is a setting.",
    ),
)
