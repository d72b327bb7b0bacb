#pragma once
// Calibration of predicted probabilities against 0/1 outcomes: a logistic recalibration slope
// and a reliability (binned observed versus expected) table.
//
// Conventions shared by both functions:
// - predicted[i] is the (out-of-fold) probability of the event for customer i, observed[i]
//   whether it happened; an outcome counts as an event when it is non-zero.
// - predicted and observed must have the same length and every prediction must lie in [0, 1]
//   (NaN rejected): std::invalid_argument otherwise. Nothing else throws.
#include <cstdint>
#include <string>
#include <vector>

namespace reinforcer {

// Logistic recalibration: y ~ Bernoulli(sigmoid(a + b * logit(p))), p clamped to
// [1e-9, 1 - 1e-9] for the logit, fitted by maximum likelihood (Newton-Raphson, which is IRLS
// here, with step halving). Well calibrated means b = 1 and a = 0; b < 1: predictions too
// extreme (overfitting), b > 1: too timid. Intervals are Wald 95% (estimate +- 1.96 SE from the
// inverse Fisher information).
//
// verdict, the first that applies:
//   "too few events"   fewer than 10 events or fewer than 10 non-events (the estimates are
//                      kept when the fit converged, NaN otherwise);
//   "did not converge" the maximum likelihood estimate does not exist (the outcomes are
//                      separated by the prediction, e.g. all predictions equal) or Newton did
//                      not converge; estimates NaN;
//   "miscalibrated"    the slope's interval excludes 1;
//   "consistent"       otherwise.
struct CalibrationSlope {
  std::int64_t n = 0;       // customers
  std::int64_t events = 0;  // of them with an event
  double slope = 0.0, slope_low95 = 0.0, slope_high95 = 0.0;              // b
  double intercept = 0.0, intercept_low95 = 0.0, intercept_high95 = 0.0;  // a
  int iterations = 0;      // Newton iterations used
  bool converged = false;  // the fit reached a finite maximum
  std::string verdict;
};

CalibrationSlope calibration_slope(const std::vector<double>& predicted, const std::vector<std::uint8_t>& observed);

// One group of a reliability table. Rates and ratios of an empty quantity are NaN: O/E (and its
// interval) when expected is 0.
struct ReliabilityBin {
  int index = 0;       // 1..bins, in increasing prediction
  std::int64_t n = 0;  // customers in the bin
  double min_predicted = 0.0, max_predicted = 0.0, mean_predicted = 0.0;
  double expected = 0.0;      // E = sum of the predictions
  std::int64_t observed = 0;  // O = events
  double observed_rate = 0.0, rate_low95 = 0.0, rate_high95 = 1.0;  // O / n, Wilson 95%
  double o_e = 0.0, o_e_low95 = 0.0, o_e_high95 = 0.0;              // O / E, exact Poisson 95%
};

// Customers sorted by prediction and cut into `bins` groups of nearly equal count: with n
// customers, group k = 0..bins-1 holds sorted positions [floor(k n / bins), floor((k+1) n / bins)),
// so sizes differ by at most one. Equal predictions are ordered by input position, so a block
// of ties straddling a cut is split deterministically: earlier customers go to the lower group. Fewer customers than bins: one group per customer; no
// customers: no groups. bins must be >= 1 (std::invalid_argument otherwise).
std::vector<ReliabilityBin> reliability_bins(const std::vector<double>& predicted,
                                             const std::vector<std::uint8_t>& observed, int bins = 10);

}  // namespace reinforcer
