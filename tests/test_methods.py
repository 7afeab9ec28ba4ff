"""The baselines' defining properties: input encoding, L2 tie, cross-stitch units, MRAN, the
independent networks, the linear models, and the registry."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from tranrep.data.problems import InputSpec, ProblemData, SplitTensors, TaskSpec
from tranrep.models.base import InputLinear
from tranrep.models.cross_stitch import CrossStitch
from tranrep.models.independent import IndependentNetworks
from tranrep.models.l2_constrained import L2Constrained
from tranrep.models.linear import design_matrix
from tranrep.models.mran import MRAN
from tranrep.models.registry import build_model, check_method, families

TABULAR = {"kind": "mlp", "hidden": [16]}
IMAGE = {"kind": "cnn", "channels": 4, "kernel_size": 5, "stride": 2}
MIXED = InputSpec("tabular", (5,), n_continuous=2, categories=(3, 4, 2))
PICTURE = InputSpec("image", (1, 28, 28))


def mixed_rows(n: int, seed: int = 0) -> torch.Tensor:
    """Rows of MIXED: two real features, then codes of attributes with 3, 4 and 2 values."""
    generator = torch.Generator().manual_seed(seed)
    real = torch.randn(n, 2, generator=generator)
    codes = [torch.randint(0, k, (n, 1), generator=generator).float() for k in (3, 4, 2)]
    return torch.cat([real, *codes], dim=1)


def one_hot_rows(x: torch.Tensor) -> torch.Tensor:
    blocks = [x[:, :2]]
    for index, size in enumerate((3, 4, 2)):
        blocks.append(nn.functional.one_hot(x[:, 2 + index].long(), size).float())
    return torch.cat(blocks, dim=1)


def test_input_linear_is_a_linear_map_of_the_one_hot_expansion():
    torch.manual_seed(0)
    layer = InputLinear(MIXED, 6)
    assert MIXED.n_features == 11 and MIXED.code_offsets == (0, 3, 7)
    x = mixed_rows(20)
    weight = torch.cat([layer.dense.weight, layer.codes.weight.T], dim=1)  # (6, 11)
    expected = one_hot_rows(x) @ weight.T + layer.dense.bias
    assert torch.allclose(layer(x), expected, atol=1e-6)
    bound = 1 / math.sqrt(11)  # nn.Linear(11, 6)'s initial range
    assert weight.abs().max() <= bound and layer.dense.bias.abs().max() <= bound


def test_design_matrix_of_linear_methods_is_the_same_expansion():
    x = mixed_rows(9)
    split = SplitTensors(x, [torch.zeros(9)], np.arange(9))
    matrix = design_matrix(MIXED, split).toarray()
    assert np.allclose(matrix, one_hot_rows(x).numpy())


def make_l2(alpha: float = 0.3) -> L2Constrained:
    torch.manual_seed(0)
    return L2Constrained(MIXED, TABULAR, [2, 3, 1], latent_dim=8, tower_hidden=[4], alpha=alpha)


def test_l2_penalty_equals_its_formula_over_all_pairs():
    model = make_l2(0.3)
    result = model(mixed_rows(4))
    columns = model.columns
    expected = 0.0
    for i, j in itertools.combinations(range(3), 2):
        for a, b in zip(
            columns.encoders[i].parameters(), columns.encoders[j].parameters(), strict=True
        ):
            expected += float((a - b).detach().pow(2).sum())
        hidden_i, hidden_j = columns.towers[i][0], columns.towers[j][0]  # tower hidden layer
        expected += float((hidden_i.weight - hidden_j.weight).detach().pow(2).sum())
        expected += float((hidden_i.bias - hidden_j.bias).detach().pow(2).sum())
    assert result.penalty.item() == pytest.approx(0.3 * expected, rel=1e-5)


def test_l2_penalty_is_zero_for_identical_columns_and_ignores_output_layers():
    model = make_l2(1.0)
    columns = model.columns
    with torch.no_grad():
        for other in (1, 2):
            for a, b in zip(
                columns.tied_parameters(0), columns.tied_parameters(other), strict=True
            ):
                b.copy_(a)
    assert model(mixed_rows(3)).penalty.item() == 0.0
    assert len(columns.tied_parameters(0)) == len(list(columns.encoders[0].parameters())) + 2


def test_l2_penalty_pulls_the_columns_together():
    model = make_l2(1.0)
    model(mixed_rows(3)).penalty.backward()
    first = model.columns.encoders[0].stages[0][0].dense.weight
    second = model.columns.encoders[1].stages[0][0].dense.weight
    third = model.columns.encoders[2].stages[0][0].dense.weight
    assert torch.allclose(first.grad, 2 * ((first - second) + (first - third)), atol=1e-6)


@pytest.mark.parametrize(("spec", "encoder", "n_tasks"), [(MIXED, TABULAR, 2), (PICTURE, IMAGE, 3)])
def test_cross_stitch_units_start_documented_and_learn(spec, encoder, n_tasks):
    torch.manual_seed(0)
    model = CrossStitch(spec, encoder, [2] * n_tasks, latent_dim=8, tower_hidden=[4],
                        stitch_self_weight=0.9)  # fmt: skip
    assert len(model.stitches) == 2  # after each of the two encoder stages
    off = 0.1 / (n_tasks - 1)
    expected = torch.full((n_tasks, n_tasks), off) + (0.9 - off) * torch.eye(n_tasks)
    for alpha in model.stitches:
        assert torch.allclose(alpha, expected)
        assert torch.allclose(alpha.sum(1), torch.ones(n_tasks))
    x = mixed_rows(6) if spec is MIXED else torch.randn(6, 1, 28, 28)
    result = model(x)
    sum(o.pow(2).mean() for o in result.outputs).backward()
    for alpha in model.stitches:
        assert alpha.grad is not None and alpha.grad.abs().sum() > 0


def test_cross_stitch_with_identity_units_is_independent_columns():
    torch.manual_seed(0)
    model = CrossStitch(MIXED, TABULAR, [2, 2], latent_dim=8, tower_hidden=[4],
                        stitch_self_weight=0.9)  # fmt: skip
    with torch.no_grad():
        for alpha in model.stitches:
            alpha.copy_(torch.eye(2))
    x = mixed_rows(5)
    columns = model.columns
    alone = columns.towers[1](torch.relu(columns.encoders[1](x)))
    assert torch.allclose(model(x).outputs[1], alone, atol=1e-6)


@pytest.mark.parametrize(("spec", "encoder"), [(MIXED, TABULAR), (PICTURE, IMAGE)])
def test_mran_outputs_relations_and_gradients(spec, encoder):
    torch.manual_seed(0)
    model = MRAN(spec, encoder, [2, 3, 1], embedding_dim=8, attention_heads=2, tower_hidden=[4])
    x = mixed_rows(32) if spec is MIXED else torch.randn(32, 1, 28, 28)
    result = model(x)
    assert [o.shape for o in result.outputs] == [(32, 2), (32, 3), (32, 1)]
    relations = result.extras["task_relations"]
    assert relations.shape == (32, 3, 3)
    assert torch.allclose(relations.sum(-1), torch.ones(32, 3), atol=1e-6)
    sum(o.pow(2).mean() for o in result.outputs).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert missing == []


def test_mran_rejects_heads_that_do_not_divide_the_width():
    with pytest.raises(ValueError, match="multiple of attention_heads"):
        MRAN(MIXED, TABULAR, [2], embedding_dim=6, attention_heads=4, tower_hidden=[])


def test_independent_networks_share_nothing():
    torch.manual_seed(0)
    model = IndependentNetworks(MIXED, TABULAR, [2, 1])
    assert len(model.networks[0].stages) == 2  # one hidden layer, then the output layer
    model(mixed_rows(3)).outputs[0].sum().backward()
    grads = [p.grad for p in model.networks[1].parameters()]
    assert all(g is None for g in grads)
    with pytest.raises(ValueError, match="one hidden layer"):
        IndependentNetworks(MIXED, {"kind": "mlp", "hidden": [8, 8]}, [2])


def linear_problem(n: int = 400, seed: int = 0) -> ProblemData:
    """Two tasks on 30 real features: a sparse binary one and a sparse regression."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 30)).astype(np.float32)
    logit = 3 * x[:, 0] - 2 * x[:, 1]
    label = (logit + rng.logistic(size=n) > 0).astype(np.int64)
    value = (x[:, 2] - x[:, 3] + 0.1 * rng.normal(size=n)).astype(np.float32)
    cut = {"train": slice(0, n // 2), "validation": slice(n // 2, 3 * n // 4),
           "test": slice(3 * n // 4, n)}  # fmt: skip
    splits = {
        name: SplitTensors(
            torch.from_numpy(x[part]),
            [torch.from_numpy(label[part]), torch.from_numpy(value[part])],
            np.arange(n)[part],
        )  # fmt: skip
        for name, part in cut.items()
    }
    tasks = [TaskSpec("label", "binary", 2), TaskSpec("value", "regression", 1)]
    return ProblemData("toy", InputSpec("tabular", (30,), 30), tasks, splits)


def fitted_lasso(strength: float):
    method = {
        "family": "lasso",
        "l1_strength": strength,
        "tol": 1e-5,
        "max_iter": {"classification": 2000, "regression": 2000},
    }
    return build_model(linear_problem(), method, {}, seed=0).fit()


def test_lasso_sparsity_grows_with_the_l1_strength():
    weak, strong = fitted_lasso(1e-4), fitted_lasso(0.05)
    assert strong.zero_fraction > weak.zero_fraction + 0.3
    assert strong.zero_fraction < 1.0  # the true features survive
    for coefficients in strong.coefficients:  # the surviving weights are the informative ones
        kept = set(np.flatnonzero(np.abs(coefficients).max(axis=0)))
        assert kept and kept <= {0, 1, 2, 3}


def test_bayesian_logistic_probabilities_are_moderated_map_probabilities():
    problem = linear_problem()
    method = {
        "family": "bayesian",
        "prior_precision": 1.0,
        "tol": 1e-6,
        "max_iter": {"classification": 500, "regression": 300},
    }
    model = build_model(problem, method, {}, seed=0).fit()
    outputs = model.predict(problem.splits["test"])
    probabilities, values = outputs
    assert probabilities.shape == (100, 2) and np.allclose(probabilities.sum(1), 1.0)
    classifier = model.estimators[0]
    features = design_matrix(problem.inputs, problem.splits["test"])
    plain = classifier.mode.predict_proba(features)[:, 1]
    moderated = probabilities[:, 1]
    # the predictive is pulled towards 1/2, never across it
    assert np.all(np.abs(moderated - 0.5) <= np.abs(plain - 0.5) + 1e-12)
    assert np.all((moderated - 0.5) * (plain - 0.5) >= 0)
    assert values.shape == (100,)


def test_registry_finds_every_family_and_checks_options():
    assert {"lasso", "bayesian", "independent", "shared_bottom", "l2_constrained",
            "cross_stitch", "mmoe", "mran", "tran"} <= set(families())  # fmt: skip
    good = {
        "family": "cross_stitch",
        "latent_dim": 8,
        "tower_hidden": [],
        "stitch_self_weight": 0.9,
    }
    assert check_method("csn", good) == []
    errors = check_method("csn", {**good, "stitch_self_weight": 1.5, "typo": 1})
    assert any("methods.csn.stitch_self_weight" in e for e in errors)
    assert any("'typo'" in e for e in errors)
    assert check_method("x", {"family": "nope"}) == [
        f"params.yaml: methods.x.family is 'nope'; expected one of {sorted(families())}"
    ]
    assert any("latent_dim" in e for e in check_method("m", {"family": "mmoe", "experts": 2.0}))


def test_params_validation_catches_heads_that_do_not_divide_mran_width():
    entry = {"family": "mran", "embedding_dim": 6, "attention_heads": 4, "tower_hidden": []}
    assert check_method("mran", entry, "o.yaml") == [
        "o.yaml: methods.mran.embedding_dim (6) must be a multiple of attention_heads (4)"
    ]
    assert check_method("mran", {**entry, "attention_heads": 3}) == []


def test_bench_refuses_a_step_count_below_one():
    from tranrep.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["bench", "--steps", "0"])
    assert stopped.value.code == 2  # argparse's usage error, before any work
