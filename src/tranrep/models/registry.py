"""The registry of methods: a method family name in params.yaml maps to a model builder.

Adding a method is one module with its model class and one entry here (plus its settings in
params.yaml and the schema).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from tranrep.data.problems import ProblemData
from tranrep.models.mmoe import MMoE
from tranrep.models.shared_bottom import SharedBottom
from tranrep.models.tran import TRAN

TRAINING_ONLY_KEYS = {"name", "family", "task_weights"}


def _builder(model_class: type[nn.Module]) -> Callable[[ProblemData, dict, dict], nn.Module]:
    def build(problem: ProblemData, method: dict, encoder: dict) -> nn.Module:
        options = {k: v for k, v in method.items() if k not in TRAINING_ONLY_KEYS}
        return model_class(
            input_kind=problem.input_kind,
            input_shape=problem.input_shape,
            encoder=encoder,
            task_outputs=[t.n_outputs for t in problem.tasks],
            **options,
        )

    return build


FAMILIES: dict[str, Callable[[ProblemData, dict, dict], nn.Module]] = {
    "shared_bottom": _builder(SharedBottom),
    "mmoe": _builder(MMoE),
    "tran": _builder(TRAN),
}


def build_model(problem: ProblemData, method: dict, encoder: dict) -> nn.Module:
    """Build the model of ``method`` (its params.yaml entry) for ``problem``."""
    family = method["family"]
    if family not in FAMILIES:
        raise ValueError(
            f"params.yaml: methods.*.family is {family!r}; expected one of {sorted(FAMILIES)}"
        )
    return FAMILIES[family](problem, method, encoder)
