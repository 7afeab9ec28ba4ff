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
"""

from __future__ import annotations

import torch
from torch import nn

from tranrep.models.base import ModelOutput, make_encoder, mlp


class PredictionLayer(nn.Module):
    """Eqs. 9–10: Ŷ_i = W^p_i (ReLU(W^e_i s_i) + s_i)."""

    def __init__(self, latent_dim: int, n_outputs: int) -> None:
        super().__init__()
        self.embed = nn.Linear(latent_dim, latent_dim)
        self.predict = nn.Linear(latent_dim, n_outputs)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.predict(torch.relu(self.embed(s)) + s)


class TRAN(nn.Module):
    """TRAN (``heads == 1``) and MH-TRAN (``heads > 1``)."""

    def __init__(
        self,
        input_kind: str,
        input_shape: tuple[int, ...],
        encoder: dict,
        task_outputs: list[int],
        heads: int,
        latent_dim: int,
        attention_hidden: list[int],
        leaky_relu_slope: float,
        beta_A: float,
    ) -> None:
        super().__init__()
        self.n_tasks = len(task_outputs)
        self.heads = heads
        self.beta_A = beta_A
        self.encoders = nn.ModuleList(
            make_encoder(input_kind, input_shape, encoder, latent_dim) for _ in task_outputs
        )
        self.attention = nn.ModuleList(
            mlp(
                [2 * latent_dim, *attention_hidden, 1],
                nn.LeakyReLU,
                last_bias=False,  # a constant added to every e_ij cancels in the softmax
                negative_slope=leaky_relu_slope,
            )
            for _ in range(heads)
        )
        self.combine_heads = (
            nn.Linear(heads * latent_dim, latent_dim, bias=False) if heads > 1 else None
        )
        self.prediction = nn.ModuleList(PredictionLayer(latent_dim, n) for n in task_outputs)

    def correlation_matrix(self, z: torch.Tensor) -> torch.Tensor:
        """Eqs. 3–6: A of shape (batch, H, K, K) from the latent representations z (batch, K, d)."""
        batch, k, d = z.shape
        pairs = torch.cat(
            [z.unsqueeze(2).expand(batch, k, k, d), z.unsqueeze(1).expand(batch, k, k, d)], dim=-1
        )  # pairs[b, i, j] = z_i || z_j
        scores = torch.stack([a_t(pairs).squeeze(-1) for a_t in self.attention], dim=1)
        return torch.softmax(scores, dim=-1)

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
