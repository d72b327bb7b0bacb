#include "reinforcer/stats/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "reinforcer/stats/proportion.hpp"

namespace reinforcer {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZ95 = 1.959963984540054;
constexpr double kClamp = 1e-9;
constexpr std::int64_t kMinEvents = 10;  // of each class, for a slope worth a verdict
constexpr int kMaxIterations = 100;
constexpr int kMaxHalvings = 40;

void check_inputs(const std::vector<double>& predicted, const std::vector<std::uint8_t>& observed, const char* caller) {
  if (predicted.size() != observed.size())
    throw std::invalid_argument(std::string(caller) + ": " + std::to_string(predicted.size()) + " predictions but " +
                                std::to_string(observed.size()) + " outcomes");
  for (std::size_t i = 0; i < predicted.size(); ++i)
    if (!(predicted[i] >= 0.0 && predicted[i] <= 1.0))
      throw std::invalid_argument(std::string(caller) + ": prediction " + std::to_string(i) + " is " +
                                  std::to_string(predicted[i]) + ", not a probability");
}

double logit_clamped(double p) {
  const double q = std::clamp(p, kClamp, 1.0 - kClamp);
  return std::log(q / (1.0 - q));
}

double sigmoid(double eta) {
  if (eta >= 0) return 1.0 / (1.0 + std::exp(-eta));
  const double e = std::exp(eta);
  return e / (1.0 + e);
}

// log(1 + exp(eta)) without overflow.
double softplus(double eta) { return std::max(eta, 0.0) + std::log1p(std::exp(-std::abs(eta))); }

struct Fit {
  double a = 0.0, b = 0.0;
};

double log_likelihood(const std::vector<double>& x, const std::vector<std::uint8_t>& y, Fit f) {
  double ll = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double eta = f.a + f.b * x[i];
    ll += (y[i] ? eta : 0.0) - softplus(eta);
  }
  return ll;
}

// Fisher information [[h00, h01], [h01, h11]] and score (g0, g1) at f.
struct Derivatives {
  double h00 = 0, h01 = 0, h11 = 0, g0 = 0, g1 = 0;
  double det() const { return h00 * h11 - h01 * h01; }
};

Derivatives derivatives(const std::vector<double>& x, const std::vector<std::uint8_t>& y, Fit f) {
  Derivatives d;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double mu = sigmoid(f.a + f.b * x[i]);
    const double w = mu * (1.0 - mu);
    const double r = (y[i] ? 1.0 : 0.0) - mu;
    d.h00 += w;
    d.h01 += w * x[i];
    d.h11 += w * x[i] * x[i];
    d.g0 += r;
    d.g1 += r * x[i];
  }
  return d;
}

// The maximum likelihood estimate exists unless the outcomes are (quasi-)separated by x: every
// event at or above every non-event, or every event at or below (this includes all x equal).
bool separated(const std::vector<double>& x, const std::vector<std::uint8_t>& y) {
  double min1 = std::numeric_limits<double>::infinity(), max1 = -min1, min0 = min1, max0 = -min1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (y[i]) {
      min1 = std::min(min1, x[i]);
      max1 = std::max(max1, x[i]);
    } else {
      min0 = std::min(min0, x[i]);
      max0 = std::max(max0, x[i]);
    }
  }
  return max0 <= min1 || max1 <= min0;
}

}  // namespace

CalibrationSlope calibration_slope(const std::vector<double>& predicted, const std::vector<std::uint8_t>& observed) {
  check_inputs(predicted, observed, "calibration_slope");
  CalibrationSlope out;
  out.n = static_cast<std::int64_t>(predicted.size());
  out.events = std::count_if(observed.begin(), observed.end(), [](std::uint8_t v) { return v != 0; });
  out.slope = out.slope_low95 = out.slope_high95 = kNaN;
  out.intercept = out.intercept_low95 = out.intercept_high95 = kNaN;
  const bool too_few = out.events < kMinEvents || out.n - out.events < kMinEvents;

  std::vector<std::uint8_t> y(observed.size());
  std::transform(observed.begin(), observed.end(), y.begin(), [](std::uint8_t v) { return v != 0 ? 1 : 0; });
  std::vector<double> x(predicted.size());
  std::transform(predicted.begin(), predicted.end(), x.begin(), logit_clamped);

  if (out.events > 0 && out.events < out.n && !separated(x, y)) {
    // Start from the constant model: a = logit(event rate), b = 0 (always a finite likelihood).
    const double rate = static_cast<double>(out.events) / static_cast<double>(out.n);
    Fit f{std::log(rate / (1.0 - rate)), 0.0};
    double ll = log_likelihood(x, y, f);
    for (int it = 1; it <= kMaxIterations && !out.converged; ++it) {
      out.iterations = it;
      const Derivatives d = derivatives(x, y, f);
      const double det = d.det();
      if (!(det > 0.0) || !std::isfinite(det)) break;
      const double step_a = (d.h11 * d.g0 - d.h01 * d.g1) / det;
      const double step_b = (d.h00 * d.g1 - d.h01 * d.g0) / det;
      if (!std::isfinite(step_a) || !std::isfinite(step_b)) break;
      // Newton converges quadratically: a step this small leaves nothing to gain.
      const bool small = std::abs(step_a) <= 1e-9 * (1.0 + std::abs(f.a)) && std::abs(step_b) <= 1e-9 * (1.0 + std::abs(f.b));
      // Step halving keeps the likelihood from decreasing (beyond rounding).
      double scale = 1.0;
      Fit next{f.a + step_a, f.b + step_b};
      double ll_next = log_likelihood(x, y, next);
      for (int h = 0; h < kMaxHalvings && !(ll_next >= ll - 1e-12 * std::abs(ll)); ++h) {
        scale /= 2;
        next = {f.a + scale * step_a, f.b + scale * step_b};
        ll_next = log_likelihood(x, y, next);
      }
      if (!(ll_next >= ll - 1e-12 * std::abs(ll))) break;  // no ascent direction: give up
      f = next;
      ll = ll_next;
      if (small) out.converged = true;
    }
    if (out.converged) {
      const Derivatives d = derivatives(x, y, f);
      const double det = d.det();
      const double se_a = std::sqrt(d.h11 / det), se_b = std::sqrt(d.h00 / det);
      if (det > 0.0 && std::isfinite(se_a) && std::isfinite(se_b) && std::isfinite(f.a) && std::isfinite(f.b)) {
        out.intercept = f.a;
        out.intercept_low95 = f.a - kZ95 * se_a;
        out.intercept_high95 = f.a + kZ95 * se_a;
        out.slope = f.b;
        out.slope_low95 = f.b - kZ95 * se_b;
        out.slope_high95 = f.b + kZ95 * se_b;
      } else {
        out.converged = false;
      }
    }
  }

  if (too_few)
    out.verdict = "too few events";
  else if (!out.converged)
    out.verdict = "did not converge";
  else
    out.verdict = out.slope_low95 > 1.0 || out.slope_high95 < 1.0 ? "miscalibrated" : "consistent";
  return out;
}

std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& predicted,
                                             const std::vector<std::uint8_t>& observed, int bins) {
  check_inputs(predicted, observed, "reliability_bins");
  if (bins < 1) throw std::invalid_argument("reliability_bins: bins must be >= 1, not " + std::to_string(bins));
  const std::size_t n = predicted.size();
  const std::size_t groups = std::min(n, static_cast<std::size_t>(bins));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  // Ties keep input order: the split of a tied block at a cut is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return predicted[i] < predicted[j]; });

  std::vector<ReliabilityBin> out;
  out.reserve(groups);
  for (std::size_t k = 0; k < groups; ++k) {
    const std::size_t begin = k * n / groups, end = (k + 1) * n / groups;
    ReliabilityBin b;
    b.index = static_cast<int>(k + 1);
    b.n = static_cast<std::int64_t>(end - begin);
    b.min_predicted = predicted[order[begin]];
    b.max_predicted = predicted[order[end - 1]];
    for (std::size_t s = begin; s < end; ++s) {
      b.expected += predicted[order[s]];
      b.observed += observed[order[s]] != 0;
    }
    const double nn = static_cast<double>(b.n);
    b.mean_predicted = b.expected / nn;
    b.observed_rate = static_cast<double>(b.observed) / nn;
    const Interval w = wilson_interval(b.observed, b.n);
    b.rate_low95 = w.low;
    b.rate_high95 = w.high;
    b.o_e = b.expected > 0.0 ? static_cast<double>(b.observed) / b.expected : kNaN;
    const Interval r = poisson_ratio_interval(b.observed, b.expected);
    b.o_e_low95 = r.low;
    b.o_e_high95 = r.high;
    out.push_back(b);
  }
  return out;
}

}  // namespace reinforcer
