"""ab_test: the paired bootstrap interval and the paired test agree with independent
computations (scipy's tests on the same rows), and the verdict follows them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import featurekit as fk
from featurekit.errors import FeaturekitError


def labels_case(n=400, right_new=0.9, right_current=0.6, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    new = np.where(rng.random(n) < right_new, y, ~y)
    current = np.where(rng.random(n) < right_current, y, ~y)
    return y, new, current


def test_a_clearly_better_model_is_called_better_with_mcnemar_as_scipy_computes_it():
    y, new, current = labels_case()
    result = fk.automl.ab_test(y, new, current, n_boot=2000, seed=1)
    assert result.metric == "accuracy"
    assert result.new_score == pytest.approx(np.mean(new == y))
    assert result.current_score == pytest.approx(np.mean(current == y))
    assert result.difference == pytest.approx(np.mean(new == y) - np.mean(current == y))
    only_new = np.sum((new == y) & (current != y))
    only_current = np.sum((new != y) & (current == y))
    assert result.discordant == (only_new, only_current) and only_new + only_current >= 25
    statistic = (abs(only_new - only_current) - 1) ** 2 / (only_new + only_current)
    assert result.p_value == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-12)
    assert 0 < result.ci_low < result.difference < result.ci_high
    assert result.verdict.startswith(f"the model is better by {result.difference:.4g} accuracy")
    assert "95% CI [" in result.verdict and str(result) == result.verdict


def test_few_discordant_rows_use_the_exact_binomial_test():
    y = np.tile([0, 1], 30)
    new, current = y.copy(), y.copy()
    current[:7] = 1 - current[:7]   # the current rule is wrong on 7 rows
    new[10:12] = 1 - new[10:12]     # the model on 2 others
    result = fk.automl.ab_test(y, new, current, seed=0)
    assert result.discordant == (7, 2)
    assert result.test == "McNemar (exact binomial)"
    assert result.p_value == pytest.approx(stats.binomtest(7, 9, 0.5).pvalue, rel=1e-12)
    assert result.p_value > 0.05 and result.verdict.startswith("no evidence of a difference")


def test_an_identical_model_shows_no_difference():
    y, new, _ = labels_case(seed=2)
    result = fk.automl.ab_test(y, new, new.copy())
    assert result.difference == 0 and result.ci_low == 0 and result.ci_high == 0
    assert result.p_value == 1.0
    assert result.verdict.startswith("no evidence of a difference")
    values = np.random.default_rng(3).normal(size=50)
    same = fk.automl.ab_test(values, values + 1, values + 1)
    assert same.metric == "mae" and same.p_value == 1.0 and same.difference == 0


@pytest.mark.parametrize("metric, power", [("mae", 1), ("mse", 2), ("rmse", 2)])
def test_errors_use_wilcoxon_as_scipy_computes_it(metric, power):
    rng = np.random.default_rng(4)
    y = rng.normal(100, 10, 300)
    new = y + rng.normal(0, 3, 300)
    current = y + rng.normal(0, 5, 300)
    result = fk.automl.ab_test(y, new, current, metric=metric, seed=2)
    error_new, error_current = np.abs(new - y) ** power, np.abs(current - y) ** power
    assert result.p_value == pytest.approx(stats.wilcoxon(error_current, error_new).pvalue,
                                           rel=1e-9)
    take = np.sqrt if metric == "rmse" else (lambda v: v)
    assert result.new_score == pytest.approx(take(error_new.mean()))
    assert result.difference == pytest.approx(take(error_current.mean()) - take(error_new.mean()))
    assert result.ci_low < result.difference < result.ci_high and result.ci_low > 0
    assert result.verdict.startswith(f"the model is better by {result.difference:.4g} {metric}")
    worse = fk.automl.ab_test(y, current, new, metric=metric, seed=2)
    assert worse.verdict.startswith("the model is worse by") and worse.difference < 0


def test_the_current_process_as_a_rule_or_a_column():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"visits": rng.integers(0, 10, 200)})
    y = (X["visits"] + rng.normal(0, 2, 200) > 5).to_numpy()
    new = (X["visits"] > 5).to_numpy()
    rule = lambda frame: frame["visits"] > 2  # noqa: E731
    by_rule = fk.automl.ab_test(y, new, rule, X=X, seed=0)
    by_column = fk.automl.ab_test(y, new, "rule", X=X.assign(rule=X["visits"] > 2), seed=0)
    by_values = fk.automl.ab_test(y, new, (X["visits"] > 2).to_numpy(), seed=0)
    assert by_rule.verdict == by_column.verdict == by_values.verdict
    np.testing.assert_array_equal(by_rule.bootstrap, by_values.bootstrap)


def test_bootstrap_interval_covers_the_true_difference_about_as_often_as_it_says():
    # rows' correctness drawn with a known gap (0.80 vs 0.75): the 90% interval should hold
    # the true difference in about 90% of repeated experiments
    rng = np.random.default_rng(6)
    covered = 0
    runs = 200
    for run in range(runs):
        y = np.zeros(300, dtype=int)
        new = np.where(rng.random(300) < 0.80, 0, 1)
        current = np.where(rng.random(300) < 0.75, 0, 1)
        result = fk.automl.ab_test(y, new, current, metric="accuracy", n_boot=400, seed=run,
                                   confidence=0.9)
        covered += result.ci_low <= 0.05 <= result.ci_high
    assert 0.84 <= covered / runs <= 0.96


@pytest.mark.parametrize("call, message", [
    (lambda y, n, c: fk.automl.ab_test(y, n[:-1], c), "has 399"),
    (lambda y, n, c: fk.automl.ab_test(y, n, lambda X: X), "needs X"),
    (lambda y, n, c: fk.automl.ab_test(y, n, "rule", X=pd.DataFrame({"a": c})), "names no column"),
    (lambda y, n, c: fk.automl.ab_test(y.astype(int), n * 0.7, c), "not class labels"),
    (lambda y, n, c: fk.automl.ab_test(y, n, c, metric="auc"), "unknown metric"),
    (lambda y, n, c: fk.automl.ab_test(y, pd.Series(n).where(n), c), "missing values"),
    (lambda y, n, c: fk.automl.ab_test(y[:0], n[:0], c[:0]), "empty"),
    (lambda y, n, c: fk.automl.ab_test(y, n, c, n_boot=5), "n_boot"),
    (lambda y, n, c: fk.automl.ab_test(y, n, c, confidence=95), "confidence"),
    (lambda y, n, c: fk.automl.ab_test(np.ones(400, bool), n, c), "single class"),
    (lambda y, n, c: fk.automl.ab_test(pd.Series(y), pd.Series(n, index=np.arange(400)[::-1]), c),
     "index differs"),
])
def test_bad_input_gets_a_clear_error(call, message):
    y, new, current = labels_case()
    with pytest.raises(FeaturekitError, match=message):
        call(y, new, current)
