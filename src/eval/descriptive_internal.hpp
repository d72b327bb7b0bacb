#pragma once
// Shared by descriptive_segments.cpp and descriptive_funnel.cpp.
#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

#include "reinforcer/eval/descriptive.hpp"
#include "reinforcer/stats/proportion.hpp"

namespace reinforcer::descriptive_detail {

// Cohorts of the tables: every dated customer, then each dated cohort.
inline constexpr std::array<std::string_view, 3> kTableCohorts = {"all", "outbound", "inbound"};

inline bool dated(const Customer& c) { return c.cohort == Cohort::outbound || c.cohort == Cohort::inbound; }
inline bool in_cohort(const Customer& c, std::size_t k) {
  if (k == 0) return dated(c);
  return c.cohort == (k == 1 ? Cohort::outbound : Cohort::inbound);
}

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline double ratio(std::int64_t k, std::int64_t n) {
  return n > 0 ? static_cast<double>(k) / static_cast<double>(n) : kNaN;
}

// rate, low95, high95 of k successes in n trials (rate NaN when n = 0, interval [0, 1]).
struct Proportion {
  double rate, low95, high95;
};
inline Proportion proportion(std::int64_t k, std::int64_t n) {
  const Interval w = wilson_interval(k, n);
  return {ratio(k, n), w.low, w.high};
}

void add_funnel(const CustomerTable& table, Day export_date, DescriptiveTables& out);
void add_milestones(const CustomerTable& table, DescriptiveTables& out);

}  // namespace reinforcer::descriptive_detail
