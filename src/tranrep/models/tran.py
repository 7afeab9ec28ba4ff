"""Task Relation Attention Networks, TRAN and multi-head MH-TRAN (Ma and Tan, equations 3–13).

For K tasks sharing the inputs X (X_i = X_s), each task has an encoding network giving
z_i = W_i X_i ∈ R^d. A shared attention network a_t (fully connected, LeakyReLU) scores every
ordered pair of tasks,

    e_ij = a_t(W_i X_i || W_j X_j)                                  (eq. 3)
    α_ij = exp(e_ij) / Σ_k exp(e_ik)                                 (eqs. 4–5)

so that each sample has its own task correlation matrix A = (α_ij) whose rows sum to 1 (eq. 6).
The output layer of a_t has no bias: it would shift every e_ij alike and cancel in the softmax.
The task-specific representation mixes the latent representations of all tasks,

    s_i = Σ_j α_ij W_j X_j                                           (eq. 7)

and with H heads (one attention network a_t^h each) a learned linear map W_H = (w_1, ..., w_H),
w_h ∈ R^{d×d}, combines them: s_i = Σ_h Σ_j w_h α^h_ij W_j X_j (eq. 8). Each task's prediction
layer is Ŷ_i = W^p_i (ReLU(W^e_i s_i) + s_i), with a softmax for classification (eqs. 9–10; the
softmax is folded into the cross-entropy loss). The model's extra loss term is
β_A ‖A − I‖²_F (eq. 11), summed over heads and averaged over the samples of a batch; the
task losses (eqs. 12–13), their weights λ_i and β_W ‖W‖²_F are applied by the trainer.

TRAN-static (``relations: static``, beyond the paper) replaces a_t by one learned score matrix per
head, A^h = softmax(E^h) row by row, the same for every input: everything else is TRAN's. It tests
the paper's claim that relations which depend on the input help.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import ModelOutput, make_encoder, mlp
from tranrep.models.family import NON_NEGATIVE, POSITIVE_INT, WIDTHS, neural_family


class PredictionLayer(nn.Module):
    """Eqs. 9–10: Ŷ_i = W^p_i (ReLU(W^e_i s_i) + s_i)."""

    def __init__(self, latent_dim: int, n_outputs: int) -> None:
        super().__init__()
        self.embed = nn.Linear(latent_dim, latent_dim)
        self.predict = nn.Linear(latent_dim, n_outputs)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.predict(torch.relu(self.embed(s)) + s)


class TRAN(nn.Module):
    """TRAN (``heads == 1``), MH-TRAN (``heads > 1``) and TRAN-static (``relations: static``)."""

    def __init__(
        self,
        inputs: InputSpec,
        encoder: dict,
        task_outputs: list[int],
        heads: int,
        latent_dim: int,
        attention_hidden: list[int],
        leaky_relu_slope: float,
        beta_A: float,
        relations: str = "dynamic",
    ) -> None:
        super().__init__()
        if relations not in ("dynamic", "static"):
            raise ValueError(f"relations is {relations!r}; expected 'dynamic' or 'static'")
        self.n_tasks = len(task_outputs)
        self.heads = heads
        self.beta_A = beta_A
        self.encoders = nn.ModuleList(
            make_encoder(inputs, encoder, latent_dim) for _ in task_outputs
        )
        self.attention = nn.ModuleList(
            mlp(
                [2 * latent_dim, *attention_hidden, 1],
                nn.LeakyReLU,
                last_bias=False,  # a constant added to every e_ij cancels in the softmax
                negative_slope=leaky_relu_slope,
            )
            for _ in range(heads if relations == "dynamic" else 0)
        )
        # TRAN-static: scores E^h start at zero, so A starts uniform, as a_t's near-zero output does
        self.static_scores = (
            nn.Parameter(torch.zeros(heads, self.n_tasks, self.n_tasks))
            if relations == "static"
            else None
        )
        self.combine_heads = (
            nn.Linear(heads * latent_dim, latent_dim, bias=False) if heads > 1 else None
        )
        self.prediction = nn.ModuleList(PredictionLayer(latent_dim, n) for n in task_outputs)

    def correlation_matrix(self, z: torch.Tensor) -> torch.Tensor:
        """Eqs. 3–6: A of shape (batch, H, K, K) from the latent representations z (batch, K, d)."""
        batch = z.shape[0]
        if self.static_scores is not None:
            return torch.softmax(self.static_scores, dim=-1).expand(batch, -1, -1, -1)
        scores = torch.stack([self.pair_scores(a_t, z) for a_t in self.attention], dim=1)
        return torch.softmax(scores, dim=-1)

    @staticmethod
    def pair_scores(a_t: nn.Sequential, z: torch.Tensor) -> torch.Tensor:
        """e_ij = a_t(z_i || z_j) of eq. 3 for every ordered pair, shape (batch, K, K).

        a_t's first layer is linear, so on z_i || z_j it equals U z_i + V z_j + b with
        (U V) its weight: computed per task, then summed per pair, K times cheaper than
        applying it to the K² concatenations."""
        first, rest = a_t[0], a_t[1:]
        d = z.shape[-1]
        left = F.linear(z, first.weight[:, :d], first.bias)  # (B, K, hidden): U z_i + b
        right = F.linear(z, first.weight[:, d:])  # (B, K, hidden): V z_j
        return rest(left.unsqueeze(2) + right.unsqueeze(1)).squeeze(-1)

    def attention_penalty(self, A: torch.Tensor) -> torch.Tensor:
        """β_A ‖A − I‖²_F of eq. 11, summed over heads and averaged over samples."""
        identity = torch.eye(self.n_tasks, device=A.device, dtype=A.dtype)
        return self.beta_A * (A - identity).pow(2).sum(dim=(1, 2, 3)).mean()

    def forward(self, x: torch.Tensor) -> ModelOutput:
        z = torch.stack([encode(x) for encode in self.encoders], dim=1)  # (B, K, d): W_i X_i
        A = self.correlation_matrix(z)
        s = A @ z.unsqueeze(1)  # (B, H, K, d): eq. 7 per head
        if self.combine_heads is None:
            s = s[:, 0]
        else:
            batch = z.shape[0]
            s = self.combine_heads(s.permute(0, 2, 1, 3).reshape(batch, self.n_tasks, -1))
        outputs = [layer(s[:, i]) for i, layer in enumerate(self.prediction)]
        return ModelOutput(outputs, self.attention_penalty(A), attention=A)


FAMILY = neural_family(
    "tran",
    TRAN,
    {
        "heads": POSITIVE_INT,
        "latent_dim": POSITIVE_INT,
        "attention_hidden": WIDTHS,
        "leaky_relu_slope": NON_NEGATIVE,
        "beta_A": NON_NEGATIVE,
        "relations": {"enum": ["dynamic", "static"]},
    },
    (
        "Eq. 11's β_A‖A − I‖²_F is applied per sample and per head, averaged over a batch.",
        "W_H of eq. 8 is one d×d matrix per head (a linear map on the concatenated heads).",
        "The output layer of a_t has no bias (it would cancel in the softmax of eq. 4).",
    ),
)
