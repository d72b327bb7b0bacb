// Every count CONTRACT.md gives for the real export, asserted exactly.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/split.hpp"
#include "reinforcer/eval/descriptive.hpp"
#include "../unit/progress_value_check.hpp"

using namespace reinforcer;

const char* real_export_path();

namespace {
const IngestResult& real() {
  static const IngestResult r = ingest_crm(real_export_path(), IngestOptions{});
  return r;
}
std::int64_t count(const std::string& column, CellClass c) {
  return real().report.column(column).counts[static_cast<std::size_t>(c)];
}
using CC = CellClass;
}  // namespace

TEST_CASE("real export: customers, blank rows and export date", "[real]") {
  CHECK(real().report.customers == 11032);
  CHECK(real().table.customers.size() == 11032);
  CHECK(real().report.blank_rows == 778);
  CHECK(format_day(real().report.export_date) == "2022-04-28");
  CHECK(real().report.export_date_inferred);
}

TEST_CASE("real export: date column classes", "[real]") {
  struct Row { const char* column; std::int64_t empty, ok, repaired, negative, rejected; };
  const Row rows[] = {
      {"First Contact", 715, 10316, 0, 0, 1},          {"Last Contact", 310, 10648, 31, 0, 43},
      {"First Call", 10591, 441, 0, 0, 0},             {"Signed up for a demo", 10749, 283, 0, 0, 0},
      {"Filled in customer survey", 10848, 184, 0, 0, 0}, {"Did sign up to the platform", 10609, 295, 0, 127, 1},
      {"Account Manager assigned", 10961, 71, 0, 0, 0}, {"Subscribed", 10984, 47, 0, 0, 1}};
  for (const Row& r : rows) {
    INFO(r.column);
    CHECK(count(r.column, CC::empty) == r.empty);
    CHECK(count(r.column, CC::ok) == r.ok);
    CHECK(count(r.column, CC::repaired) == r.repaired);
    CHECK(count(r.column, CC::negative) == r.negative);
    CHECK(count(r.column, CC::rejected) == r.rejected);
    CHECK(count(r.column, CC::normalised) == 0);
    CHECK(count(r.column, CC::aliased) == 0);
  }
  const auto& q = real().report;
  CHECK(q.column("First Contact").rejected("impossible date") == 1);
  CHECK(q.column("Last Contact").rejected("out of range") == 42);
  CHECK(q.column("Last Contact").rejected("impossible date") == 1);
  CHECK(q.column("Did sign up to the platform").rejected("out of range") == 1);
  CHECK(q.column("Subscribed").rejected("impossible date") == 1);
}

TEST_CASE("real export: country classes, distinct countries and USA", "[real]") {
  CHECK(count("Country", CC::empty) == 891);
  CHECK(count("Country", CC::ok) == 10066);
  CHECK(count("Country", CC::normalised) == 44);
  CHECK(count("Country", CC::aliased) == 15);
  CHECK(count("Country", CC::rejected) == 16);
  const auto& c = real().report.column("Country");
  CHECK(c.rejected("not a country") == 12);
  CHECK(c.rejected("ambiguous (Canada or California)") == 2);
  CHECK(c.rejected("several countries") == 2);
  CHECK(real().report.distinct_countries == 77);
  const auto& t = real().table;
  std::int64_t usa = 0, usa_sub = 0;
  std::map<Cohort, std::int64_t> usa_cohort;
  for (const auto& x : t.customers)
    if (x.country >= 0 && t.countries[static_cast<std::size_t>(x.country)] == "USA")
      ++usa, usa_sub += x.subscribed, ++usa_cohort[x.cohort];
  CHECK(usa == 6643);
  CHECK(usa_sub == 22);
  CHECK(usa_cohort[Cohort::outbound] == 6592);
  CHECK(usa_cohort[Cohort::inbound] == 21);
  CHECK(usa_cohort[Cohort::undated] == 30);
}

TEST_CASE("real export: education, status and stage", "[real]") {
  CHECK(count("Education", CC::empty) == 3603);
  CHECK(count("Status", CC::empty) == 803);
  CHECK(count("Stage", CC::empty) == 10088);
  for (const char* col : {"Education", "Status", "Stage"}) CHECK(count(col, CC::rejected) == 0);
}

TEST_CASE("real export: label, cohorts and decision time", "[real]") {
  std::int64_t label = 0, with_date = 0, stage_only = 0;
  std::map<Cohort, std::pair<std::int64_t, std::int64_t>> cohort;  // customers, subscribed
  std::int64_t t0_first_contact = 0, t0_step = 0, t0_none = 0;
  for (const auto& c : real().table.customers) {
    label += c.subscribed;
    const bool dated = c.milestone[static_cast<std::size_t>(Milestone::subscribed)] != kNoDay;
    with_date += dated;
    stage_only += c.subscribed && !dated;
    auto& p = cohort[c.cohort];
    ++p.first, p.second += c.subscribed;
    if (c.t0 == kNoDay) ++t0_none;
    else if (c.t0 == c.first_contact) ++t0_first_contact;
    else ++t0_step;
  }
  CHECK(label == 50);
  CHECK(with_date == 47);
  CHECK(stage_only == 3);
  CHECK(cohort[Cohort::outbound] == std::make_pair<std::int64_t, std::int64_t>(10316, 23));
  CHECK(cohort[Cohort::inbound] == std::make_pair<std::int64_t, std::int64_t>(281, 27));
  CHECK(cohort[Cohort::undated] == std::make_pair<std::int64_t, std::int64_t>(435, 0));
  CHECK(t0_first_contact == 10316);
  CHECK(t0_step == 281);
  CHECK(t0_none == 435);
}

TEST_CASE("real export: row warnings", "[real]") {
  const auto& q = real().report;
  CHECK(q.warning("last contact before first contact").count == 3);
  CHECK(q.warning("pipeline step dated before first contact").count == 14);
  CHECK(q.warning("account manager assigned on or after subscription").count == 14);
  // CONTRACT.md: 1 customer subscribed on or before t0 (outbound), no prospect at decision time.
  CHECK(q.warning("subscribed on or before decision time t0").count == 1);
  std::int64_t outbound = 0;
  for (const Customer& c : real().table.customers) outbound += subscribed_by_t0(c) && c.cohort == Cohort::outbound;
  CHECK(outbound == 1);
}

TEST_CASE("real export: temporal split and folds", "[real]") {
  CustomerTable t = real().table;
  const TemporalCutoffs cut = assign_temporal_split(t, {70, 15, 15});
  CHECK(format_day(cut.train_end) == "2021-06-23");
  CHECK(format_day(cut.val_end) == "2021-12-23");
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::int64_t>> s;
  for (const auto& r : summarize_splits(t, 5)) s[{r.split, r.cohort}] = {r.customers, r.subscribed};
  using P = std::pair<std::int64_t, std::int64_t>;
  CHECK(s[{"train", "all"}] == P(7434, 24));
  CHECK(s[{"val", "all"}] == P(1597, 12));
  CHECK(s[{"test", "all"}] == P(1566, 14));
  CHECK(s[{"train", "inbound"}] == P(4, 4));
  CHECK(s[{"test", "inbound"}] == P(133, 13));
  CHECK(s[{"test", "outbound"}] == P(1433, 1));

  assign_folds(t, 5, 1);
  std::map<int, std::map<int, std::int64_t>> strata;  // fold -> stratum -> count
  for (const auto& c : t.customers) {
    if (c.cohort == Cohort::undated) {
      CHECK(c.fold == -1);
      continue;
    }
    const int stratum = (c.cohort == Cohort::inbound ? 0 : 2) + c.subscribed;
    ++strata[c.fold][stratum];
    ++strata[c.fold][10 + static_cast<int>(c.cohort)];
    strata[c.fold][20] += c.subscribed;
  }
  REQUIRE(strata.size() == 5);
  for (int key : {0, 1, 2, 3, 10, 11, 20}) {
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (auto& [fold, m] : strata) lo = std::min(lo, m[key]), hi = std::max(hi, m[key]);
    INFO("stratum key " << key);
    CHECK(hi - lo <= 1);
  }
}

// Descriptive tables (evaluation): segments and status cover the dated customers only.

namespace {
const DescriptiveTables& real_descriptive() {
  static const DescriptiveTables d = [] {
    DescriptiveOptions o;
    o.export_date = real().report.export_date;
    return describe_customers(real().table, o);
  }();
  return d;
}
}  // namespace

TEST_CASE("real export: descriptive country segments cover the dated customers", "[real][descriptive]") {
  const DescriptiveTables& d = real_descriptive();
  std::map<std::string, const SegmentRow*> usa;
  std::map<std::string, std::int64_t> customers, subscribers;
  for (const SegmentRow& r : d.segments) {
    if (r.grouping != "country") continue;
    customers[r.cohort] += r.customers;
    subscribers[r.cohort] += r.subscribers;
    if (r.segment == "USA") usa[r.cohort] = &r;
  }
  REQUIRE(usa.size() == 3);
  CHECK(usa["all"]->customers == 6613);
  CHECK(usa["outbound"]->customers == 6592);
  CHECK(usa["inbound"]->customers == 21);
  CHECK(usa["all"]->subscribers == 22);
  CHECK(usa["all"]->country == "USA");
  CHECK(customers["all"] == 10597);
  CHECK(customers["outbound"] == 10316);
  CHECK(customers["inbound"] == 281);
  CHECK(subscribers["all"] == 50);
  CHECK(subscribers["outbound"] == 23);
  CHECK(subscribers["inbound"] == 27);
  for (const char* grouping : {"education", "country x education"}) {
    std::map<std::string, std::int64_t> n;
    for (const SegmentRow& r : d.segments)
      if (r.grouping == grouping) n[r.cohort] += r.customers;
    INFO(grouping);
    CHECK(n["all"] == 10597);
    CHECK(n["outbound"] == 10316);
    CHECK(n["inbound"] == 281);
  }
}

TEST_CASE("real export: descriptive status table sums to the cohort sizes", "[real][descriptive]") {
  std::map<std::string, std::int64_t> customers, subscribers;
  for (const StatusRow& r : real_descriptive().status) {
    customers[r.cohort] += r.customers;
    subscribers[r.cohort] += r.subscribers;
  }
  CHECK(customers.size() == 3);
  CHECK(customers["all"] == 10597);
  CHECK(customers["outbound"] == 10316);
  CHECK(customers["inbound"] == 281);
  CHECK(subscribers["all"] == 50);
}

TEST_CASE("real export: progress never lowers the modelled P(subscribe) beyond its refit interval", "[real][model]") {
  const test::ProgressValueCheck check = test::progress_value_check(real().table, real().report.export_date, 40);
  CHECK(check.pairs >= 20);
  for (const auto& v : check.violations)
    FAIL_CHECK(v.cohort << ": " << v.from << " -> " << v.to << " changes V by " << v.difference << " (half-width "
                        << v.half_width << ")");
}
