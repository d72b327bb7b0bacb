#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/rl/trainer.hpp"
#include "reinforcer/rl/worker_table.hpp"

using namespace reinforcer;

TEST_CASE("worker table: reads the shared table until a row is updated, then its own copy", "[worker_table]") {
  constexpr std::size_t kRows = 5000;
  std::vector<double> shared(kRows * kQStride);
  for (std::size_t i = 0; i < shared.size(); ++i) shared[i] = static_cast<double>(i);
  WorkerTable t;
  t.attach(shared.data(), kRows);
  CHECK(t.row(17) == shared.data() + 17 * kQStride);
  CHECK(t.slot_of(17) == WorkerTable::kNone);
  // Many rows: the index grows past its first size and every copy stays findable.
  for (std::uint32_t r = 0; r < kRows; r += 2) {
    const WorkerTable::MutableRow m = t.update(r);
    CHECK(m.q[3] == shared[r * kQStride + 3]);  // copied from the shared row
    m.q[3] = -1.0;
    ++m.visits[3];
  }
  CHECK(t.rows_touched().size() == kRows / 2);
  for (std::uint32_t r = 0; r < kRows; ++r) {
    INFO("row " << r);
    CHECK(t.row(r)[3] == (r % 2 == 0 ? -1.0 : shared[r * kQStride + 3]));
    CHECK(shared[r * kQStride + 3] == static_cast<double>(r * kQStride + 3));  // the shared table is untouched
  }
  CHECK(t.visits(t.slot_of(42))[3] == 1);
  CHECK(t.update(42).q == t.row(42));  // updating again finds the same copy
  CHECK(t.rows_touched().size() == kRows / 2);
  t.clear();
  CHECK(t.rows_touched().empty());
  for (std::uint32_t r = 0; r < kRows; ++r) CHECK(t.slot_of(r) == WorkerTable::kNone);
  // After a small round the index is cleared position by position; it must still find rows.
  for (std::uint32_t r : {7u, 7u + 1024u, 7u + 2048u, 9u}) t.update(r).visits[0] = 1;
  t.clear();
  for (std::uint32_t r : {7u, 7u + 1024u, 7u + 2048u, 9u}) CHECK(t.slot_of(r) == WorkerTable::kNone);
  t.update(7u + 2048u);
  CHECK(t.slot_of(7u + 2048u) == 0);
  CHECK(t.bytes() < kRows * kQStride * (sizeof(double) + sizeof(std::int32_t)));  // it follows the rows touched
}

TEST_CASE("fixed point: 2^24 for everyday values, smaller when the sums could pass 2^62", "[worker_table]") {
  CHECK(fixed_point_scale(0.0, 1000) == std::ldexp(1.0, 24));
  CHECK(fixed_point_scale(100.0, 1000000) == std::ldexp(1.0, 24));
  for (const double q : {1e8, 1e12, 1e20, 1e300}) {
    for (const std::int64_t visits : {std::int64_t{1000}, std::int64_t{1} << 30}) {
      const double scale = fixed_point_scale(q, visits);
      INFO("max |Q| " << q << ", visits " << visits << ", scale " << scale);
      CHECK(static_cast<double>(visits) * (q * scale + 1) <= std::ldexp(1.0, 62));
      CHECK(scale <= std::ldexp(1.0, 24));
      if (scale < std::ldexp(1.0, 24))  // the largest such power of two
        CHECK(static_cast<double>(visits) * (q * 2 * scale + 1) > std::ldexp(1.0, 62));
    }
  }
  CHECK_THROWS_AS(fixed_point_scale(std::numeric_limits<double>::infinity(), 10), InputError);
  CHECK_THROWS_AS(fixed_point_scale(std::numeric_limits<double>::quiet_NaN(), 10), InputError);
}
