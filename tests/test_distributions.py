"""The pure-Python distribution functions behind the verdicts agree with scipy."""

from __future__ import annotations

import pytest
from scipy import stats as sps

from monitor.stats.distributions import (
    betainc,
    binom_cdf,
    binom_pmf,
    binom_upper,
    chi2_quantile,
    clopper_pearson,
    gammainc,
    t_quantile,
    t_two_sided_p,
)


@pytest.mark.parametrize("df", [1, 2, 5, 19, 200])
@pytest.mark.parametrize("t", [0.0, 0.4, 1.96, 3.5, 12.0])
def test_two_sided_t_p_value_matches_scipy(df: int, t: float) -> None:
    assert t_two_sided_p(t, df) == pytest.approx(2 * sps.t.sf(t, df), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("df", [1, 3, 6, 30, 500])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.999])
def test_t_quantile_matches_scipy(df: int, p: float) -> None:
    assert t_quantile(p, df) == pytest.approx(sps.t.ppf(p, df), rel=1e-8)


@pytest.mark.parametrize(("n", "p"), [(1, 0.5), (12, 0.3), (60, 0.05), (500, 0.5), (2000, 0.01)])
def test_binomial_cdf_and_pmf_match_scipy(n: int, p: float) -> None:
    for k in range(0, n + 1, max(1, n // 9)):
        assert binom_cdf(k, n, p) == pytest.approx(sps.binom.cdf(k, n, p), rel=1e-9, abs=1e-15)
        assert binom_pmf(k, n, p) == pytest.approx(sps.binom.pmf(k, n, p), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(("a", "b", "x"), [(0.5, 0.5, 0.2), (3, 40, 0.05), (250, 251, 0.5), (2, 1, 0.999)])
def test_incomplete_beta_matches_scipy(a: float, b: float, x: float) -> None:
    from scipy.special import betainc as scipy_betainc

    assert betainc(a, b, x) == pytest.approx(scipy_betainc(a, b, x), rel=1e-10)


@pytest.mark.parametrize(("a", "x"), [(0.5, 0.1), (3, 2.0), (30, 45.0), (100, 80.0)])
def test_incomplete_gamma_matches_scipy(a: float, x: float) -> None:
    from scipy.special import gammainc as scipy_gammainc

    assert gammainc(a, x) == pytest.approx(scipy_gammainc(a, x), rel=1e-10)


@pytest.mark.parametrize("df", [1, 2, 6, 59, 400])
@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.95])
def test_chi_square_quantile_matches_scipy(df: int, p: float) -> None:
    assert chi2_quantile(p, df) == pytest.approx(sps.chi2.ppf(p, df), rel=1e-8)


@pytest.mark.parametrize(("k", "n"), [(0, 20), (3, 20), (20, 20), (120, 500)])
def test_clopper_pearson_matches_scipy_exact_interval(k: int, n: int) -> None:
    expected = sps.binomtest(k, n).proportion_ci(0.95, method="exact")
    assert clopper_pearson(k, n, 0.95) == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_the_upper_bound_after_seeing_nothing_is_the_rule_of_three_for_95_percent() -> None:
    assert binom_upper(0, 100, 0.95) == pytest.approx(1 - 0.05 ** (1 / 100))
