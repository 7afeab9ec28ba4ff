"""Multi-gate Mixture-of-Experts (Ma et al., KDD 2018).

E experts f_e(X) = ReLU(E_e(X)) are shared by all tasks. Each task i has a gate
g_i(X) = softmax(W_{g,i} X) over the experts and a tower:
Ŷ_i = T_i(Σ_e g_i(X)_e f_e(X)).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tranrep.models.base import ModelOutput, make_encoder, tower, zero


class MMoE(nn.Module):
    """Shared experts, one softmax gate and one tower per task."""

    def __init__(
        self,
        input_kind: str,
        input_shape: tuple[int, ...],
        encoder: dict,
        task_outputs: list[int],
        experts: int,
        latent_dim: int,
        tower_hidden: list[int],
    ) -> None:
        super().__init__()
        n_inputs = math.prod(input_shape)
        self.experts = nn.ModuleList(
            make_encoder(input_kind, input_shape, encoder, latent_dim) for _ in range(experts)
        )
        self.gates = nn.ModuleList(nn.Linear(n_inputs, experts) for _ in task_outputs)
        self.towers = nn.ModuleList(tower(latent_dim, tower_hidden, n) for n in task_outputs)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        expert_out = torch.stack([torch.relu(e(x)) for e in self.experts], dim=1)  # (B, E, d)
        flat = x.flatten(1)
        gates = torch.stack([torch.softmax(g(flat), dim=-1) for g in self.gates], dim=1)
        mixed = gates @ expert_out  # (B, K, d): row i is Σ_e g_i,e f_e
        outputs = [t(mixed[:, i]) for i, t in enumerate(self.towers)]
        return ModelOutput(outputs, zero(self), gates=gates)
