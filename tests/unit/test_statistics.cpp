#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>
#include <sstream>
#include <vector>

#include "reinforcer/stats/bootstrap.hpp"
#include "reinforcer/stats/kaplan_meier.hpp"
#include "reinforcer/stats/proportion.hpp"
#include "reinforcer/stats/ranking_metrics.hpp"
#include "reinforcer/core/rng.hpp"

using namespace reinforcer;

namespace {

using Labels = std::vector<std::uint8_t>;

// Fisher-Yates with a counter-based stream: the same permutation on every machine.
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  RandomStream rng(seed, 0);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng.below(i)]);
  return p;
}

template <class T>
std::vector<T> permuted(const std::vector<T>& v, const std::vector<std::size_t>& p) {
  std::vector<T> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[p[i]];
  return out;
}

// Standard normal by Box-Muller; 1 - uniform() lies in (0, 1], so the log is finite.
double normal(RandomStream& rng) {
  const double u1 = 1.0 - rng.uniform();
  const double u2 = rng.uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

// A Poisson(mu) draw by inverting its distribution function (fine for mu up to a few hundred).
std::int64_t poisson_draw(RandomStream& rng, double mu) {
  const double u = rng.uniform();
  double term = std::exp(-mu), cdf = term;
  std::int64_t k = 0;
  while (u >= cdf && term > 0) {
    ++k;
    term *= mu / static_cast<double>(k);
    cdf += term;
  }
  return k;
}

}  // namespace

// ---------------------------------------------------------------------------------- AUC

TEST_CASE("ROC AUC counts tied pairs as one half", "[statistics]") {
  // Positives score 0.9 and 0.8; negatives 0.8, 0.3, 0.1: 2 x 3 = 6 pairs.
  //   0.9 vs 0.8, 0.3, 0.1: 3 wins.   0.8 vs 0.8: tie = 1/2; vs 0.3, 0.1: 2 wins.
  //   AUC = (3 + 2.5) / 6 = 11/12 = 0.916667.
  // Same by average ranks (ascending): 0.1 -> 1, 0.3 -> 2, 0.8, 0.8 -> 3.5 each, 0.9 -> 5;
  //   positives' rank sum 5 + 3.5 = 8.5, U = 8.5 - 2*3/2 = 5.5, AUC = 5.5 / 6.
  const std::vector<double> s = {0.9, 0.8, 0.8, 0.3, 0.1};
  const Labels y = {1, 0, 1, 0, 0};
  CHECK(roc_auc(s, y) == Approx(11.0 / 12.0).epsilon(1e-12));
  // Order does not matter.
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto p = permutation(s.size(), seed);
    CHECK(roc_auc(permuted(s, p), permuted(y, p)) == roc_auc(s, y));
  }
}

TEST_CASE("ROC AUC: perfect, reversed, uninformative and undefined", "[statistics]") {
  // Every positive above every negative: 4 of 4 pairs won.
  CHECK(roc_auc({0.9, 0.8, 0.2, 0.1}, {1, 1, 0, 0}) == 1.0);
  // Every positive below every negative: 0 of 4.
  CHECK(roc_auc({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}) == 0.0);
  // All scores equal: 4 tied pairs, 4 x 1/2 / 4 = 0.5.
  CHECK(roc_auc({0.5, 0.5, 0.5, 0.5}, {1, 0, 1, 0}) == 0.5);
  // No ties: positive 4 beats 3 and 2 (2 wins), positive 1 beats nothing: 2 / 4 = 0.5.
  CHECK(roc_auc({4, 3, 2, 1}, {1, 0, 0, 1}) == 0.5);
  // Labels other than 0 are positive.
  CHECK(roc_auc({0.9, 0.1}, {7, 0}) == 1.0);
  // No negatives, no positives, nothing at all: NaN.
  CHECK(std::isnan(roc_auc({0.3, 0.2}, {1, 1})));
  CHECK(std::isnan(roc_auc({0.3, 0.2}, {0, 0})));
  CHECK(std::isnan(roc_auc({}, {})));
  CHECK_THROWS_AS(roc_auc({0.3, 0.2}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(roc_auc({0.3, std::nan("")}, {1, 0}), std::invalid_argument);
}

// ------------------------------------------------------------------------- top share, lift

namespace {
// Ten customers, 4 positives (overall rate 0.4), sorted here for reading only.
//   position  1    2    3    4    5    6    7    8    9    10
//   score     0.9  0.7  0.7  0.7  0.5  0.4  0.4  0.3  0.2  0.1
//   label     1    1    0    1    0    1    0    0    0    0
// The 0.7 block (positions 2-4, 2 positives) straddles the 20% cut; the 0.4 block
// (positions 6-7, 1 positive) straddles the 60% cut.
const std::vector<double> kScore = {0.9, 0.7, 0.7, 0.7, 0.5, 0.4, 0.4, 0.3, 0.2, 0.1};
const Labels kLabel = {1, 1, 0, 1, 0, 1, 0, 0, 0, 0};
}  // namespace

TEST_CASE("top share splits a tie at the cut-off in proportion", "[statistics]") {
  // 20%: ceil(0.2 * 10) = 2 selected: position 1 (1 positive) and 1 of the 3 customers of the
  //   0.7 block, which holds 2 positives: 1 + 2 * (1/3) = 5/3 positives.
  //   captured = (5/3) / 4 = 5/12;  lift = ((5/3) / 2) / 0.4 = (5/6) / 0.4 = 25/12.
  const TopShare t20 = top_share(kScore, kLabel, 0.2);
  CHECK(t20.fraction == 0.2);
  CHECK(t20.selected == 2);
  CHECK(t20.positives_selected == Approx(5.0 / 3.0).epsilon(1e-12));
  CHECK(t20.captured == Approx(5.0 / 12.0).epsilon(1e-12));
  CHECK(t20.lift == Approx(25.0 / 12.0).epsilon(1e-12));
  // 40%: 4 selected = position 1 and the whole 0.7 block: 1 + 2 = 3 positives.
  //   captured = 3/4;  lift = (3/4) / 0.4 = 1.875.
  const TopShare t40 = top_share(kScore, kLabel, 0.4);
  CHECK(t40.selected == 4);
  CHECK(t40.positives_selected == Approx(3.0).epsilon(1e-12));
  CHECK(t40.captured == Approx(0.75).epsilon(1e-12));
  CHECK(t40.lift == Approx(1.875).epsilon(1e-12));
  // 60%: 6 selected = positions 1-5 (3 positives) and 1 of the 2 in the 0.4 block (1 positive):
  //   3 + 1 * (1/2) = 3.5;  captured = 3.5 / 4 = 7/8;  lift = (3.5 / 6) / 0.4 = 35/24.
  const TopShare t60 = top_share(kScore, kLabel, 0.6);
  CHECK(t60.selected == 6);
  CHECK(t60.captured == Approx(7.0 / 8.0).epsilon(1e-12));
  CHECK(t60.lift == Approx(35.0 / 24.0).epsilon(1e-12));
  // 0.7 * 10 is 7.000000000000001 in doubles: 7 customers (all 4 positives), not 8.
  const TopShare t70 = top_share(kScore, kLabel, 0.7);
  CHECK(t70.selected == 7);
  CHECK(t70.captured == 1.0);
  // 25%: ceil(2.5) = 3: position 1 and 2 of 3 in the 0.7 block: 1 + 2 * (2/3) = 7/3.
  CHECK(top_share(kScore, kLabel, 0.25).positives_selected == Approx(7.0 / 3.0).epsilon(1e-12));
  // Everyone: lift 1, captured 1.  Nobody: captured 0, lift undefined.
  const TopShare all = top_share(kScore, kLabel, 1.0);
  CHECK((all.selected == 10 && all.captured == 1.0 && all.lift == Approx(1.0).epsilon(1e-12)));
  const TopShare none = top_share(kScore, kLabel, 0.0);
  CHECK((none.selected == 0 && none.captured == 0.0 && std::isnan(none.lift)));
  // No positives: both undefined.
  const TopShare nopos = top_share(kScore, Labels(10, 0), 0.2);
  CHECK((std::isnan(nopos.lift) && std::isnan(nopos.captured)));
  CHECK_THROWS_AS(top_share(kScore, kLabel, 1.5), std::invalid_argument);
  CHECK_THROWS_AS(top_share(kScore, kLabel, -0.1), std::invalid_argument);
}

TEST_CASE("top share and lift curve do not depend on the input order", "[statistics]") {
  const auto base20 = top_share(kScore, kLabel, 0.2);
  const auto base60 = top_share(kScore, kLabel, 0.6);
  const auto curve = lift_curve(kScore, kLabel, 10);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const auto p = permutation(kScore.size(), seed);
    const auto s = permuted(kScore, p);
    const auto y = permuted(kLabel, p);
    for (const auto& [base, f] : {std::pair{base20, 0.2}, std::pair{base60, 0.6}}) {
      const TopShare t = top_share(s, y, f);
      // Exactly equal, not approximately: the tie rule uses counts only.
      CHECK(t.selected == base.selected);
      CHECK(t.positives_selected == base.positives_selected);
      CHECK(t.captured == base.captured);
      CHECK(t.lift == base.lift);
    }
    CHECK(lift_curve(s, y, 10) == curve);
  }
}

TEST_CASE("lift curve: evenly spaced fractions, same tie rule, ends at (1, 1)", "[statistics]") {
  // Shares captured from the hand computations above: 20% -> 5/12, 40% -> 3/4, 60% -> 7/8,
  // 80% -> all 4 positives lie in the top 7 -> 1, 100% -> 1.
  const auto c = lift_curve(kScore, kLabel, 5);
  REQUIRE(c.size() == 5);
  const double x[] = {0.2, 0.4, 0.6, 0.8, 1.0};
  const double y[] = {5.0 / 12.0, 0.75, 7.0 / 8.0, 1.0, 1.0};
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(c[i].first == Approx(x[i]).epsilon(1e-12));
    CHECK(c[i].second == Approx(y[i]).epsilon(1e-12));
  }
  CHECK(c.back().first == 1.0);
  CHECK(c.back().second == 1.0);
  // 3 points on 10 customers: ceil(10/3) = 4 and ceil(20/3) = 7 contacted, so the first
  // members are the shares actually contacted, 0.4 and 0.7.
  const auto c3 = lift_curve(kScore, kLabel, 3);
  REQUIRE(c3.size() == 3);
  CHECK(c3[0].first == Approx(0.4).epsilon(1e-12));
  CHECK(c3[1].first == Approx(0.7).epsilon(1e-12));
  CHECK(c3[2] == std::pair{1.0, 1.0});
  // One point: the whole population.
  CHECK(lift_curve(kScore, kLabel, 1) == std::vector<std::pair<double, double>>{{1.0, 1.0}});
  CHECK(lift_curve({}, {}, 4).empty());
  CHECK_THROWS_AS(lift_curve(kScore, kLabel, 0), std::invalid_argument);
}

// ---------------------------------------------------------------------------- Kaplan-Meier

TEST_CASE("one ranking answers every metric as the separate functions and pair counting do", "[statistics]") {
  // 500 customers, scores on a coarse grid (many ties), about 1 in 5 positive.
  RandomStream rng(77, 0);
  std::vector<double> s(500);
  Labels y(500);
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<double>(rng.below(40)) / 40.0;
    y[i] = rng.uniform() < 0.1 + 0.3 * s[i];
  }
  // The AUC by definition: every (positive, negative) pair, a tie counting one half.
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      if (y[i] && !y[j]) pairs += 1, wins += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
  const Ranking r(s, y);
  CHECK(r.roc_auc() == Approx(wins / pairs).epsilon(1e-12));
  CHECK(r.roc_auc() == roc_auc(s, y));
  for (double f : {0.0, 0.05, 0.1, 0.33, 1.0}) {
    const TopShare a = r.top_share(f), b = top_share(s, y, f);
    CHECK(a.selected == b.selected);
    CHECK(a.positives_selected == b.positives_selected);
    CHECK(a.captured == b.captured);
  }
  CHECK(r.lift_curve(20) == lift_curve(s, y, 20));
  CHECK_THROWS_WITH(Ranking(s, Labels(3), "targeting"), Catch::Contains("targeting: 500 scores but 3 labels"));
}

TEST_CASE("Kaplan-Meier: product limit, Greenwood, log-log interval by hand", "[statistics]") {
  // times 1 2 2 3 4 5, events 1 1 1 0 1 0 (3 and 5 censored).
  //   t = 1: n = 6, d = 1: S = 5/6.                G = 1/(6*5)          = 1/30
  //   t = 2: n = 5, d = 2: S = 5/6 * 3/5 = 1/2.    G = 1/30 + 2/(5*3)   = 1/6
  //   t = 3: censored, no row.  t = 4: n = 2 (times 4 and 5), d = 1:
  //          S = 1/2 * 1/2 = 1/4.                  G = 1/6 + 1/(2*1)    = 2/3
  //   t = 5: censored, no row.   (Greenwood Var S = S^2 G: 25/1080, 1/24, 1/24.)
  // Log-log interval: se = sqrt(G) / |ln S|, [S^exp(z se), S^exp(-z se)], z = 1.959964.
  //   t = 1: se = 0.182574 / 0.182322 = 1.001386; z se = 1.962679;
  //          exp(+-) = 7.11756, 0.140498; (5/6)^7.11756 = 0.273123, (5/6)^0.140498 = 0.974712
  //   t = 2: se = 0.408248 / 0.693147 = 0.588978; z se = 1.154375;
  //          exp(+-) = 3.17213, 0.315245; 0.5^3.17213 = 0.110948, 0.5^0.315245 = 0.803709
  //   t = 4: se = 0.816497 / 1.386294 = 0.588978 (the same); 0.25^3.17213 = 0.0123095,
  //          0.25^0.315245 = 0.645949
  const auto km = kaplan_meier({4, 2, 1, 5, 2, 3}, {1, 1, 1, 0, 1, 0});  // shuffled on purpose
  REQUIRE(km.size() == 3);
  CHECK((km[0].time == 1 && km[0].at_risk == 6 && km[0].events == 1));
  CHECK((km[1].time == 2 && km[1].at_risk == 5 && km[1].events == 2));
  CHECK((km[2].time == 4 && km[2].at_risk == 2 && km[2].events == 1));
  CHECK(km[0].survival == Approx(5.0 / 6.0).epsilon(1e-12));
  CHECK(km[1].survival == Approx(0.5).epsilon(1e-12));
  CHECK(km[2].survival == Approx(0.25).epsilon(1e-12));
  CHECK(km[0].low95 == Approx(0.273123).epsilon(2e-5));
  CHECK(km[0].high95 == Approx(0.974712).epsilon(2e-5));
  CHECK(km[1].low95 == Approx(0.110948).epsilon(2e-5));
  CHECK(km[1].high95 == Approx(0.803709).epsilon(2e-5));
  CHECK(km[2].low95 == Approx(0.0123095).epsilon(2e-5));
  CHECK(km[2].high95 == Approx(0.645949).epsilon(2e-5));
  // Median: S first reaches 0.5 at t = 2 (exactly 0.5, not below).
  CHECK(km_median(km) == 2.0);
}

TEST_CASE("Kaplan-Meier: censored at an event time is still at risk; S = 0; no median", "[statistics]") {
  // times 1 1 2, events 1 0 1: at t = 1 all 3 are at risk (the one censored at 1 included):
  //   S(1) = 1 - 1/3 = 2/3 (it would be 1/2 if the censoring counted first).
  //   t = 2: n = 1, d = 1: S = 0, the interval is undefined.
  const auto km = kaplan_meier({1, 1, 2}, {1, 0, 1});
  REQUIRE(km.size() == 2);
  CHECK(km[0].at_risk == 3);
  CHECK(km[0].survival == Approx(2.0 / 3.0).epsilon(1e-12));
  CHECK((km[0].low95 < km[0].survival && km[0].survival < km[0].high95));
  CHECK(km[1].survival == 0.0);
  CHECK((std::isnan(km[1].low95) && std::isnan(km[1].high95)));
  CHECK(km_median(km) == 2.0);
  // S = 3/4 after the single event and never lower: no median.
  CHECK(std::isnan(km_median(kaplan_meier({1, 2, 3, 4}, {1, 0, 0, 0}))));
  CHECK(kaplan_meier({1, 2}, {0, 0}).empty());
  CHECK(std::isnan(km_median({})));
  CHECK_THROWS_AS(kaplan_meier({1, 2}, {1}), std::invalid_argument);
}

// ------------------------------------------------------------------------------- bootstrap

TEST_CASE("bootstrap samples are pure functions of (n, seed, replicate)", "[statistics]") {
  const auto a = bootstrap_sample(1000, 42, 7);
  REQUIRE(a.size() == 1000);
  CHECK(a == bootstrap_sample(1000, 42, 7));
  CHECK(a != bootstrap_sample(1000, 42, 8));
  CHECK(a != bootstrap_sample(1000, 43, 7));
  CHECK(std::all_of(a.begin(), a.end(), [](std::uint32_t i) { return i < 1000; }));
  // Drawing n of n with replacement leaves about 1 - 1/e = 63.2% distinct indices
  // (sd about 0.5% at n = 10,000).
  const auto big = bootstrap_sample(10000, 1, 0);
  const std::set<std::uint32_t> distinct(big.begin(), big.end());
  CHECK(static_cast<double>(distinct.size()) / 10000.0 == Approx(0.632).margin(0.02));
  CHECK(bootstrap_sample(0, 1, 0).empty());
}

TEST_CASE("stratified bootstrap keeps every stratum's size", "[statistics]") {
  Labels stratum;
  for (int i = 0; i < 300; ++i) stratum.push_back(static_cast<std::uint8_t>(i % 7 == 0 ? 2 : i % 3 == 0 ? 1 : 0));
  stratum.push_back(9);  // a stratum of one: always resampled as itself
  const auto a = bootstrap_sample_stratified(stratum, 5, 3);
  REQUIRE(a.size() == stratum.size());
  CHECK(a == bootstrap_sample_stratified(stratum, 5, 3));
  CHECK(a != bootstrap_sample_stratified(stratum, 5, 4));
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(stratum[a[i]] == stratum[i]);
  CHECK(a.back() == 300);
  // Sizes: count each stratum in the original and in the resample.
  std::vector<int> before(256), after(256);
  for (std::size_t i = 0; i < a.size(); ++i) ++before[stratum[i]], ++after[stratum[a[i]]];
  CHECK(before == after);
  // Really resampled (not the identity).
  std::vector<std::uint32_t> identity(a.size());
  std::iota(identity.begin(), identity.end(), 0u);
  CHECK(a != identity);
  // One stratum: the plain bootstrap.
  CHECK(bootstrap_sample_stratified(Labels(500, 4), 11, 2) == bootstrap_sample(500, 11, 2));
}

TEST_CASE("percentile interval uses type-7 quantiles and skips NaN", "[statistics]") {
  // 1..100, m = 100. Type 7: h = (m - 1) p, value x[floor h] + frac(h) (x[floor h + 1] - x[floor h])
  // with x 0-based, x[i] = i + 1.
  //   p = 0.025: h = 2.475  -> 3 + 0.475 = 3.475
  //   p = 0.975: h = 96.525 -> 97 + 0.525 = 97.525
  //   level 0.9: p = 0.05: h = 4.95 -> 5.95;  p = 0.95: h = 94.05 -> 95.05
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 1.0);
  const auto shuffled = permuted(v, permutation(v.size(), 9));
  const Interval i95 = percentile_interval(shuffled);
  CHECK(i95.low == Approx(3.475).epsilon(1e-12));
  CHECK(i95.high == Approx(97.525).epsilon(1e-12));
  const Interval i90 = percentile_interval(v, 0.9);
  CHECK(i90.low == Approx(5.95).epsilon(1e-12));
  CHECK(i90.high == Approx(95.05).epsilon(1e-12));
  // NaNs are dropped, not sorted somewhere.
  auto with_nan = shuffled;
  with_nan.insert(with_nan.begin() + 10, 3, std::nan(""));
  const Interval n95 = percentile_interval(with_nan);
  CHECK((n95.low == i95.low && n95.high == i95.high));
  // One value: both ends equal it.  Nothing usable: NaN.
  const Interval one = percentile_interval({4.0, std::nan("")});
  CHECK((one.low == 4.0 && one.high == 4.0));
  const Interval empty = percentile_interval({});
  CHECK((std::isnan(empty.low) && std::isnan(empty.high)));
  CHECK_THROWS_AS(percentile_interval(v, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(percentile_interval(v, 0.0), std::invalid_argument);
}

// ------------------------------------------------------------- Poisson (observed/expected)

TEST_CASE("exact Poisson interval matches tabulated Garwood values", "[statistics]") {
  // O = 0: no lower end; upper = chi2(0.975; 2) / 2 = -ln(0.025) = 3.688879.
  const Interval zero = poisson_interval(0);
  CHECK(zero.low == 0.0);
  CHECK(zero.high == Approx(3.688879).epsilon(1e-6));
  // O = 1: chi2(0.025; 2) / 2 = -ln(0.975) = 0.025318; chi2(0.975; 4) / 2 = 5.571643.
  const Interval one = poisson_interval(1);
  CHECK(one.low == Approx(-std::log(0.975)).epsilon(1e-9));
  CHECK(one.high == Approx(5.571643).epsilon(1e-6));
  // O = 10: chi2(0.025; 20) / 2 = 9.590777 / 2; chi2(0.975; 22) / 2 = 36.780714 / 2.
  const Interval ten = poisson_interval(10);
  CHECK(ten.low == Approx(4.795389).epsilon(1e-6));
  CHECK(ten.high == Approx(18.390357).epsilon(1e-6));
  // 90%: chi2(0.05; 20) / 2 = 10.850811 / 2; chi2(0.95; 22) / 2 = 33.924439 / 2.
  const Interval ten90 = poisson_interval(10, 0.90);
  CHECK(ten90.low == Approx(5.425406).epsilon(1e-6));
  CHECK(ten90.high == Approx(16.962219).epsilon(1e-6));
  CHECK_THROWS_AS(poisson_interval(-1), std::invalid_argument);
  CHECK_THROWS_AS(poisson_interval(3, 1.0), std::invalid_argument);
}

TEST_CASE("observed/expected interval is the count's interval divided by E", "[statistics]") {
  // O = 10, E = 8: O/E = 1.25 in [4.795389 / 8, 18.390357 / 8] = [0.599424, 2.298795].
  const Interval r = poisson_ratio_interval(10, 8.0);
  CHECK(r.low == Approx(0.599424).epsilon(1e-5));
  CHECK(r.high == Approx(2.298795).epsilon(1e-5));
  // O = 0, E = 20: [0, 3.688879 / 20].
  const Interval z = poisson_ratio_interval(0, 20.0);
  CHECK(z.low == 0.0);
  CHECK(z.high == Approx(0.184444).epsilon(1e-5));
  // No expected events: no ratio.
  CHECK(std::isnan(poisson_ratio_interval(2, 0.0).low));
  CHECK(std::isnan(poisson_ratio_interval(0, 0.0).high));
}

// -------------------------------------------------------------------- coverage acceptance

TEST_CASE("bootstrap percentile intervals cover the truth about 95% of the time", "[statistics][coverage]") {
  constexpr int kDataSets = 1000;
  constexpr int kReplicates = 400;
  constexpr std::size_t kN = 400;
  constexpr std::uint64_t kSeed = 20240601;
  const auto started = std::chrono::steady_clock::now();

  // (a) a proportion: n = 400 Bernoulli(0.3) per data set, plain bootstrap.
  int covered_p = 0;
  {
    std::vector<std::uint8_t> x(kN);
    std::vector<double> reps(kReplicates);
    for (int d = 0; d < kDataSets; ++d) {
      RandomStream rng(kSeed, static_cast<std::uint64_t>(d));
      for (auto& xi : x) xi = rng.uniform() < 0.3;
      for (int b = 0; b < kReplicates; ++b) {
        int k = 0;
        for (std::uint32_t i : bootstrap_sample(kN, kSeed + static_cast<std::uint64_t>(d), static_cast<std::uint64_t>(b))) k += x[i];
        reps[static_cast<std::size_t>(b)] = k / static_cast<double>(kN);
      }
      const Interval ci = percentile_interval(reps);
      covered_p += ci.low <= 0.3 && 0.3 <= ci.high;
    }
  }

  // (b) an AUC: 120 positives with scores N(1, 1), 280 negatives with N(0, 1). The true AUC is
  // P(X1 > X0) with X1 - X0 ~ N(1, 2): Phi(1 / sqrt 2) = Phi(0.707107) = 0.760250.
  // Resampled within each class (stratified), as the evaluation does for cohorts.
  constexpr double kTrueAuc = 0.760250;
  int covered_auc = 0;
  {
    std::vector<double> score(kN), rs(kN);
    std::vector<std::uint8_t> label(kN), rl(kN);
    for (std::size_t i = 0; i < kN; ++i) label[i] = i < 120;
    std::vector<double> reps(kReplicates);
    std::vector<std::uint32_t> by_score(kN), rank(kN), copies(kN);
    for (int d = 0; d < kDataSets; ++d) {
      RandomStream rng(kSeed + 1, static_cast<std::uint64_t>(d));
      for (std::size_t i = 0; i < kN; ++i) score[i] = normal(rng) + (label[i] ? 1.0 : 0.0);
      // Speed only: the resample is handed to roc_auc already in score order (its sort then
      // has little to do); the AUC does not depend on the order, as tested above.
      std::iota(by_score.begin(), by_score.end(), 0u);
      std::sort(by_score.begin(), by_score.end(), [&](std::uint32_t a, std::uint32_t b) { return score[a] > score[b]; });
      for (std::uint32_t r = 0; r < kN; ++r) rank[by_score[r]] = r;
      for (int b = 0; b < kReplicates; ++b) {
        const auto idx = bootstrap_sample_stratified(label, kSeed + 1 + static_cast<std::uint64_t>(d),
                                                     static_cast<std::uint64_t>(b));
        std::fill(copies.begin(), copies.end(), 0u);
        for (std::uint32_t i : idx) ++copies[rank[i]];
        std::size_t out = 0;
        for (std::size_t r = 0; r < kN; ++r)
          for (std::uint32_t c = 0; c < copies[r]; ++c, ++out) rs[out] = score[by_score[r]], rl[out] = label[by_score[r]];
        reps[static_cast<std::size_t>(b)] = roc_auc(rs, rl);
      }
      const Interval ci = percentile_interval(reps);
      covered_auc += ci.low <= kTrueAuc && kTrueAuc <= ci.high;
    }
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double cov_p = covered_p / static_cast<double>(kDataSets);
  const double cov_auc = covered_auc / static_cast<double>(kDataSets);
  std::ostringstream msg;
  msg << "nominal 95% percentile bootstrap (B = " << kReplicates << ", n = " << kN << ", " << kDataSets
      << " data sets): coverage proportion = " << cov_p << ", AUC = " << cov_auc << " (" << seconds << " s)";
  WARN(msg.str());
  // With 1000 data sets the standard error of a 95% coverage is 0.7 points: the band is +-4 se.
  CHECK(cov_p >= 0.92);
  CHECK(cov_p <= 0.98);
  CHECK(cov_auc >= 0.92);
  CHECK(cov_auc <= 0.98);
}

TEST_CASE("exact Poisson intervals cover at least 95%, also for O/E of a sum of Bernoullis", "[statistics][coverage]") {
  constexpr int kDataSets = 4000;
  constexpr std::uint64_t kSeed = 20240715;
  std::ostringstream msg;
  msg << "nominal 95% exact Poisson interval (" << kDataSets << " data sets each):";
  // (a) Poisson counts: the interval of the count covers its mean. Exact (Garwood) intervals
  // are conservative, most of all for small means (98.6% exactly at mu = 0.5: k <= 2).
  for (const double mu : {0.5, 3.0, 10.0, 40.0}) {
    int covered = 0;
    RandomStream rng(kSeed, static_cast<std::uint64_t>(mu * 1000));
    for (int d = 0; d < kDataSets; ++d) {
      const Interval ci = poisson_interval(poisson_draw(rng, mu));
      covered += ci.low <= mu && mu <= ci.high;
    }
    const double cov = covered / static_cast<double>(kDataSets);
    msg << " mu = " << mu << ": " << cov << ";";
    // The standard error of a 95% coverage over 4000 data sets is 0.34 points: -4 se.
    CHECK(cov >= 0.936);
    CHECK(cov <= 0.995);
  }
  // (b) As calibration uses it: 2,000 customers with skewed event probabilities (E about 15),
  // O = the events drawn from exactly those probabilities; a calibrated model's O/E interval
  // contains 1. A sum of Bernoullis varies less than a Poisson count, so coverage is at least 95%.
  {
    constexpr std::size_t kCustomers = 2000;
    std::vector<double> p(kCustomers);
    RandomStream gen(kSeed + 1, 0);
    double expected = 0;
    for (double& pi : p) {
      const double u = gen.uniform();
      pi = 0.03 * u * u * u;  // most near 0, a few up to 3%
      expected += pi;
    }
    int covered = 0;
    for (int d = 0; d < kDataSets; ++d) {
      RandomStream rng(kSeed + 2, static_cast<std::uint64_t>(d));
      std::int64_t observed = 0;
      for (double pi : p) observed += rng.uniform() < pi;
      const Interval ci = poisson_ratio_interval(observed, expected);
      covered += ci.low <= 1.0 && 1.0 <= ci.high;
    }
    const double cov = covered / static_cast<double>(kDataSets);
    msg << " O/E with E = " << expected << ": " << cov;
    CHECK(cov >= 0.936);
    CHECK(cov <= 0.995);
  }
  WARN(msg.str());
}
