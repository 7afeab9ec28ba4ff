"""Aggregation's statistics of the attention matrix A."""

from __future__ import annotations

import numpy as np
import pytest

from tranrep.aggregate import attention_statistics, attention_table


def test_a_static_attention_has_zero_spread_and_its_cross_task_share():
    A = np.tile(np.array([[0.8, 0.2], [0.4, 0.6]]), (5, 1, 1, 1))  # 5 samples, 1 head
    stats = attention_statistics(A)
    assert np.asarray(stats["per_entry_std"]) == pytest.approx(np.zeros((2, 2)))
    assert stats["cross_task_share"] == pytest.approx((0.2 + 0.4) / 2)


def test_heads_are_averaged_before_the_spread_across_samples():
    one = np.array([[1.0, 0.0], [0.0, 1.0]])
    two = np.array([[0.0, 1.0], [1.0, 0.0]])
    # Two heads that swap per sample: each sample's head average is 0.5 everywhere.
    A = np.stack([np.stack([one, two]), np.stack([two, one])])
    stats = attention_statistics(A)
    assert np.asarray(stats["mean"]) == pytest.approx(np.full((2, 2), 0.5))
    assert np.asarray(stats["per_entry_std"]) == pytest.approx(np.zeros((2, 2)))
    # Without the heads' average the samples differ: one head alone varies.
    varied = attention_statistics(A[:, :1])
    assert np.asarray(varied["per_entry_std"]) == pytest.approx(np.full((2, 2), 0.5))


def test_a_static_attention_over_many_float32_samples_has_no_spread():
    matrix = np.array([[0.77699244, 0.2230075], [0.27814004, 0.72186]], dtype=np.float32)
    A = np.broadcast_to(matrix, (49_881, 1, 2, 2)).astype(np.float32)  # a Census test set
    assert np.asarray(attention_statistics(A)["per_entry_std"]).max() < 1e-9


def test_attention_table_averages_each_entry_over_seeds():
    entry = {
        "tasks": ["a", "b"],
        "per_seed": {
            "0": {"mean": [[0.9, 0.1], [0.3, 0.7]]},
            "1": {"mean": [[0.7, 0.3], [0.5, 0.5]]},
        },
    }
    table = attention_table({"p": {"tran": entry}})
    assert len(table) == 4 and set(table["seeds"]) == {2}
    row = table[(table["target"] == "a") & (table["source"] == "b")].iloc[0]
    assert row["weight"] == pytest.approx(0.2)
    assert row["pair"] == "p tran: a <- b"
