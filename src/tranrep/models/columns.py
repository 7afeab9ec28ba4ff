"""One network column per task, the common structure of the L2-constrained and cross-stitch models.

Column i is an encoder E_i (stages, see ``tranrep.models.base.Encoder``) and a tower T_i, with
Ŷ_i = T_i(ReLU(E_i(X))): the architecture of the shared-bottom network, without the sharing.
"""

from __future__ import annotations

from torch import nn

from tranrep.data.problems import InputSpec
from tranrep.models.base import Encoder, make_encoder, tower


class TaskColumns(nn.Module):
    """Per-task encoders and towers of identical shape (output layers aside)."""

    def __init__(
        self,
        inputs: InputSpec,
        encoder: dict,
        task_outputs: list[int],
        latent_dim: int,
        tower_hidden: list[int],
    ) -> None:
        super().__init__()
        self.encoders: list[Encoder] = nn.ModuleList(  # type: ignore[assignment]
            make_encoder(inputs, encoder, latent_dim) for _ in task_outputs
        )
        self.towers = nn.ModuleList(tower(latent_dim, tower_hidden, n) for n in task_outputs)

    def tied_parameters(self, task: int) -> list[nn.Parameter]:
        """Column ``task``'s parameters that have a counterpart in every other column: the
        encoder and the tower's hidden layers, not the output layer."""
        hidden_layers = self.towers[task][:-1]
        return [*self.encoders[task].parameters(), *hidden_layers.parameters()]
