#pragma once
// Proportions with honest error bars.
#include <cstdint>

namespace reinforcer {

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

// Wilson score interval for k successes in n trials (z = 1.96: 95%); [0, 1] when n = 0.
Interval wilson_interval(std::int64_t k, std::int64_t n, double z = 1.959963984540054);

}  // namespace reinforcer
