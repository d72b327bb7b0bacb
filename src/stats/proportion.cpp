#include "reinforcer/stats/proportion.hpp"

#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace reinforcer {

Interval wilson_interval(std::int64_t k, std::int64_t n, double z) {
  if (n <= 0) return {0.0, 1.0};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
  const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Interval poisson_interval(std::int64_t k, double level) {
  if (k < 0) throw std::invalid_argument("poisson_interval: negative count " + std::to_string(k));
  if (!(level > 0.0 && level < 1.0)) throw std::invalid_argument("poisson_interval: level must lie in (0, 1)");
  const double tail = (1.0 - level) / 2.0;
  const double kk = static_cast<double>(k);
  // Chi-squared with 0 degrees of freedom is degenerate at 0, which is the lower end for k = 0.
  const double low = k == 0 ? 0.0 : quantile(boost::math::chi_squared_distribution<double>(2 * kk), tail) / 2.0;
  const double high = quantile(boost::math::chi_squared_distribution<double>(2 * kk + 2), 1.0 - tail) / 2.0;
  return {low, high};
}

Interval poisson_ratio_interval(std::int64_t observed, double expected, double level) {
  const Interval count = poisson_interval(observed, level);
  if (!(expected > 0.0)) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  return {count.low / expected, count.high / expected};
}

}  // namespace reinforcer
