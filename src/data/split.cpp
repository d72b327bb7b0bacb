#include "reinforcer/data/split.hpp"

#include <algorithm>
#include <numeric>

#include "reinforcer/core/rng.hpp"

namespace reinforcer {

TemporalCutoffs assign_temporal_split(CustomerTable& table, const std::array<int, 3>& shares) {
  auto& cs = table.customers;
  // (t0, sheet position) packed in one key: sorting keys is a stable sort by t0.
  std::vector<std::uint64_t> dated;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    cs[i].split = Split::none;
    if (cs[i].cohort != Cohort::undated)
      dated.push_back((static_cast<std::uint64_t>(static_cast<std::uint32_t>(cs[i].t0) ^ 0x80000000u) << 32) | i);
  }
  TemporalCutoffs cut;
  if (dated.empty()) return cut;
  std::sort(dated.begin(), dated.end());
  const auto n = static_cast<std::int64_t>(dated.size());
  const auto at = [&](std::int64_t pos1) {  // t0 at a 1-based position, clamped
    return cs[dated[static_cast<std::size_t>(std::clamp<std::int64_t>(pos1, 1, n) - 1)] & 0xFFFFFFFFu].t0;
  };
  cut.train_end = at(shares[0] * n / 100);
  cut.val_end = at((shares[0] + shares[1]) * n / 100);
  for (Customer& c : cs) {
    if (c.cohort == Cohort::undated) continue;
    c.split = c.t0 <= cut.train_end ? Split::train : c.t0 <= cut.val_end ? Split::val : Split::test;
  }
  return cut;
}

void assign_folds(CustomerTable& table, int folds, std::uint64_t seed) {
  auto& cs = table.customers;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    cs[i].fold = -1;
    if (cs[i].cohort != Cohort::undated) order.push_back(i);
  }
  RandomStream rng(seed, /*stream=*/0xF01D);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  // Strata in the contract's order, each keeping the shuffled order; one running counter.
  const auto stratum = [&](std::size_t i) {
    const Customer& c = cs[i];
    if (c.cohort == Cohort::inbound) return c.subscribed ? 1 : 0;
    return c.subscribed ? 2 : 3;
  };
  std::array<std::vector<std::size_t>, 4> strata;
  for (std::size_t i : order) strata[static_cast<std::size_t>(stratum(i))].push_back(i);
  std::size_t counter = 0;
  for (const auto& members : strata)
    for (std::size_t i : members) cs[i].fold = static_cast<std::int8_t>(counter++ % static_cast<std::size_t>(folds));
}

std::vector<SplitSummaryRow> summarize_splits(const CustomerTable& table, int folds) {
  // One pass: counts[group][cohort] with groups all, train, val, test, fold-0.. and cohorts
  // all, outbound, inbound, undated.
  const std::size_t groups = 4 + static_cast<std::size_t>(folds);
  std::vector<std::array<std::int64_t, 8>> counts(groups, std::array<std::int64_t, 8>{});
  auto add = [&](std::size_t g, const Customer& c) {
    const std::size_t k = 1 + static_cast<std::size_t>(c.cohort);
    ++counts[g][0], counts[g][4] += c.subscribed;
    ++counts[g][k], counts[g][4 + k] += c.subscribed;
  };
  for (const Customer& c : table.customers) {
    add(0, c);
    if (c.split != Split::none) add(1 + static_cast<std::size_t>(c.split), c);
    if (c.fold >= 0 && c.fold < folds) add(4 + static_cast<std::size_t>(c.fold), c);
  }
  static const std::array<std::string, 4> kCohorts = {"all", "outbound", "inbound", "undated"};
  std::vector<SplitSummaryRow> rows;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::string name = g == 0 ? "all" : g < 4 ? std::string(kSplitNames[g - 1]) : "fold-" + std::to_string(g - 4);
    for (std::size_t k = 0; k < 4; ++k)
      if (counts[g][k] > 0 || k == 0) rows.push_back(SplitSummaryRow{name, kCohorts[k], counts[g][k], counts[g][4 + k]});
  }
  return rows;
}

}  // namespace reinforcer
