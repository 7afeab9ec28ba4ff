"""Cross-stitch networks (Misra et al., CVPR 2016).

Every task has its own column (``TaskColumns``). After each encoder stage s (the last one followed
by its ReLU), a cross-stitch unit mixes the columns' activations,

    h̃^s_i = Σ_j α^s_ij h^s_j                                            (Misra et al., eq. 1)

with one learnable K×K matrix α^s per stage (one scalar per pair of tasks, shared over channels
and positions). As Misra et al. recommend for two tasks, α starts at 0.9 on the diagonal and 0.1
off it; for K tasks the off-diagonal entries start at 0.1 / (K − 1), so that rows sum to 1.
"""

from __future__ import annotations

import torch
from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import ModelOutput, zero
from tranrep.models.columns import TaskColumns
from tranrep.models.family import POSITIVE_INT, WIDTHS, neural_family

UNIT_SCHEMA = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}


def initial_stitch(n_tasks: int, self_weight: float) -> torch.Tensor:
    """α at initialisation: ``self_weight`` on the diagonal, the rest shared evenly per row."""
    if n_tasks == 1:
        return torch.ones(1, 1)
    other = (1.0 - self_weight) / (n_tasks - 1)
    return torch.full((n_tasks, n_tasks), other) + (self_weight - other) * torch.eye(n_tasks)


class CrossStitch(nn.Module):
    """Task columns joined by a cross-stitch unit after every encoder stage."""

    def __init__(
        self,
        inputs: InputSpec,
        encoder: dict,
        task_outputs: list[int],
        latent_dim: int,
        tower_hidden: list[int],
        stitch_self_weight: float,
    ) -> None:
        super().__init__()
        self.columns = TaskColumns(inputs, encoder, task_outputs, latent_dim, tower_hidden)
        n_stages = len(self.columns.encoders[0].stages)
        start = initial_stitch(len(task_outputs), stitch_self_weight)
        self.stitches = nn.ParameterList(nn.Parameter(start.clone()) for _ in range(n_stages))

    def forward(self, x: torch.Tensor) -> ModelOutput:
        hidden = [x] * len(self.columns.encoders)
        last = len(self.stitches) - 1
        for stage, alpha in enumerate(self.stitches):
            hidden = [
                enc.stages[stage](h) for enc, h in zip(self.columns.encoders, hidden, strict=True)
            ]
            if stage == last:
                hidden = [torch.relu(h) for h in hidden]
            stacked = torch.stack(hidden, dim=1)  # (B, K, ...)
            mixed = torch.einsum("ij,bj...->bi...", alpha, stacked)
            hidden = list(mixed.unbind(dim=1))
        outputs = [tower(h) for tower, h in zip(self.columns.towers, hidden, strict=True)]
        return ModelOutput(outputs, zero(self))


FAMILY = neural_family(
    "cross_stitch",
    CrossStitch,
    {"latent_dim": POSITIVE_INT, "tower_hidden": WIDTHS, "stitch_self_weight": UNIT_SCHEMA},
    (
        "One cross-stitch unit after every encoder stage (for images: after the convolutional "
        "stage and after the latent layer), one scalar per pair of tasks.",
        "The units learn at the network's learning rate: Adam's steps do not depend on the "
        "gradient's scale, for which Misra et al. raised the units' learning rate under SGD.",
        "For K > 2 tasks the off-diagonal entries start at (1 − self weight) / (K − 1).",
    ),
)
