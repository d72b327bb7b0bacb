#pragma once
// Proportions and counts with honest error bars.
#include <cstdint>

namespace reinforcer {

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

// Wilson score interval for k successes in n trials (z = 1.96: 95%); [0, 1] when n = 0.
Interval wilson_interval(std::int64_t k, std::int64_t n, double z = 1.959963984540054);

// Exact (Garwood) interval for the mean of a Poisson count, given the observed count k >= 0:
// [chi2_quantile(a/2, 2k) / 2, chi2_quantile(1 - a/2, 2k + 2) / 2] with a = 1 - level; the
// lower end is 0 when k = 0. Exact means it covers at least `level` for every mean, never less.
Interval poisson_interval(std::int64_t k, double level = 0.95);

// The ratio O/E of an observed count O to an expected count E (a model's sum of predicted
// probabilities, taken as known): the exact interval of O divided by E. NaN bounds when E <= 0.
Interval poisson_ratio_interval(std::int64_t observed, double expected, double level = 0.95);

}  // namespace reinforcer
