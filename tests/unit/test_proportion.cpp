#include <catch2/catch.hpp>

#include "reinforcer/stats/proportion.hpp"

using namespace reinforcer;

TEST_CASE("Wilson interval equals hand-computed values", "[statistics]") {
  // 50 of 11,032 (the real export's base rate), computed by hand from the Wilson formula.
  const Interval a = wilson_interval(50, 11032);
  CHECK(a.low == Approx(0.0034396).epsilon(1e-4));
  CHECK(a.high == Approx(0.0059699).epsilon(1e-4));
  const Interval b = wilson_interval(5, 10);  // symmetric around 1/2
  CHECK(b.low == Approx(0.236593).epsilon(1e-5));
  CHECK(b.high == Approx(0.763407).epsilon(1e-5));
  const Interval z = wilson_interval(0, 435);  // no successes: the lower bound is 0, the upper is not
  CHECK(z.low == 0.0);
  CHECK(z.high == Approx(0.0087537).epsilon(1e-4));
  const Interval none = wilson_interval(0, 0);
  CHECK((none.low == 0.0 && none.high == 1.0));
}
