#include <catch2/catch.hpp>
#include <map>

#include "reinforcer/data/split.hpp"

using namespace reinforcer;

namespace {
// n customers: every 7th inbound, every 13th subscribed, t0 rising by one day per customer
// (with ties in pairs), every 20th undated.
CustomerTable table(int n) {
  CustomerTable t;
  for (int i = 0; i < n; ++i) {
    Customer c;
    c.id = i + 1;
    c.sheet_row = i + 2;
    c.cohort = i % 20 == 19 ? Cohort::undated : i % 7 == 0 ? Cohort::inbound : Cohort::outbound;
    c.subscribed = c.cohort != Cohort::undated && i % 13 == 0;
    c.t0 = c.cohort == Cohort::undated ? kNoDay : 18000 + i / 2;
    t.customers.push_back(c);
  }
  return t;
}
}  // namespace

TEST_CASE("temporal split: cut-offs at floor(70n/100) and floor(85n/100), ties go early", "[split]") {
  CustomerTable t = table(10);  // all dated (the first undated is i = 19)
  const auto cut = assign_temporal_split(t, {70, 15, 15});
  // 10 dated customers with t0 = 18000,18000,18001,18001,...,18004,18004.
  // Position floor(7) -> customer 6 (t0 18003); floor(8.5)=8 -> customer 7 (t0 18003).
  CHECK(cut.train_end == 18003);
  CHECK(cut.val_end == 18003);
  int train = 0, val = 0, test = 0;
  for (const auto& c : t.customers) train += c.split == Split::train, val += c.split == Split::val, test += c.split == Split::test;
  CHECK(train == 8);  // the tie at 18003 goes to train entirely
  CHECK(val == 0);
  CHECK(test == 2);
}

TEST_CASE("folds: strata, cohorts and subscribers differ by at most one; seeded", "[split]") {
  CustomerTable t = table(5000);
  assign_folds(t, 5, 42);
  std::map<int, std::map<int, int>> per_fold;
  for (const auto& c : t.customers) {
    if (c.cohort == Cohort::undated) {
      CHECK(c.fold == -1);
      continue;
    }
    REQUIRE((c.fold >= 0 && c.fold < 5));
    ++per_fold[c.fold][(c.cohort == Cohort::inbound ? 0 : 2) + c.subscribed];
    ++per_fold[c.fold][10 + static_cast<int>(c.cohort)];
    per_fold[c.fold][20] += c.subscribed;
  }
  for (int key : {0, 1, 2, 3, 10, 11, 20}) {
    int lo = 1 << 30, hi = -1;
    for (auto& [f, m] : per_fold) lo = std::min(lo, m[key]), hi = std::max(hi, m[key]);
    CHECK(hi - lo <= 1);
  }
  CustomerTable same = table(5000), other = table(5000);
  assign_folds(same, 5, 42);
  assign_folds(other, 5, 43);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < t.customers.size(); ++i) {
    REQUIRE(same.customers[i].fold == t.customers[i].fold);
    differ += other.customers[i].fold != t.customers[i].fold;
  }
  CHECK(differ > t.customers.size() / 2);
}

TEST_CASE("split summary counts customers and subscribers per split and cohort", "[split]") {
  CustomerTable t = table(100);
  assign_temporal_split(t, {70, 15, 15});
  assign_folds(t, 4, 1);
  std::int64_t all = 0, all_sub = 0, fold_total = 0;
  for (const auto& r : summarize_splits(t, 4)) {
    if (r.split == "all" && r.cohort == "all") all = r.customers, all_sub = r.subscribed;
    if (r.split.rfind("fold-", 0) == 0 && r.cohort == "all") fold_total += r.customers;
  }
  CHECK(all == 100);
  CHECK(all_sub == 7);  // i = 0,13,...,91 but not 39, which is undated
  CHECK(fold_total == 95);
}
