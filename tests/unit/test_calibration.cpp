// Calibration slope and reliability bins: closed-form and hand-worked cases, then simulated
// predictions with known calibration (fixed seeds).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "reinforcer/stats/calibration.hpp"
#include "reinforcer/stats/proportion.hpp"

using namespace reinforcer;

namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit(double p) { return std::log(p / (1.0 - p)); }

struct Sample {
  std::vector<double> truth;  // the true event probabilities
  std::vector<std::uint8_t> y;
};

// n customers with true probabilities sigmoid(N(mean, sd)) and outcomes drawn from them.
Sample simulate(std::size_t n, std::uint64_t seed, double mean = -1.5, double sd = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(mean, sd);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Sample s;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = sigmoid(z(rng));
    s.truth.push_back(p);
    s.y.push_back(u(rng) < p ? 1 : 0);
  }
  return s;
}

std::vector<std::uint8_t> repeat(std::size_t events, std::size_t non_events) {
  std::vector<std::uint8_t> y(events, 1);
  y.insert(y.end(), non_events, 0);
  return y;
}

}  // namespace

TEST_CASE("calibration slope: two prediction levels match the closed-form logistic fit", "[calibration]") {
  // With two distinct predictions the fit passes through both observed log-odds:
  // p = 0.2 for 50 customers, 15 events (rate 0.3); p = 0.5 for 40 customers, 30 events (0.75).
  // b = (logit 0.75 - logit 0.3) / (logit 0.5 - logit 0.2), a = logit 0.75 (logit 0.5 = 0);
  // Var(logit r) = 1 / (n r (1 - r)), so Var b = (1/10.5 + 1/7.5) / (logit 0.2)^2, Var a = 1/7.5.
  std::vector<double> p(50, 0.2);
  p.insert(p.end(), 40, 0.5);
  std::vector<std::uint8_t> y = repeat(15, 35);
  const std::vector<std::uint8_t> second = repeat(30, 10);
  y.insert(y.end(), second.begin(), second.end());
  const CalibrationSlope c = calibration_slope(p, y);
  const double dx = -logit(0.2);
  const double b = (logit(0.75) - logit(0.3)) / dx;
  const double se_b = std::sqrt(1 / 10.5 + 1 / 7.5) / dx, se_a = std::sqrt(1 / 7.5);
  CHECK(c.n == 90);
  CHECK(c.events == 45);
  REQUIRE(c.converged);
  CHECK(c.slope == Approx(b).epsilon(1e-7));  // 1.4037
  CHECK(c.intercept == Approx(logit(0.75)).epsilon(1e-7));
  CHECK(c.slope_low95 == Approx(b - 1.959964 * se_b).epsilon(1e-6));
  CHECK(c.slope_high95 == Approx(b + 1.959964 * se_b).epsilon(1e-6));
  CHECK(c.intercept_low95 == Approx(logit(0.75) - 1.959964 * se_a).epsilon(1e-6));
  CHECK(c.intercept_high95 == Approx(logit(0.75) + 1.959964 * se_a).epsilon(1e-6));
  CHECK(c.verdict == "consistent");  // [0.73, 2.08] holds 1
}

TEST_CASE("calibration slope: the fit solves the likelihood equations", "[calibration]") {
  const Sample s = simulate(400, 11, -0.5, 1.5);
  const CalibrationSlope c = calibration_slope(s.truth, s.y);
  REQUIRE(c.converged);
  CHECK(c.iterations < 20);
  double g0 = 0, g1 = 0;
  for (std::size_t i = 0; i < s.y.size(); ++i) {
    const double x = logit(s.truth[i]);
    const double r = s.y[i] - sigmoid(c.intercept + c.slope * x);
    g0 += r;
    g1 += r * x;
  }
  CHECK(std::abs(g0) < 1e-8);
  CHECK(std::abs(g1) < 1e-8);
}

TEST_CASE("calibration slope: well-calibrated simulated predictions are consistent", "[calibration]") {
  const Sample s = simulate(20000, 20240601);
  const CalibrationSlope c = calibration_slope(s.truth, s.y);
  CHECK(c.n == 20000);
  CHECK(c.events > 2000);
  REQUIRE(c.converged);
  CHECK(c.slope == Approx(1.0).margin(0.08));
  CHECK(c.intercept == Approx(0.0).margin(0.12));
  CHECK(c.slope_low95 < 1.0);
  CHECK(c.slope_high95 > 1.0);
  CHECK(c.slope_high95 - c.slope_low95 < 0.15);  // an interval that could exclude 1
  CHECK(c.verdict == "consistent");
}

TEST_CASE("calibration slope: predictions twice as extreme on the logit scale are miscalibrated", "[calibration]") {
  // predicted = sigmoid(2 logit(p_true)): the recalibration recovers b = 1/2, a = 0.
  const Sample s = simulate(20000, 20240602);
  std::vector<double> distorted;
  for (double p : s.truth) distorted.push_back(sigmoid(2 * logit(p)));
  const CalibrationSlope c = calibration_slope(distorted, s.y);
  REQUIRE(c.converged);
  CHECK(c.slope == Approx(0.5).margin(0.04));
  CHECK(c.intercept == Approx(0.0).margin(0.12));
  CHECK(c.slope_high95 < 1.0);
  CHECK(c.verdict == "miscalibrated");
  // Too timid the other way (half the logit): b = 2.
  std::vector<double> timid;
  for (double p : s.truth) timid.push_back(sigmoid(0.5 * logit(p)));
  const CalibrationSlope t = calibration_slope(timid, s.y);
  CHECK(t.slope == Approx(2.0).margin(0.15));
  CHECK(t.slope_low95 > 1.0);
  CHECK(t.verdict == "miscalibrated");
}

TEST_CASE("calibration slope: too few events, separation and bad input", "[calibration]") {
  // Perfectly ordered predictions, every outcome the same class: no fit, no throw.
  std::vector<double> ordered;
  for (int i = 1; i <= 50; ++i) ordered.push_back(i / 51.0);
  const CalibrationSlope none = calibration_slope(ordered, std::vector<std::uint8_t>(50, 0));
  CHECK(none.events == 0);
  CHECK(none.verdict == "too few events");
  CHECK_FALSE(none.converged);
  CHECK(std::isnan(none.slope));
  CHECK(calibration_slope(ordered, std::vector<std::uint8_t>(50, 1)).verdict == "too few events");
  CHECK(calibration_slope({}, {}).verdict == "too few events");

  // 9 events mixed among 200: a fit exists, the verdict still says too few.
  const Sample s = simulate(200, 5, -3.0, 0.5);
  std::vector<std::uint8_t> y(200, 0);
  for (std::size_t i = 0; i < 9; ++i) y[i * 20 + 3] = 1;
  const CalibrationSlope few = calibration_slope(s.truth, y);
  CHECK(few.events == 9);
  CHECK(few.verdict == "too few events");

  // Outcomes separated by the prediction: the estimate does not exist.
  std::vector<std::uint8_t> above(50, 0);
  for (std::size_t i = 25; i < 50; ++i) above[i] = 1;
  const CalibrationSlope sep = calibration_slope(ordered, above);
  CHECK(sep.events == 25);
  CHECK_FALSE(sep.converged);
  CHECK(std::isnan(sep.slope));
  CHECK(sep.verdict == "did not converge");
  // Reversed separation and a single prediction for everyone: the same.
  std::vector<std::uint8_t> below(50, 1);
  for (std::size_t i = 25; i < 50; ++i) below[i] = 0;
  CHECK(calibration_slope(ordered, below).verdict == "did not converge");
  CHECK(calibration_slope(std::vector<double>(50, 0.3), above).verdict == "did not converge");
  // One overlapping pair is enough for a finite estimate.
  std::swap(above[24], above[25]);
  CHECK(calibration_slope(ordered, above).converged);

  CHECK_THROWS_AS(calibration_slope({0.1, 0.2}, {0}), std::invalid_argument);
  CHECK_THROWS_AS(calibration_slope({0.1, std::nan("")}, {0, 1}), std::invalid_argument);
  CHECK_THROWS_AS(calibration_slope({0.1, 1.5}, {0, 1}), std::invalid_argument);
}

TEST_CASE("reliability bins: a small table by hand", "[calibration]") {
  // Sorted: 0.05 (0), 0.1 (0) | 0.2 (0), 0.3 (0) | 0.4 (1), 0.5 (1).
  const std::vector<ReliabilityBin> b =
      reliability_bins({0.1, 0.4, 0.2, 0.3, 0.05, 0.5}, {0, 1, 0, 0, 0, 1}, 3);
  REQUIRE(b.size() == 3);
  CHECK(b[0].index == 1);
  CHECK(b[2].index == 3);
  CHECK(b[0].n == 2);
  CHECK(b[0].min_predicted == 0.05);
  CHECK(b[0].max_predicted == 0.1);
  CHECK(b[0].expected == Approx(0.15));
  CHECK(b[0].mean_predicted == Approx(0.075));
  CHECK(b[0].observed == 0);
  CHECK(b[0].o_e == 0.0);
  CHECK(b[0].o_e_low95 == 0.0);
  CHECK(b[0].rate_low95 == 0.0);
  CHECK(b[1].expected == Approx(0.5));
  CHECK(b[2].observed == 2);
  CHECK(b[2].observed_rate == 1.0);
  CHECK(b[2].rate_low95 == Approx(0.342380).epsilon(1e-5));  // Wilson(2, 2)
  CHECK(b[2].rate_high95 == 1.0);
  CHECK(b[2].expected == Approx(0.9));
  CHECK(b[2].o_e == Approx(2 / 0.9));
  // Exact Poisson for 2 events: [0.242209, 7.224688], divided by E = 0.9.
  CHECK(b[2].o_e_low95 == Approx(0.242209 / 0.9).epsilon(1e-5));
  CHECK(b[2].o_e_high95 == Approx(7.224688 / 0.9).epsilon(1e-5));
}

TEST_CASE("reliability bins: ties, fewer customers than bins, empty input", "[calibration]") {
  // Five equal predictions in 2 bins: positions [0, 2) and [2, 5); ties keep input order.
  const std::vector<ReliabilityBin> tied = reliability_bins(std::vector<double>(5, 0.2), {1, 1, 0, 0, 0}, 2);
  REQUIRE(tied.size() == 2);
  CHECK(tied[0].n == 2);
  CHECK(tied[0].observed == 2);
  CHECK(tied[1].n == 3);
  CHECK(tied[1].observed == 0);
  // Sizes floor(k n / bins): 11 customers in 4 bins -> 2, 3, 3, 3.
  const std::vector<ReliabilityBin> eleven = reliability_bins(std::vector<double>(11, 0.5), std::vector<std::uint8_t>(11, 0), 4);
  REQUIRE(eleven.size() == 4);
  CHECK(eleven[0].n == 2);
  CHECK(eleven[3].n == 3);

  const std::vector<ReliabilityBin> three = reliability_bins({0.9, 0.1, 0.5}, {1, 0, 0}, 10);
  REQUIRE(three.size() == 3);
  CHECK(three[0].mean_predicted == 0.1);
  CHECK(three[1].mean_predicted == 0.5);
  CHECK(three[2].mean_predicted == 0.9);
  CHECK(three[2].observed == 1);
  for (const ReliabilityBin& r : three) CHECK(r.n == 1);

  CHECK(reliability_bins({}, {}).empty());
  // Zero expected events: O/E undefined.
  const std::vector<ReliabilityBin> zero = reliability_bins({0.0, 0.0}, {0, 0}, 1);
  REQUIRE(zero.size() == 1);
  CHECK(std::isnan(zero[0].o_e));
  CHECK(std::isnan(zero[0].o_e_high95));
  CHECK_THROWS_AS(reliability_bins({0.1}, {0}, 0), std::invalid_argument);
  CHECK_THROWS_AS(reliability_bins({0.1}, {0, 1}), std::invalid_argument);
}

TEST_CASE("reliability bins: calibrated simulated predictions", "[calibration]") {
  const Sample s = simulate(20000, 20240603);
  const std::vector<ReliabilityBin> bins = reliability_bins(s.truth, s.y);
  REQUIRE(bins.size() == 10);
  std::int64_t n = 0, observed = 0, covering = 0;
  double expected = 0, sum_p = 0;
  for (double p : s.truth) sum_p += p;
  for (std::size_t k = 0; k < bins.size(); ++k) {
    CHECK(bins[k].index == static_cast<int>(k + 1));
    CHECK(bins[k].n == 2000);
    CHECK(bins[k].min_predicted <= bins[k].mean_predicted);
    CHECK(bins[k].mean_predicted <= bins[k].max_predicted);
    if (k > 0) {
      CHECK(bins[k - 1].max_predicted <= bins[k].min_predicted);
      CHECK(bins[k - 1].mean_predicted < bins[k].mean_predicted);
    }
    n += bins[k].n;
    observed += bins[k].observed;
    expected += bins[k].expected;
    covering += bins[k].o_e_low95 <= 1.0 && 1.0 <= bins[k].o_e_high95;
  }
  std::int64_t events = 0;
  for (std::uint8_t y : s.y) events += y;
  CHECK(n == 20000);
  CHECK(observed == events);
  CHECK(expected == Approx(sum_p).epsilon(1e-10));
  const Interval total = poisson_ratio_interval(observed, expected);
  CHECK(total.low < 1.0);
  CHECK(total.high > 1.0);
  CHECK(covering >= 8);
}

TEST_CASE("reliability bins: predictions twice the truth give O/E below 1", "[calibration]") {
  const Sample s = simulate(20000, 20240604, -2.5, 0.6);
  std::vector<double> doubled;
  for (double p : s.truth) doubled.push_back(std::min(1.0, 2 * p));
  const std::vector<ReliabilityBin> bins = reliability_bins(doubled, s.y);
  std::int64_t observed = 0;
  double expected = 0;
  for (const ReliabilityBin& b : bins) {
    observed += b.observed;
    expected += b.expected;
    CHECK(b.o_e_high95 < 1.0);
  }
  const Interval total = poisson_ratio_interval(observed, expected);
  CHECK(static_cast<double>(observed) / expected == Approx(0.5).margin(0.05));
  CHECK(total.high < 1.0);
}
