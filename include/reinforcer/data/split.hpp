#pragma once
// The temporal split and the stratified cross-validation folds (CONTRACT.md, "Splits").
#include <array>
#include <cstdint>
#include <vector>

#include "reinforcer/data/customer_table.hpp"

namespace reinforcer {

struct SplitOptions {
  int folds = 5;
  std::uint64_t seed = 1;
  std::array<int, 3> shares{70, 15, 15};  // train, val, test percentages
};

struct TemporalCutoffs {
  Day train_end = kNoDay;  // last t0 in train (inclusive)
  Day val_end = kNoDay;    // last t0 in val (inclusive)
};

// Dated customers in t0 order (ties in sheet order); the cut-offs are the t0 at 1-based
// positions floor(a*n/100) and floor((a+b)*n/100); a t0 equal to a cut-off goes early.
TemporalCutoffs assign_temporal_split(CustomerTable& table, const std::array<int, 3>& shares);

// Shuffle the dated customers with the seed, group them into strata (inbound-negative,
// inbound-positive, outbound-positive, outbound-negative) and deal them to folds with one
// running counter.
void assign_folds(CustomerTable& table, int folds, std::uint64_t seed);

struct SplitSummaryRow {
  std::string split;   // train/val/test/all, or fold-N
  std::string cohort;  // outbound/inbound/undated/all
  std::int64_t customers = 0;
  std::int64_t subscribed = 0;
};
// Customers and subscribers per temporal split, per fold and overall, each by cohort.
std::vector<SplitSummaryRow> summarize_splits(const CustomerTable& table, int folds);

}  // namespace reinforcer
