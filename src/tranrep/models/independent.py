"""NN: one independent network per task, nothing shared (the paper's single-task baseline).

Task i has its own network with one hidden layer, Ŷ_i = V_i ReLU(U_i X): for tables U_i is the
tabular encoder's one hidden layer; for images, the encoder's single convolutional stage (a
single-layer CNN). The networks share no parameter and their losses are summed, so their gradients
never meet; they share only the mini-batch order and the epoch chosen on validation.
"""

from __future__ import annotations

import torch
from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import ModelOutput, make_encoder, zero
from tranrep.models.family import neural_family


class IndependentNetworks(nn.Module):
    """K single-hidden-layer networks, one per task."""

    def __init__(self, inputs: InputSpec, encoder: dict, task_outputs: list[int]) -> None:
        super().__init__()
        if inputs.kind == "tabular" and len(encoder["hidden"]) != 1:
            raise ValueError(
                "params.yaml: encoders.tabular.hidden must hold one width for the NN baseline "
                f"(one hidden layer), got {encoder['hidden']}"
            )
        self.networks = nn.ModuleList(make_encoder(inputs, encoder, n) for n in task_outputs)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        return ModelOutput([network(x) for network in self.networks], zero(self))


FAMILY = neural_family(
    "independent",
    IndependentNetworks,
    {},
    (
        "One hidden layer per task: the tabular encoder's hidden layer, or the image encoder's "
        "convolutional stage, then the output layer; the K networks stop at the same epoch.",
    ),
)
