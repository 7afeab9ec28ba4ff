"""Model invariants: TRAN's equations 3–11, the other methods' defining properties, shapes and
gradients."""

from __future__ import annotations

import pytest
import torch

from tranrep.data.problems import InputSpec
from tranrep.models.mmoe import MMoE
from tranrep.models.shared_bottom import SharedBottom
from tranrep.models.tran import TRAN

TABULAR = {"kind": "mlp", "hidden": [16]}
IMAGE = {"kind": "cnn", "channels": 4, "kernel_size": 5, "stride": 2}
TABLE = InputSpec("tabular", (10,), 10)
PICTURE = InputSpec("image", (1, 28, 28))


def make_tran(heads: int = 1, beta_A: float = 0.5, outputs=(2, 3, 1)) -> TRAN:
    torch.manual_seed(0)
    return TRAN(TABLE, TABULAR, list(outputs), heads=heads, latent_dim=8,
                attention_hidden=[6], leaky_relu_slope=0.2, beta_A=beta_A)  # fmt: skip


@pytest.mark.parametrize("heads", [1, 3])
def test_tran_shapes_and_rows_of_A_sum_to_one(heads: int):
    model = make_tran(heads)
    result = model(torch.randn(5, 10))
    assert [o.shape for o in result.outputs] == [(5, 2), (5, 3), (5, 1)]
    assert result.attention.shape == (5, heads, 3, 3)
    assert torch.allclose(result.attention.sum(-1), torch.ones(5, heads, 3))
    assert (result.attention >= 0).all()


def test_tran_A_depends_on_the_sample():
    result = make_tran()(torch.randn(4, 10))
    assert not torch.allclose(result.attention[0], result.attention[1])


def test_beta_A_term_equals_its_formula():
    model = make_tran(heads=2, beta_A=0.25)
    result = model(torch.randn(6, 10))
    A = result.attention.detach()
    expected = (
        0.25
        * sum(
            torch.linalg.matrix_norm(A[b, h] - torch.eye(3), "fro") ** 2
            for b in range(6)
            for h in range(2)
        )
        / 6
    )
    assert result.penalty.item() == pytest.approx(expected.item(), rel=1e-5)


def test_equation_7_and_prediction_layer_by_hand():
    model = make_tran(heads=1)
    x = torch.randn(3, 10)
    result = model(x)
    z = torch.stack([encoder(x) for encoder in model.encoders], dim=1)
    s = torch.einsum("bij,bjd->bid", result.attention[:, 0], z)  # s_i = Σ_j α_ij W_j X_j
    layer = model.prediction[1]
    expected = layer.predict(torch.relu(layer.embed(s[:, 1])) + s[:, 1])  # eq. 9
    assert torch.allclose(result.outputs[1], expected, atol=1e-6)


def test_equation_3_scores_pairs_with_the_shared_network():
    model = make_tran(heads=1)
    x = torch.randn(2, 10)
    z = torch.stack([encoder(x) for encoder in model.encoders], dim=1)
    e_01 = model.attention[0](torch.cat([z[:, 0], z[:, 1]], dim=-1)).squeeze(-1)
    e_row = torch.stack(
        [model.attention[0](torch.cat([z[:, 0], z[:, j]], dim=-1)).squeeze(-1) for j in range(3)],
        dim=-1,
    )
    alpha = torch.softmax(e_row, dim=-1)
    assert torch.allclose(model(x).attention[:, 0, 0, 1], alpha[:, 1], atol=1e-6)
    assert torch.allclose(e_row[:, 1], e_01)


@pytest.mark.parametrize("heads", [1, 2])
def test_every_tran_parameter_gets_a_gradient(heads: int):
    model = make_tran(heads)
    result = model(torch.randn(8, 10))
    loss = sum(o.pow(2).mean() for o in result.outputs) + result.penalty
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert missing == []


def test_multi_head_combiner_only_with_several_heads():
    assert make_tran(heads=1).combine_heads is None
    assert make_tran(heads=4).combine_heads.weight.shape == (8, 32)


def test_tran_on_images():
    model = TRAN(PICTURE, IMAGE, [10, 3], heads=2, latent_dim=8,
                 attention_hidden=[4], leaky_relu_slope=0.2, beta_A=0.0)  # fmt: skip
    result = model(torch.randn(3, 1, 28, 28))
    assert [o.shape for o in result.outputs] == [(3, 10), (3, 3)]
    assert result.penalty.item() == 0.0


def test_mmoe_gates_sum_to_one_and_shapes():
    torch.manual_seed(0)
    model = MMoE(TABLE, TABULAR, [2, 1], experts=3, latent_dim=8, tower_hidden=[4])
    result = model(torch.randn(7, 10))
    assert result.gates.shape == (7, 2, 3)
    assert torch.allclose(result.gates.sum(-1), torch.ones(7, 2))
    assert [o.shape for o in result.outputs] == [(7, 2), (7, 1)]


def test_shared_bottom_towers_share_the_bottom():
    torch.manual_seed(0)
    model = SharedBottom(TABLE, TABULAR, [2, 2], latent_dim=8, tower_hidden=[])
    result = model(torch.randn(4, 10))
    result.outputs[0].sum().backward()
    assert model.bottom.stages[0][0].dense.weight.grad is not None
    assert model.towers[1][0].weight.grad is None


def test_tran_static_A_is_one_matrix_whatever_the_input():
    torch.manual_seed(0)
    model = TRAN(TABLE, TABULAR, [2, 1, 1], heads=2, latent_dim=8, attention_hidden=[6],
                 leaky_relu_slope=0.2, beta_A=0.1, relations="static")  # fmt: skip
    with torch.no_grad():
        model.static_scores.normal_()  # away from the uniform start
    first, second = model(torch.randn(5, 10)), model(100 * torch.randn(5, 10))
    A = first.attention
    assert A.shape == (5, 2, 3, 3)
    assert torch.equal(A, second.attention) and torch.equal(A[0], A[4])
    assert torch.allclose(A.sum(-1), torch.ones(5, 2, 3))
    assert len(model.attention) == 0  # no attention network a_t
    loss = sum(o.pow(2).mean() for o in first.outputs) + first.penalty
    loss.backward()
    assert model.static_scores.grad is not None and model.static_scores.grad.abs().sum() > 0
