"""What a method module declares so that the registry can find, check and build it.

A method is one module in ``tranrep.models`` with a module-level ``FAMILY`` (a ``Family``), plus
its entry in params.yaml. The registry finds the module by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tranrep.data.problems import ProblemData

# λ_i of eq. 11, accepted by every neural method: task name -> weight; null means 1 for all.
TASK_WEIGHTS_SCHEMA = {
    "oneOf": [
        {"type": "null"},
        {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
    ]
}
# Optional on every method: the problems it runs on (default: all), a grid setting, not a model's.
PROBLEMS_SCHEMA = {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string"}}
POSITIVE_INT = {"type": "integer", "minimum": 1}
WIDTHS = {"type": "array", "items": POSITIVE_INT}
NON_NEGATIVE = {"type": "number", "minimum": 0}

Builder = Callable[[ProblemData, dict[str, Any], dict[str, Any], int], Any]


@dataclass(frozen=True)
class Family:
    """A family of methods: its params.yaml options and how to build a model for a problem.

    ``kind`` is ``neural`` (a torch module trained by ``tranrep.train.fit``) or ``linear`` (one
    scikit-learn estimator per task). ``options`` maps each option to its JSON schema; all are
    required. ``open_choices`` lists what the method's source paper leaves open and what we chose,
    for the report.
    """

    name: str
    kind: str
    options: dict[str, dict]
    build: Builder
    open_choices: tuple[str, ...] = field(default=())
    # Checks across options that a JSON schema cannot state; returns messages (none when valid).
    check: Callable[[dict[str, Any]], list[str]] | None = None

    def schema(self) -> dict:
        """JSON schema of a params.yaml method entry of this family."""
        properties = {"family": {"const": self.name}, "problems": PROBLEMS_SCHEMA, **self.options}
        if self.kind == "neural":
            properties["task_weights"] = TASK_WEIGHTS_SCHEMA
        return {
            "type": "object",
            "required": ["family", *self.options],
            "additionalProperties": False,
            "properties": properties,
        }


def neural_family(
    name: str,
    model_class: type,
    options: dict[str, dict],
    open_choices: tuple[str, ...] = (),
    check: Callable[[dict[str, Any]], list[str]] | None = None,
) -> Family:
    """A family whose model is ``model_class(inputs, encoder, task_outputs, **options)``."""

    def build(problem: ProblemData, method: dict, encoder: dict, seed: int) -> Any:
        chosen = {key: method[key] for key in options}
        return model_class(
            inputs=problem.inputs,
            encoder=encoder,
            task_outputs=[t.n_outputs for t in problem.tasks],
            **chosen,
        )

    return Family(name, "neural", options, build, open_choices, check)
