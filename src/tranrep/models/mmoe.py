"""Multi-gate Mixture-of-Experts (Ma et al., KDD 2018).

E experts f_e(X) = ReLU(E_e(X)) are shared by all tasks. Each task i has a gate
g_i(X) = softmax(W_{g,i} X) over the experts and a tower:
Ŷ_i = T_i(Σ_e g_i(X)_e f_e(X)).
"""

from __future__ import annotations

import torch
from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import InputLinear, ModelOutput, make_encoder, tower, zero
from tranrep.models.family import POSITIVE_INT, WIDTHS, neural_family


class MMoE(nn.Module):
    """Shared experts, one softmax gate and one tower per task."""

    def __init__(
        self,
        inputs: InputSpec,
        encoder: dict,
        task_outputs: list[int],
        experts: int,
        latent_dim: int,
        tower_hidden: list[int],
    ) -> None:
        super().__init__()
        self.experts = nn.ModuleList(
            make_encoder(inputs, encoder, latent_dim) for _ in range(experts)
        )
        self.gates = nn.ModuleList(InputLinear(inputs, experts) for _ in task_outputs)
        self.towers = nn.ModuleList(tower(latent_dim, tower_hidden, n) for n in task_outputs)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        expert_out = torch.stack([torch.relu(e(x)) for e in self.experts], dim=1)  # (B, E, d)
        gates = torch.stack([torch.softmax(g(x), dim=-1) for g in self.gates], dim=1)
        mixed = gates @ expert_out  # (B, K, d): row i is Σ_e g_i,e f_e
        outputs = [t(mixed[:, i]) for i, t in enumerate(self.towers)]
        return ModelOutput(outputs, zero(self), gates=gates)


FAMILY = neural_family(
    "mmoe",
    MMoE,
    {"experts": POSITIVE_INT, "latent_dim": POSITIVE_INT, "tower_hidden": WIDTHS},
    (
        "The gates read the raw inputs X through one linear map each (W_{g,i} X), as in the MMoE "
        "paper; for images, the flattened pixels.",
    ),
)
