"""What every multi-task model returns, and the building blocks the models share."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class ModelOutput:
    """Per-task outputs (logits for classification, values for regression) and extras.

    ``attention`` is the per-sample task correlation matrix A of shape (batch, H, K, K) for the
    TRAN family; ``penalty`` is a model-specific loss term (β_A‖A − I‖²_F for TRAN); ``gates``
    holds MMoE's gate weights (batch, K, experts).
    """

    outputs: list[torch.Tensor]
    penalty: torch.Tensor
    attention: torch.Tensor | None = None
    gates: torch.Tensor | None = None
    extras: dict = field(default_factory=dict)


def mlp(
    widths: list[int],
    activation: type[nn.Module] = nn.ReLU,
    last_bias: bool = True,
    **kwargs,
) -> nn.Sequential:
    """Fully connected layers ``widths[0] -> ... -> widths[-1]``, activation between them only."""
    layers: list[nn.Module] = []
    for k in range(len(widths) - 1):
        is_last = k == len(widths) - 2
        layers.append(nn.Linear(widths[k], widths[k + 1], bias=last_bias or not is_last))
        if k < len(widths) - 2:
            layers.append(activation(**kwargs))
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """A single convolutional layer (ReLU, 2x2 max-pooling), then a linear map to ``out_dim``."""

    def __init__(
        self, input_shape: tuple[int, ...], channels: int, kernel_size: int, stride: int,
        out_dim: int,
    ) -> None:  # fmt: skip
        super().__init__()
        in_channels, height, width = input_shape
        self.conv = nn.Conv2d(in_channels, channels, kernel_size, stride, padding=kernel_size // 2)
        self.pool = nn.MaxPool2d(2)
        with torch.no_grad():
            flat = self.pool(self.conv(torch.zeros(1, in_channels, height, width))).numel()
        self.project = nn.Linear(flat, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = self.pool(torch.relu(self.conv(x)))
        return self.project(hidden.flatten(1))


def make_encoder(
    input_kind: str, input_shape: tuple[int, ...], encoder: dict, out_dim: int
) -> nn.Module:
    """The encoding network W_i of eq. 3: an MLP for tabular inputs, a CNN layer for images."""
    if input_kind == "image":
        return ConvEncoder(
            input_shape, encoder["channels"], encoder["kernel_size"], encoder["stride"], out_dim
        )
    return mlp([input_shape[0], *encoder["hidden"], out_dim])


def tower(in_dim: int, hidden: list[int], n_outputs: int) -> nn.Sequential:
    """A task-specific MLP head."""
    return mlp([in_dim, *hidden, n_outputs])


def zero(reference: nn.Module) -> torch.Tensor:
    """A scalar zero on the module's device, for models without an extra loss term."""
    return torch.zeros((), device=next(reference.parameters()).device)
