"""What every multi-task model returns, and the building blocks the neural models share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from tranrep.data.problems import InputSpec


@dataclass
class ModelOutput:
    """Per-task outputs (logits for classification, values for regression) and extras.

    ``attention`` is the per-sample task correlation matrix A of shape (batch, H, K, K) for the
    TRAN family; ``penalty`` is a model-specific loss term (β_A‖A − I‖²_F for TRAN, the
    parameter-tying term of the L2-constrained model); ``gates`` holds MMoE's gate weights
    (batch, K, experts).
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


class InputLinear(nn.Module):
    """An affine map W x + b of the inputs X, whatever their kind (see ``InputSpec``).

    Images are flattened. A table's row is read as its one-hot expansion: W x is the dense map of
    the real features plus, for every nominal attribute, the column of W that its code selects, a
    lookup instead of a product with mostly zeros. It is the same function, and the same
    initialisation, as ``nn.Linear(spec.n_features, out_dim)`` on the expanded vector.
    """

    def __init__(self, spec: InputSpec, out_dim: int, bias: bool = True) -> None:
        super().__init__()
        self.spec = spec
        bound = 1.0 / math.sqrt(spec.n_features)  # nn.Linear's default on the expanded input
        dense_in = spec.n_features if spec.kind == "image" else spec.n_continuous
        self.dense = nn.Linear(dense_in, out_dim, bias=bias)
        nn.init.uniform_(self.dense.weight, -bound, bound)
        if bias:
            nn.init.uniform_(self.dense.bias, -bound, bound)
        self.codes: nn.EmbeddingBag | None = None
        if spec.kind == "tabular" and spec.categories:
            self.codes = nn.EmbeddingBag(sum(spec.categories), out_dim, mode="sum")
            nn.init.uniform_(self.codes.weight, -bound, bound)
            offsets = torch.tensor(spec.code_offsets, dtype=torch.long)
            self.register_buffer("offsets", offsets, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.spec.kind == "image":
            return self.dense(x.flatten(1))
        split = self.spec.n_continuous
        out = self.dense(x[:, :split])
        if self.codes is not None:
            out = out + self.codes(x[:, split:].long() + self.offsets)
        return out


class Encoder(nn.Module):
    """An encoding network run as stages; every stage but the last ends in a ReLU.

    Models that act between layers (cross-stitch units) run the stages themselves.
    """

    def __init__(self, stages: list[nn.Module]) -> None:
        super().__init__()
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages:
            x = stage(x)
        return x


class ConvStage(nn.Module):
    """One convolutional layer, ReLU and 2x2 max-pooling."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, kernel_size, stride, padding=kernel_size // 2)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.conv(x)))


def conv_feature_shape(spec: InputSpec, encoder: dict) -> tuple[int, int, int]:
    """(channels, height, width) of the feature maps of an image encoder's convolutional stage."""
    stage = ConvStage(spec.shape[0], encoder["channels"], encoder["kernel_size"], encoder["stride"])
    with torch.no_grad():
        return tuple(stage(torch.zeros(1, *spec.shape)).shape[1:])  # type: ignore[return-value]


def make_encoder(spec: InputSpec, encoder: dict, out_dim: int) -> Encoder:
    """The encoding network W_i of eq. 3 as stages: for tables an MLP (ReLU between layers), for
    images a convolutional stage then a linear map to ``out_dim``."""
    if spec.kind == "image":
        conv = ConvStage(
            spec.shape[0], encoder["channels"], encoder["kernel_size"], encoder["stride"]
        )
        flat = math.prod(conv_feature_shape(spec, encoder))
        return Encoder([conv, nn.Sequential(nn.Flatten(), nn.Linear(flat, out_dim))])
    widths = [*encoder["hidden"], out_dim]
    stages: list[nn.Module] = []
    for index, width in enumerate(widths):
        layer = InputLinear(spec, width) if index == 0 else nn.Linear(widths[index - 1], width)
        stages.append(nn.Sequential(layer, nn.ReLU()) if index < len(widths) - 1 else layer)
    return Encoder(stages)


def tower(in_dim: int, hidden: list[int], n_outputs: int) -> nn.Sequential:
    """A task-specific MLP head."""
    return mlp([in_dim, *hidden, n_outputs])


def zero(reference: nn.Module) -> torch.Tensor:
    """A scalar zero on the module's device, for models without an extra loss term."""
    return torch.zeros((), device=next(reference.parameters()).device)
