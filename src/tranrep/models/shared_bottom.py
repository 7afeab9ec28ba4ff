"""Shared-bottom multi-task network (Caruana, 1997).

All tasks share one bottom network h = ReLU(B(X)); each task i has its own tower:
Ŷ_i = T_i(h). Task relationships are fixed by construction: every task sees the same h.
"""

from __future__ import annotations

import torch
from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import ModelOutput, make_encoder, tower, zero
from tranrep.models.family import POSITIVE_INT, WIDTHS, neural_family


class SharedBottom(nn.Module):
    """One shared encoder, one tower per task."""

    def __init__(
        self,
        inputs: InputSpec,
        encoder: dict,
        task_outputs: list[int],
        latent_dim: int,
        tower_hidden: list[int],
    ) -> None:
        super().__init__()
        self.bottom = make_encoder(inputs, encoder, latent_dim)
        self.towers = nn.ModuleList(tower(latent_dim, tower_hidden, n) for n in task_outputs)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        shared = torch.relu(self.bottom(x))
        return ModelOutput([t(shared) for t in self.towers], zero(self))


FAMILY = neural_family(
    "shared_bottom", SharedBottom, {"latent_dim": POSITIVE_INT, "tower_hidden": WIDTHS}
)
