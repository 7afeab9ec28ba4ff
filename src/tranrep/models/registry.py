"""The registry of methods: every module of ``tranrep.models`` that declares a ``FAMILY``.

Adding a method is one module (its model and its ``FAMILY``) and one entry in params.yaml
(``methods.<name>: {family: <its family>, ...options}``).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from tranrep.config import ParamsValidator
from tranrep.data.problems import ProblemData
from tranrep.models.family import Family


@cache
def families() -> dict[str, Family]:
    """Every family, by name, found by importing the modules of ``tranrep.models``."""
    package = importlib.import_module("tranrep.models")
    found: dict[str, Family] = {}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"tranrep.models.{module_info.name}")
        family = getattr(module, "FAMILY", None)
        if isinstance(family, Family):
            if family.name in found:
                raise RuntimeError(f"two modules declare the method family {family.name!r}")
            found[family.name] = family
    return found


def check_method(name: str, method: Any, source: str = "params.yaml") -> list[str]:
    """Problems with the params.yaml entry ``methods.<name>``, as messages (none when valid)."""
    known = families()
    if not isinstance(method, dict) or method.get("family") not in known:
        family = method.get("family") if isinstance(method, dict) else None
        return [f"{source}: methods.{name}.family is {family!r}; expected one of {sorted(known)}"]
    validator = ParamsValidator(known[method["family"]].schema())
    messages = []
    for error in sorted(validator.iter_errors(method), key=lambda e: list(e.absolute_path)):
        where = ".".join(map(str, ["methods", name, *error.absolute_path]))
        messages.append(f"{source}: {where}: {error.message}")
    family = known[method["family"]]
    if not messages and family.check is not None:
        messages += [f"{source}: methods.{name}.{m}" for m in family.check(method)]
    return messages


def family_of(method: dict) -> Family:
    """The family of a method entry; an unknown family is an error naming the choices."""
    known = families()
    if method["family"] not in known:
        raise ValueError(
            f"params.yaml: methods.{method.get('name', '?')}.family is {method['family']!r}; "
            f"expected one of {sorted(known)}"
        )
    return known[method["family"]]


def build_model(problem: ProblemData, method: dict, encoder: dict, seed: int = 0) -> Any:
    """Build the model of ``method`` (its params.yaml entry) for ``problem``."""
    return family_of(method).build(problem, method, encoder, seed)


def count_parameters(model: Any) -> int:
    """Trainable parameters of a neural model, or coefficients of a linear one."""
    if hasattr(model, "n_parameters"):
        return int(model.n_parameters)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
