"""L2-constrained multi-task network (Duong et al., ACL 2015).

Every task has its own column (encoder and tower, ``TaskColumns``); the columns are tied softly by
the penalty

    α Σ_{i<j} ‖θ_i − θ_j‖²                                              (Duong et al., eq. 2)

over the parameters that have a counterpart in every column (encoders and the towers' hidden
layers). Duong et al. tie two tasks; for K > 2 tasks the penalty sums over all pairs.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import ModelOutput
from tranrep.models.columns import TaskColumns
from tranrep.models.family import NON_NEGATIVE, POSITIVE_INT, WIDTHS, neural_family


class L2Constrained(nn.Module):
    """Task columns with the pairwise L2 tie on their shared-shape parameters."""

    def __init__(
        self,
        inputs: InputSpec,
        encoder: dict,
        task_outputs: list[int],
        latent_dim: int,
        tower_hidden: list[int],
        alpha: float,
    ) -> None:
        super().__init__()
        self.columns = TaskColumns(inputs, encoder, task_outputs, latent_dim, tower_hidden)
        self.alpha = alpha
        self.n_tasks = len(task_outputs)

    def tie_penalty(self) -> torch.Tensor:
        """α Σ_{i<j} ‖θ_i − θ_j‖² over the tied parameters."""
        tied = [self.columns.tied_parameters(i) for i in range(self.n_tasks)]
        total = torch.zeros((), device=tied[0][0].device)
        for first, second in itertools.combinations(tied, 2):
            for a, b in zip(first, second, strict=True):
                total = total + (a - b).pow(2).sum()
        return self.alpha * total

    def forward(self, x: torch.Tensor) -> ModelOutput:
        columns = self.columns
        outputs = [
            tower(torch.relu(encode(x)))
            for encode, tower in zip(columns.encoders, columns.towers, strict=True)
        ]
        return ModelOutput(outputs, self.tie_penalty())


FAMILY = neural_family(
    "l2_constrained",
    L2Constrained,
    {"latent_dim": POSITIVE_INT, "tower_hidden": WIDTHS, "alpha": NON_NEGATIVE},
    (
        "Tied: every encoder parameter and the towers' hidden layers; output layers are free.",
        "For K > 2 tasks (SARCOS) the penalty sums over all K(K−1)/2 pairs of columns.",
        "The columns start from independent random initialisations.",
    ),
)
