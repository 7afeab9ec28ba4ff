"""The statistics behind the report's verdicts, and the verdicts on runs built to decide them."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.report_fixture import build_results_dir
from tranrep.report.claims import FAILS, HOLDS, INCONCLUSIVE, ClaimChecker
from tranrep.report.derived import improvements, paired_differences, relative_improvement
from tranrep.report.results import display_names, load_results, problem_infos
from tranrep.report.stats import dependent_correlations_test, holm, paired_test

# --------------------------------------------------------------------------------------------
# Statistics


def test_paired_test_matches_scipy_and_its_interval_contains_the_mean():
    d = np.array([0.5, 1.5, 0.7, 1.1, 0.9])
    test = paired_test(d)
    assert test.n == 5
    assert test.mean == pytest.approx(0.94)
    assert test.p_value == pytest.approx(stats.ttest_1samp(d, 0.0).pvalue)
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / math.sqrt(5)
    assert (test.low, test.high) == pytest.approx((0.94 - half, 0.94 + half))


def test_paired_test_edge_cases():
    assert paired_test(np.array([0.2, 0.2, 0.2])).p_value == 0.0  # same gain every seed
    assert paired_test(np.zeros(3)).p_value == 1.0
    single = paired_test(np.array([0.3]))
    assert single.n == 1 and math.isnan(single.p_value) and not single.testable
    assert paired_test(np.array([np.nan, 1.0, 2.0])).n == 2


def test_holm_adjustment():
    adjusted = holm([0.01, 0.04, 0.03, math.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted[3])


def test_dependent_correlations_test():
    assert dependent_correlations_test(0.2, 0.2, 0.3, 1000) == pytest.approx(1.0)
    p_big = dependent_correlations_test(0.24, 0.18, 0.23, 200_000)
    p_small = dependent_correlations_test(0.24, 0.18, 0.23, 200)
    assert p_big < 1e-6 < p_small < 1.0
    assert dependent_correlations_test(0.18, 0.24, 0.23, 200) == pytest.approx(p_small)
    assert math.isnan(dependent_correlations_test(0.2, 0.1, 0.3, 3))


def test_relative_improvement_follows_the_metric_direction():
    assert relative_improvement(0.95, 0.90, "auc") == pytest.approx(100 * 0.05 / 0.90)
    assert relative_improvement(1.0, 2.0, "rmse") == pytest.approx(50.0)
    assert relative_improvement(3.0, 2.0, "rmse") == pytest.approx(-50.0)


# --------------------------------------------------------------------------------------------
# Section 4.3's improvements recomputed from the paper's own tables


@pytest.fixture(scope="module")
def fixture_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_results_dir(tmp_path_factory.mktemp("claims"))


def test_fashion_mnist_improvements_recomputed_from_the_papers_table_match_its_text(
    fixture_results: Path,
):
    results = load_results(fixture_results)
    rows = {(r.dataset, r.reference): r for r in improvements(results, problem_infos(results))}
    assert len(rows) == 10  # every figure quoted in section 4.3
    for reference in ("l2_constrained", "cross_stitch", "mmoe"):
        row = rows[("fashion_mnist", reference)]
        assert row.paper_recomputed == pytest.approx(row.paper_quoted, abs=0.02)
        assert row.tasks == 2
    # (0.9207 - 0.9031) / 0.9031 and (0.9533 - 0.9173) / 0.9173, averaged
    expected = 100 * ((0.9207 - 0.9031) / 0.9031 + (0.9533 - 0.9173) / 0.9173) / 2
    assert rows[("fashion_mnist", "l2_constrained")].paper_recomputed == pytest.approx(expected)
    assert rows[("census", "mmoe")].tasks == 4
    assert rows[("sarcos", "mran")].ours.n == 3


def test_our_improvement_is_the_seed_mean_of_task_averages(fixture_results: Path):
    results = load_results(fixture_results)
    runs = results.runs
    fashion = runs[runs.problem == "fashion_mnist"].pivot_table(
        index="seed", columns=["method", "task"], values="value"
    )
    gains = 100 * (fashion["mh_tran"] - fashion["mmoe"]) / fashion["mmoe"]  # seeds x tasks
    per_seed = gains.mean(axis=1)
    rows = {(r.dataset, r.reference): r for r in improvements(results, problem_infos(results))}
    assert rows[("fashion_mnist", "mmoe")].ours.mean == pytest.approx(np.mean(per_seed))


# --------------------------------------------------------------------------------------------
# Verdicts on runs built to decide them


def _set_runs(results_dir: Path, edit) -> None:
    path = results_dir / "runs.csv"
    runs = pd.read_csv(path)
    replaced = edit(runs)  # edits in place, or returns a new table
    (runs if replaced is None else replaced).to_csv(path, index=False)


def _claims(results_dir: Path) -> dict:
    results = load_results(results_dir)
    checker = ClaimChecker(results, problem_infos(results), display_names(results.context))
    return {c.key: c for c in checker.all_claims()}


def test_mh_tran_beats_all_holds_and_a_better_comparator_breaks_it(
    fixture_results: Path, tmp_path: Path
):
    assert _claims(fixture_results)["mh_tran_beats_all"].verdict == HOLDS
    results = shutil.copytree(fixture_results, tmp_path / "results")

    def mmoe_wins_sarcos_torque_3(runs: pd.DataFrame) -> None:
        mask = (runs.problem == "sarcos") & (runs.method == "mmoe") & (runs.task == "torque_3")
        runs.loc[mask, "value"] = [0.01, 0.011, 0.012]  # far lower RMSE than MH-TRAN's

    _set_runs(results, mmoe_wins_sarcos_torque_3)
    claim = _claims(results)["mh_tran_beats_all"]
    assert claim.verdict == FAILS
    against = [c for c in claim.comparisons if c.outcome == "against"]
    assert [(c.problem, c.task, c.other) for c in against] == [("sarcos", "torque_3", "mmoe")]
    assert "torque_3" in claim.evidence


def test_one_seed_makes_every_paired_claim_inconclusive(fixture_results: Path, tmp_path: Path):
    results = shutil.copytree(fixture_results, tmp_path / "results")

    def keep_seed_zero(runs: pd.DataFrame) -> pd.DataFrame:
        return runs[runs.seed == 0]

    _set_runs(results, keep_seed_zero)
    claims = _claims(results)
    for key in ("tran_beats_all", "mh_tran_beats_all", "mh_tran_beats_tran", "tran_beats_mran"):
        assert claims[key].verdict == INCONCLUSIVE, key
    assert claims["improvement_sarcos_mran"].verdict == INCONCLUSIVE


def test_most_tasks_claim_counts_tasks(fixture_results: Path, tmp_path: Path):
    results = shutil.copytree(fixture_results, tmp_path / "results")

    def tran_better_everywhere(runs: pd.DataFrame) -> None:
        tran = runs.method == "tran"
        mh = runs.method == "mh_tran"
        runs.loc[tran, "value"] = runs.loc[tran, "value"].to_numpy()
        runs.loc[mh, "value"] = np.where(
            runs.loc[mh, "metric"] == "rmse",
            runs.loc[tran, "value"].to_numpy() * 1.5,
            runs.loc[tran, "value"].to_numpy() * 0.9,
        ) + np.linspace(0, 1e-3, mh.sum())

    _set_runs(results, tran_better_everywhere)
    claim = _claims(results)["mh_tran_beats_tran"]
    assert claim.verdict == FAILS
    assert len(claim.comparisons) == 13  # 2 + 2 + 2 + 7 tasks
    assert all(c.outcome == "against" for c in claim.comparisons)


def test_paired_differences_pair_by_seed(fixture_results: Path):
    runs = load_results(fixture_results).runs
    diffs = paired_differences(runs, "sarcos", "torque_1", "tran", "nn", "rmse")
    tran = runs.query("problem == 'sarcos' and method == 'tran' and task == 'torque_1'")
    nn = runs.query("problem == 'sarcos' and method == 'nn' and task == 'torque_1'")
    expected = nn.set_index("seed")["value"] - tran.set_index("seed")["value"]
    assert diffs == pytest.approx(expected.sort_index().to_numpy())


def test_static_attention_does_not_vary_and_group_label_claim_uses_sizes(fixture_results: Path):
    claims = _claims(fixture_results)
    assert claims["attention_varies"].verdict == HOLDS
    assert "TRAN-static 0" in claims["attention_varies"].evidence
    labels = claims["labels_group2"]
    assert labels.verdict == HOLDS  # |−0.2403| > |−0.1791| on 199,523 rows
    assert "0.1791" in labels.evidence and "0.2403" in labels.evidence
