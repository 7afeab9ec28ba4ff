"""Multiple Relational Attention Network, MRAN (Zhao et al., KDD 2019), from its description.

No code was published; this follows the paper's three relational modules:

1. feature-feature interaction: the inputs become a sequence of d-dimensional feature tokens
   F(X) (one per tabular attribute, one per position of the image encoder's feature maps), and
   multi-head self-attention mixes them, F' = ReLU(F + MHA(F, F, F));
2. task-feature dependence: every task i has a learned embedding q_i that attends over the
   tokens, t_i = q_i + MHA(q_i, F', F');
3. task-task relation: self-attention across the K task representations of each sample,
   r_i = t_i + MHA(t_i, T, T), with T = (t_1, ..., t_K);

and a tower per task, Ŷ_i = T_i(r_i). The K×K weights of step 3 are the sample's task relations.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import ConvStage, ModelOutput, conv_feature_shape, tower, zero
from tranrep.models.family import POSITIVE_INT, WIDTHS, neural_family


class Attention(nn.Module):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017), written out with batched
    matrix products: on a CPU, for short sequences of narrow heads, several times faster than
    ``nn.MultiheadAttention``. Returns the attended values and the weights averaged over heads."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(dim, dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, n_queries, dim = queries.shape
        head_dim = dim // self.heads
        q = self.query(queries).view(batch, n_queries, self.heads, head_dim).transpose(1, 2)
        k, v = (
            self.key_value(keys).view(batch, keys.shape[1], 2, self.heads, head_dim)
            .permute(2, 0, 3, 1, 4)
        )  # fmt: skip
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_dim), dim=-1)
        attended = (weights @ v).transpose(1, 2).reshape(batch, n_queries, dim)
        return self.out(attended), weights.mean(dim=1)


class FeatureTokens(nn.Module):
    """The inputs as tokens of width ``dim``.

    Tables: a real feature x_c gives x_c v_c + u_c; a nominal attribute gives its code's
    embedding. Images: the encoder's convolutional stage, then each position's channel vector
    mapped to ``dim`` plus a learned position embedding.
    """

    def __init__(self, inputs: InputSpec, encoder: dict, dim: int) -> None:
        super().__init__()
        self.inputs = inputs
        if inputs.kind == "image":
            self.conv = ConvStage(
                inputs.shape[0], encoder["channels"], encoder["kernel_size"], encoder["stride"]
            )
            channels, height, width = conv_feature_shape(inputs, encoder)
            self.project = nn.Linear(channels, dim)
            self.position = nn.Parameter(torch.randn(height * width, dim))  # unit scale, as codes
            return
        # unit-scale tokens (nn.Embedding's default), so that attention is not uniform at the start
        self.scale = nn.Parameter(torch.randn(inputs.n_continuous, dim))
        self.shift = nn.Parameter(torch.zeros(inputs.n_continuous, dim))
        self.codes = nn.Embedding(sum(inputs.categories) or 1, dim)
        offsets = torch.tensor(inputs.code_offsets, dtype=torch.long)
        self.register_buffer("offsets", offsets, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.inputs.kind == "image":
            maps = self.conv(x)  # (B, C, H, W)
            return self.project(maps.flatten(2).transpose(1, 2)) + self.position
        split = self.inputs.n_continuous
        tokens = x[:, :split, None] * self.scale + self.shift  # (B, n_continuous, d)
        if self.inputs.categories:
            codes = self.codes(x[:, split:].long() + self.offsets)  # (B, n_nominal, d)
            tokens = torch.cat([tokens, codes], dim=1)
        return tokens


class MRAN(nn.Module):
    """Feature-feature, task-feature and task-task attention, then one tower per task."""

    def __init__(
        self,
        inputs: InputSpec,
        encoder: dict,
        task_outputs: list[int],
        embedding_dim: int,
        attention_heads: int,
        tower_hidden: list[int],
    ) -> None:
        super().__init__()
        if embedding_dim % attention_heads:
            raise ValueError(
                f"params.yaml: methods.*.embedding_dim ({embedding_dim}) must be a multiple of "
                f"attention_heads ({attention_heads})"
            )
        self.tokens = FeatureTokens(inputs, encoder, embedding_dim)

        self.feature_feature = Attention(embedding_dim, attention_heads)
        self.task_feature = Attention(embedding_dim, attention_heads)
        self.task_task = Attention(embedding_dim, attention_heads)
        self.task_embeddings = nn.Parameter(torch.randn(len(task_outputs), embedding_dim))
        self.towers = nn.ModuleList(tower(embedding_dim, tower_hidden, n) for n in task_outputs)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        tokens = self.tokens(x)
        mixed, _ = self.feature_feature(tokens, tokens)
        tokens = torch.relu(tokens + mixed)
        queries = self.task_embeddings.expand(x.shape[0], -1, -1)
        attended, _ = self.task_feature(queries, tokens)
        tasks = queries + attended
        related, relations = self.task_task(tasks, tasks)  # relations: (B, K, K)
        tasks = tasks + related  # no ReLU here: it could silence a task's whole representation
        outputs = [t(tasks[:, i]) for i, t in enumerate(self.towers)]
        return ModelOutput(outputs, zero(self), extras={"task_relations": relations})


def check_options(options: dict) -> list[str]:
    """The attention heads must split the token width evenly."""
    width, heads = options["embedding_dim"], options["attention_heads"]
    if width % heads:
        return [f"embedding_dim ({width}) must be a multiple of attention_heads ({heads})"]
    return []


FAMILY = neural_family(
    "mran",
    MRAN,
    {"embedding_dim": POSITIVE_INT, "attention_heads": POSITIVE_INT, "tower_hidden": WIDTHS},
    (
        "Feature tokens: one per tabular attribute (x_c v_c + u_c for a real one, an embedding "
        "for a nominal one); for images, one per position of the convolutional stage's maps.",
        "Each relational module is one multi-head attention layer with a residual connection; "
        "the paper gives neither depth nor the exact combination.",
        "Order: feature-feature, then task-feature (learned task queries), then task-task "
        "across the K task representations of each sample.",
        "Towers read each task's representation alone; no extra gating or output attention.",
    ),
    check_options,
)
