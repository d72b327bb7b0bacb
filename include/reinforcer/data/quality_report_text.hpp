#pragma once
// The quality report as a person reads it on a terminal.
#include <iosfwd>
#include <string>

#include "reinforcer/data/quality_report.hpp"
#include "reinforcer/data/split.hpp"

namespace reinforcer {

struct PreparedData;

void print_quality_report(std::ostream& out, const QualityReport& report);
// Customers, subscribers and base rate (Wilson 95% interval) per split and cohort.
void print_split_summary(std::ostream& out, const CustomerTable& table, const SplitOptions& options,
                         const TemporalCutoffs& cutoffs);

std::string with_thousands(std::int64_t n);  // 11032 -> "11,032"

}  // namespace reinforcer
