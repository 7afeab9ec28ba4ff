"""Shared-bottom multi-task network (Caruana, 1997).

All tasks share one bottom network h = ReLU(B(X)); each task i has its own tower:
Ŷ_i = T_i(h). Task relationships are fixed by construction: every task sees the same h.
"""

from __future__ import annotations

import torch
from torch import nn

from tranrep.models.base import ModelOutput, make_encoder, tower, zero


class SharedBottom(nn.Module):
    """One shared encoder, one tower per task."""

    def __init__(
        self,
        input_kind: str,
        input_shape: tuple[int, ...],
        encoder: dict,
        task_outputs: list[int],
        latent_dim: int,
        tower_hidden: list[int],
    ) -> None:
        super().__init__()
        self.bottom = make_encoder(input_kind, input_shape, encoder, latent_dim)
        self.towers = nn.ModuleList(tower(latent_dim, tower_hidden, n) for n in task_outputs)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        shared = torch.relu(self.bottom(x))
        return ModelOutput([t(shared) for t in self.towers], zero(self))
