#include "reinforcer/data/split.hpp"

#include <algorithm>
#include <numeric>

#include "reinforcer/parallel/rng.hpp"

namespace reinforcer {

TemporalCutoffs assign_temporal_split(CustomerTable& table, const std::array<int, 3>& shares) {
  auto& cs = table.customers;
  std::vector<std::size_t> dated;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    cs[i].split = Split::none;
    if (cs[i].cohort != Cohort::undated) dated.push_back(i);
  }
  TemporalCutoffs cut;
  if (dated.empty()) return cut;
  std::stable_sort(dated.begin(), dated.end(), [&](std::size_t a, std::size_t b) { return cs[a].t0 < cs[b].t0; });
  const auto n = static_cast<std::int64_t>(dated.size());
  const auto at = [&](std::int64_t pos1) {  // t0 at a 1-based position, clamped
    return cs[dated[static_cast<std::size_t>(std::clamp<std::int64_t>(pos1, 1, n) - 1)]].t0;
  };
  cut.train_end = at(shares[0] * n / 100);
  cut.val_end = at((shares[0] + shares[1]) * n / 100);
  for (std::size_t i : dated) {
    Customer& c = cs[i];
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
  const auto stratum = [&](std::size_t i) {
    const Customer& c = cs[i];
    if (c.cohort == Cohort::inbound) return c.subscribed ? 1 : 0;
    return c.subscribed ? 2 : 3;
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return stratum(a) < stratum(b); });
  std::size_t counter = 0;
  for (std::size_t i : order) cs[i].fold = static_cast<std::int8_t>(counter++ % static_cast<std::size_t>(folds));
}

std::vector<SplitSummaryRow> summarize_splits(const CustomerTable& table, int folds) {
  std::vector<SplitSummaryRow> rows;
  const std::array<std::string, 4> cohorts = {"all", "outbound", "inbound", "undated"};
  auto add = [&](const std::string& split, auto in_split) {
    for (const auto& cohort : cohorts) {
      SplitSummaryRow r{split, cohort, 0, 0};
      for (const Customer& c : table.customers) {
        if (!in_split(c)) continue;
        if (cohort != "all" && kCohortNames[static_cast<std::size_t>(c.cohort)] != cohort) continue;
        ++r.customers;
        r.subscribed += c.subscribed;
      }
      if (r.customers > 0 || cohort == "all") rows.push_back(r);
    }
  };
  add("all", [](const Customer&) { return true; });
  for (int s = 0; s < 3; ++s)
    add(std::string(kSplitNames[static_cast<std::size_t>(s)]), [s](const Customer& c) { return static_cast<int>(c.split) == s; });
  for (int f = 0; f < folds; ++f) add("fold-" + std::to_string(f), [f](const Customer& c) { return c.fold == f; });
  return rows;
}

}  // namespace reinforcer
