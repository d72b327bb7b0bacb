// Descriptive tables on small hand-built customer tables, every expected value worked out by
// hand in the comments.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>

#include "reinforcer/eval/descriptive.hpp"
#include "reinforcer/results/evaluation_file.hpp"
#include "reinforcer/stats/proportion.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {

const Day D = days_from_civil(2021, 1, 1);
constexpr std::size_t kFirstCall = 0, kDemo = 1, kAccountManager = 4, kSubscribedOn = 5;

Customer make(std::int64_t id, std::int32_t country, std::uint8_t education, Cohort cohort, std::uint8_t status) {
  Customer c;
  c.id = id;
  c.country = country;
  c.education = education;
  c.cohort = cohort;
  c.status = status;
  return c;
}

// Countries: 0 USA, 1 UK, 2 Nowhere (only the undated customer lives there).
//  #  country  edu  cohort    status  subscribed        milestones (days after D)
//  1  USA      B1   outbound  1st     no                first_call 0
//  2  USA      B1   outbound  1st     date D+14         first_call 0, demo 7, account_manager 10
//  3  USA      B2   outbound  2nd     no                -
//  4  USA      -    outbound  -       no                -
//  5  UK       B1   outbound  1st     no                first_call 7
//  6  -        B1   inbound   -       Stage only        first_call 0, demo 3
//  7  UK       B2   inbound   3rd     date D+21         first_call 7, demo 0 (before the call),
//                                                       account_manager 21 (= subscription day)
//  8  USA      B1   inbound   2nd     no                first_call 14, account_manager 20
//  9  Nowhere  B30  undated   3rd     Stage only        first_call 0, demo 7 (set aside anyway)
// 10  UK       B1   outbound  1st     no                first_call 28
// Export date D+35. Cohorts: outbound {1,2,3,4,5,10} 6 customers, 1 subscriber;
// inbound {6,7,8} 3 customers, 2 subscribers; all 9 customers, 3 subscribers.
CustomerTable hand_table() {
  CustomerTable t;
  t.countries = {"USA", "UK", "Nowhere"};
  auto add = [&t](Customer c) { t.customers.push_back(c); return &t.customers.back(); };
  t.customers.reserve(10);
  Customer* c = add(make(1, 0, 1, Cohort::outbound, 1));
  c->milestone[kFirstCall] = D;
  c = add(make(2, 0, 1, Cohort::outbound, 1));
  c->milestone[kFirstCall] = D;
  c->milestone[kDemo] = D + 7;
  c->milestone[kAccountManager] = D + 10;
  c->milestone[kSubscribedOn] = D + 14;
  c->subscribed = true;
  add(make(3, 0, 2, Cohort::outbound, 2));
  add(make(4, 0, 0, Cohort::outbound, 0));
  c = add(make(5, 1, 1, Cohort::outbound, 1));
  c->milestone[kFirstCall] = D + 7;
  c = add(make(6, -1, 1, Cohort::inbound, 0));
  c->milestone[kFirstCall] = D;
  c->milestone[kDemo] = D + 3;
  c->stage = kStageSubscribed;
  c->subscribed = true;
  c = add(make(7, 1, 2, Cohort::inbound, 3));
  c->milestone[kFirstCall] = D + 7;
  c->milestone[kDemo] = D;
  c->milestone[kAccountManager] = D + 21;
  c->milestone[kSubscribedOn] = D + 21;
  c->subscribed = true;
  c = add(make(8, 0, 1, Cohort::inbound, 2));
  c->milestone[kFirstCall] = D + 14;
  c->milestone[kAccountManager] = D + 20;
  c = add(make(9, 2, 30, Cohort::undated, 3));
  c->milestone[kFirstCall] = D;
  c->milestone[kDemo] = D + 7;
  c->stage = kStageSubscribed;
  c->subscribed = true;
  c = add(make(10, 1, 1, Cohort::outbound, 1));
  c->milestone[kFirstCall] = D + 28;
  return t;
}

DescriptiveTables describe_hand(std::int64_t min_size = 3) {
  DescriptiveOptions o;
  o.min_segment_size = min_size;
  o.export_date = D + 35;
  return describe_customers(hand_table(), o);
}

const SegmentRow& segment(const DescriptiveTables& t, const std::string& grouping, const std::string& cohort,
                          const std::string& name) {
  for (const SegmentRow& r : t.segments)
    if (r.grouping == grouping && r.cohort == cohort && r.segment == name) return r;
  FAIL("no segment " << grouping << " / " << cohort << " / " << name);
  throw;
}

std::vector<std::string> segment_names(const DescriptiveTables& t, const std::string& grouping,
                                       const std::string& cohort) {
  std::vector<std::string> v;
  for (const SegmentRow& r : t.segments)
    if (r.grouping == grouping && r.cohort == cohort) v.push_back(r.segment);
  return v;
}

const FunnelRow& funnel(const DescriptiveTables& t, const std::string& cohort, const std::string& from,
                        const std::string& to) {
  for (const FunnelRow& r : t.funnel)
    if (r.cohort == cohort && r.from == from && r.to == to) return r;
  FAIL("no funnel row " << cohort << " " << from << "->" << to);
  throw;
}

std::vector<TimeToNextRow> curve(const DescriptiveTables& t, const std::string& cohort,
                                 const std::string& transition) {
  std::vector<TimeToNextRow> v;
  for (const TimeToNextRow& r : t.time_to_next)
    if (r.cohort == cohort && r.transition == transition) v.push_back(r);
  return v;
}

const MilestoneRow& milestone(const DescriptiveTables& t, const std::string& m, const std::string& cohort) {
  for (const MilestoneRow& r : t.milestones)
    if (r.milestone == m && r.cohort == cohort) return r;
  FAIL("no milestone row " << m << " / " << cohort);
  throw;
}

}  // namespace

TEST_CASE("descriptive: country segments count, rate, lift, share and rank by hand", "[descriptive]") {
  const DescriptiveTables t = describe_hand();
  // all: USA {1,2,3,4,8} 5 customers, first calls {1,2,8} 3, subscriber #2;
  //      UK {5,7,10} 3, first calls 3, subscriber #7; unknown {6} 1, first call 1, subscriber #6.
  // Base rate 3/9; lift = rate / (1/3); each segment holds 1 of the 3 subscribers.
  const SegmentRow& usa = segment(t, "country", "all", "USA");
  CHECK(usa.country == "USA");
  CHECK(usa.education.empty());
  CHECK(usa.customers == 5);
  CHECK(usa.first_calls == 3);
  CHECK(usa.subscribers == 1);
  CHECK(usa.rate == Approx(0.2));
  CHECK(usa.low95 == Approx(0.0362241).epsilon(1e-5));  // Wilson(1, 5)
  CHECK(usa.high95 == Approx(0.6244654).epsilon(1e-5));
  CHECK(usa.lift == Approx(0.6));
  CHECK(usa.share_of_subscribers == Approx(1.0 / 3.0));
  const SegmentRow& uk = segment(t, "country", "all", "UK");
  CHECK(uk.customers == 3);
  CHECK(uk.first_calls == 3);
  CHECK(uk.subscribers == 1);
  CHECK(uk.lift == Approx(1.0));
  CHECK(uk.low95 == Approx(0.0614919).epsilon(1e-5));  // Wilson(1, 3)
  const SegmentRow& unknown = segment(t, "country", "all", "unknown");
  CHECK(unknown.country == "unknown");
  CHECK(unknown.customers == 1);
  CHECK(unknown.lift == Approx(3.0));
  // Big enough (>= 3 customers) but one subscriber each: not recommended; unknown never is.
  CHECK(uk.rank == 0);
  CHECK(uk.note == "fewer than 2 subscribers");
  CHECK(usa.rank == 0);
  CHECK(usa.note == "fewer than 2 subscribers");
  CHECK(unknown.rank == 0);
  CHECK(unknown.note == "unknown country/education (data quality)");
  CHECK(segment_names(t, "country", "all") == std::vector<std::string>{"UK", "USA", "unknown"});

  // outbound: USA {1,2,3,4} 4 with subscriber #2, UK {5,10} 2 with none. Base rate 1/6.
  const SegmentRow& usa_out = segment(t, "country", "outbound", "USA");
  CHECK(usa_out.customers == 4);
  CHECK(usa_out.subscribers == 1);
  CHECK(usa_out.lift == Approx(1.5));                // (1/4) / (1/6)
  CHECK(usa_out.share_of_subscribers == Approx(1.0));
  CHECK(usa_out.rank == 0);  // 1 subscriber
  CHECK(segment(t, "country", "outbound", "UK").rank == 0);  // 2 customers < 3
  CHECK(segment(t, "country", "outbound", "UK").note == "too small");
  // inbound: unknown {6} 1/1, UK {7} 1/1, USA {8} 0/1. Base rate 2/3.
  const SegmentRow& usa_in = segment(t, "country", "inbound", "USA");
  CHECK(usa_in.subscribers == 0);
  CHECK(usa_in.lift == 0.0);
  CHECK(usa_in.share_of_subscribers == 0.0);
  CHECK(segment(t, "country", "inbound", "UK").lift == Approx(1.5));  // 1 / (2/3)
  CHECK(segment(t, "country", "inbound", "UK").share_of_subscribers == Approx(0.5));
}

TEST_CASE("descriptive: education and country x education segments by hand", "[descriptive]") {
  const DescriptiveTables t = describe_hand();
  // all: B1 {1,2,5,6,8,10} 6, subscribers #2 #6, all six called; B2 {3,7} 2, subscriber #7,
  // first call #7 only; unknown {4} 1. Only B1 is big enough to rank (and has 2 subscribers).
  const SegmentRow& b1 = segment(t, "education", "all", "B1");
  CHECK(b1.education == "B1");
  CHECK(b1.country.empty());
  CHECK(b1.customers == 6);
  CHECK(b1.first_calls == 6);
  CHECK(b1.subscribers == 2);
  CHECK(b1.rank == 1);
  CHECK(b1.note.empty());
  const SegmentRow& b2 = segment(t, "education", "all", "B2");
  CHECK(b2.customers == 2);
  CHECK(b2.first_calls == 1);
  CHECK(b2.subscribers == 1);
  CHECK(b2.rank == 0);
  CHECK(b2.note == "too small");
  CHECK(segment(t, "education", "all", "unknown").customers == 1);
  CHECK(segment_names(t, "education", "all") == std::vector<std::string>{"B1", "B2", "unknown"});

  // all: USA x B1 {1,2,8} 3 with 1 subscriber, the rest single customers or UK x B1 {5,10}:
  // nothing is ranked; rows in name order, the unknown ones last.
  const SegmentRow& usa_b1 = segment(t, "country x education", "all", "USA x B1");
  CHECK(usa_b1.country == "USA");
  CHECK(usa_b1.education == "B1");
  CHECK(usa_b1.customers == 3);
  CHECK(usa_b1.subscribers == 1);
  CHECK(usa_b1.rank == 0);
  CHECK(usa_b1.note == "fewer than 2 subscribers");
  CHECK(segment(t, "country x education", "all", "UK x B1").customers == 2);
  CHECK(segment(t, "country x education", "all", "USA x unknown").note == "unknown country/education (data quality)");
  CHECK(segment(t, "country x education", "all", "unknown x B1").note == "unknown country/education (data quality)");
  CHECK(segment_names(t, "country x education", "all") ==
        std::vector<std::string>{"UK x B1", "UK x B2", "USA x B1", "USA x B2", "USA x unknown", "unknown x B1"});

  // Table order: groupings, then cohorts, in the declared order.
  std::vector<std::string> blocks;
  for (const SegmentRow& r : t.segments) {
    const std::string b = r.grouping + "/" + r.cohort;
    if (blocks.empty() || blocks.back() != b) blocks.push_back(b);
  }
  CHECK(blocks == std::vector<std::string>{"country x education/all", "country x education/outbound",
                                           "country x education/inbound", "country/all", "country/outbound",
                                           "country/inbound", "education/all", "education/outbound",
                                           "education/inbound"});
}

TEST_CASE("descriptive: a segment is recommended only with enough customers and subscribers", "[descriptive]") {
  // Outbound, default minimum size 30. Countries 0 Chile, 1 Peru; -1 unknown; education 0 unknown.
  //   Chile x B5      40 customers,  1 subscriber   big enough, too few subscribers
  //   Peru x B5       60 customers,  5 subscribers  recommended
  //   Peru x unknown  50 customers, 20 subscribers  the best rate, but education is missing
  //   unknown x B5    45 customers,  9 subscribers  country missing
  //   Chile x B6      10 customers,  4 subscribers  too small
  CustomerTable t;
  t.countries = {"Chile", "Peru"};
  std::int64_t id = 0;
  auto add = [&](std::int32_t country, std::uint8_t education, int n, int subscribers) {
    for (int i = 0; i < n; ++i) {
      Customer c = make(++id, country, education, Cohort::outbound, 1);
      c.subscribed = i < subscribers;
      t.customers.push_back(c);
    }
  };
  add(0, 5, 40, 1);
  add(1, 5, 60, 5);
  add(1, 0, 50, 20);
  add(-1, 5, 45, 9);
  add(0, 6, 10, 4);
  DescriptiveOptions o;
  o.export_date = D;
  const DescriptiveTables d = describe_customers(t, o);

  const SegmentRow& few = segment(d, "country x education", "outbound", "Chile x B5");
  CHECK(few.customers == 40);
  CHECK(few.subscribers == 1);
  CHECK(few.rank == 0);
  CHECK(few.note == "fewer than 2 subscribers");
  const SegmentRow& ok = segment(d, "country x education", "outbound", "Peru x B5");
  CHECK(ok.rank == 1);
  CHECK(ok.note.empty());
  const SegmentRow& no_education = segment(d, "country x education", "outbound", "Peru x unknown");
  CHECK(no_education.subscribers == 20);
  CHECK(no_education.low95 > ok.low95);  // it would have ranked first
  CHECK(no_education.rank == 0);
  CHECK(no_education.note == "unknown country/education (data quality)");
  CHECK(segment(d, "country x education", "outbound", "unknown x B5").rank == 0);
  CHECK(segment(d, "country x education", "outbound", "unknown x B5").note ==
        "unknown country/education (data quality)");
  CHECK(segment(d, "country x education", "outbound", "Chile x B6").note == "too small");
  CHECK(segment_names(d, "country x education", "outbound") ==
        std::vector<std::string>{"Peru x B5", "Chile x B5", "Chile x B6", "Peru x unknown", "unknown x B5"});

  // education: B5 145 customers, 15 subscribers ranked; unknown 50 / 20 not; B6 too small.
  const SegmentRow& unknown_education = segment(d, "education", "outbound", "unknown");
  CHECK(unknown_education.subscribers == 20);
  CHECK(unknown_education.rank == 0);
  CHECK(unknown_education.note == "unknown country/education (data quality)");
  CHECK(segment(d, "education", "outbound", "B5").rank == 1);
  CHECK(segment(d, "education", "outbound", "B6").rank == 0);
  // country: Peru 110 / 25 (low95 0.159) before Chile 50 / 5 (0.043); unknown 45 / 9 never.
  CHECK(segment(d, "country", "outbound", "Peru").rank == 1);
  CHECK(segment(d, "country", "outbound", "Chile").rank == 2);
  CHECK(segment(d, "country", "outbound", "unknown").rank == 0);
  CHECK(segment(d, "country", "outbound", "unknown").note == "unknown country/education (data quality)");
  // Every row: ranked exactly when it has no note.
  for (const SegmentRow& r : d.segments) CHECK((r.rank > 0) == r.note.empty());
}

TEST_CASE("descriptive: rank ties on the interval and size go to the name", "[descriptive]") {
  // Inbound, minimum size 1: Brazil and Chile 3 of 10 each tie on low95 and size, so the name
  // decides; Denmark 6 of 20 has the same rate but a higher lower bound; Egypt 1 of 10 is not
  // ranked.
  CustomerTable t;
  t.countries = {"Chile", "Brazil", "Denmark", "Egypt"};
  std::int64_t id = 0;
  for (auto [country, n, subscribers] : {std::tuple<std::int32_t, int, int>{0, 10, 3}, {1, 10, 3}, {2, 20, 6}, {3, 10, 1}})
    for (int i = 0; i < n; ++i) {
      Customer c = make(++id, country, 1, Cohort::inbound, 1);
      c.subscribed = i < subscribers;
      t.customers.push_back(c);
    }
  DescriptiveOptions o;
  o.min_segment_size = 1;
  o.export_date = D;
  const DescriptiveTables d = describe_customers(t, o);
  CHECK(segment(d, "country", "inbound", "Denmark").rank == 1);
  CHECK(segment(d, "country", "inbound", "Brazil").rank == 2);
  CHECK(segment(d, "country", "inbound", "Chile").rank == 3);
  CHECK(segment(d, "country", "inbound", "Egypt").rank == 0);
  CHECK(segment_names(d, "country", "inbound") == std::vector<std::string>{"Denmark", "Brazil", "Chile", "Egypt"});
}

TEST_CASE("descriptive: status table by hand", "[descriptive]") {
  const DescriptiveTables t = describe_hand();
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::int64_t>> s;
  for (const StatusRow& r : t.status) s[{r.cohort, r.status}] = {r.customers, r.subscribers};
  using P = std::pair<std::int64_t, std::int64_t>;
  // all: 1st {1,2,5,10} with #2; 2nd {3,8}; 3rd {7} subscribed; missing {4,6} with #6.
  // (#9, undated, also says 3rd message and subscribed: it must not be counted.)
  CHECK(s[{"all", "1st message"}] == P(4, 1));
  CHECK(s[{"all", "2nd message"}] == P(2, 0));
  CHECK(s[{"all", "3rd message"}] == P(1, 1));
  CHECK(s[{"all", "missing"}] == P(2, 1));
  CHECK(s[{"outbound", "1st message"}] == P(4, 1));
  CHECK(s[{"outbound", "2nd message"}] == P(1, 0));
  CHECK(s[{"outbound", "missing"}] == P(1, 0));
  CHECK(s[{"inbound", "2nd message"}] == P(1, 0));
  CHECK(s[{"inbound", "3rd message"}] == P(1, 1));
  CHECK(s[{"inbound", "missing"}] == P(1, 1));
  CHECK(t.status.size() == 10);  // statuses nobody in a cohort has get no row
  for (const StatusRow& r : t.status) {
    const Interval w = wilson_interval(r.subscribers, r.customers);
    CHECK(r.rate == Approx(static_cast<double>(r.subscribers) / static_cast<double>(r.customers)));
    CHECK(r.low95 == w.low);
    CHECK(r.high95 == w.high);
  }
}

TEST_CASE("descriptive: undated customers never appear", "[descriptive]") {
  const DescriptiveTables t = describe_hand(1);
  std::map<std::string, std::int64_t> country_sum, education_sum, cross_sum, status_sum;
  for (const SegmentRow& r : t.segments) {
    CHECK(r.country != "Nowhere");
    CHECK(r.education != "B30");
    (r.grouping == "country" ? country_sum : r.grouping == "education" ? education_sum : cross_sum)[r.cohort] +=
        r.customers;
  }
  for (const StatusRow& r : t.status) status_sum[r.cohort] += r.customers;
  for (auto* sums : {&country_sum, &education_sum, &cross_sum, &status_sum}) {
    CHECK((*sums)["all"] == 9);
    CHECK((*sums)["outbound"] == 6);
    CHECK((*sums)["inbound"] == 3);
  }
  // #9 has a first call on D and a demo a week later; counted, the funnel would say 8 and 3.
  CHECK(funnel(t, "all", "first_call", "demo").reached_from == 7);
  CHECK(funnel(t, "all", "first_call", "demo").reached_to == 2);
  CHECK(milestone(t, "first_call", "all").reached == 7);
  for (const auto& r : t.funnel) CHECK(r.cohort != "undated");
  for (const auto& r : t.milestones) CHECK(r.cohort != "undated");
}

TEST_CASE("descriptive: funnel and time to the next step on the hand table", "[descriptive]") {
  const DescriptiveTables t = describe_hand();
  REQUIRE(t.funnel.size() == 18);  // 6 transitions x 3 cohorts
  // all, first_call -> demo: called {1,2,5,6,7,8,10} = 7. Demo on or after the call: #2 (1 week),
  // #6 (3 days). #7's demo precedes its call: censored like the others at the export date D+35:
  // #1 5 weeks, #5 4, #7 4, #8 3, #10 1.
  const FunnelRow& f = funnel(t, "all", "first_call", "demo");
  CHECK(f.reached_from == 7);
  CHECK(f.reached_to == 2);
  CHECK(f.conversion == Approx(2.0 / 7.0));
  CHECK(f.low95 == Approx(0.0822189).epsilon(1e-5));
  CHECK(f.high95 == Approx(0.6410655).epsilon(1e-5));
  CHECK(std::isnan(f.median_weeks));  // S: 6/7, then 5/7
  const auto c = curve(t, "all", "first_call->demo");
  REQUIRE(c.size() == 2);
  CHECK(c[0].week == Approx(3.0 / 7.0));
  CHECK(c[0].at_risk == 7);
  CHECK(c[0].events == 1);
  CHECK(c[0].survival == Approx(6.0 / 7.0));
  CHECK(c[1].week == Approx(1.0));
  CHECK(c[1].at_risk == 6);  // #10, censored at 1 week, still at risk then
  CHECK(c[1].survival == Approx(5.0 / 7.0));

  // inbound, first_call -> subscribed: #6 (Stage only, no date: censored at 5 weeks), #7 (2
  // weeks), #8 (censored at 3 weeks).
  const FunnelRow& s = funnel(t, "inbound", "first_call", "subscribed");
  CHECK(s.reached_from == 3);
  CHECK(s.reached_to == 1);
  const auto cs = curve(t, "inbound", "first_call->subscribed");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].week == Approx(2.0));
  CHECK(cs[0].survival == Approx(2.0 / 3.0));

  // Nobody signed up to the platform: the row is there, empty.
  const FunnelRow& p = funnel(t, "all", "survey", "platform_signup");
  CHECK(p.reached_from == 0);
  CHECK(std::isnan(p.conversion));
  CHECK(p.low95 == 0.0);
  CHECK(p.high95 == 1.0);
  CHECK(std::isnan(p.median_weeks));
  CHECK(curve(t, "all", "survey->platform_signup").empty());
}

TEST_CASE("descriptive: funnel conversion, censoring and the Kaplan-Meier median", "[descriptive]") {
  // Six outbound customers: called on D with demos at D+7, D+14, D+21; called on D with no
  // demo (two); called on D+14 with a demo dated D+7 (before the call: not a conversion).
  CustomerTable t;
  const Day demo[] = {D + 7, D + 14, D + 21, kNoDay, kNoDay, D + 7};
  for (int i = 0; i < 6; ++i) {
    Customer c = make(i + 1, -1, 0, Cohort::outbound, 0);
    c.first_contact = D;
    c.milestone[kFirstCall] = i == 5 ? D + 14 : D;
    c.milestone[kDemo] = demo[i];
    t.customers.push_back(c);
  }
  DescriptiveOptions o;
  o.export_date = D + 28;
  DescriptiveTables d = describe_customers(t, o);
  // Events at 1, 2, 3 weeks; censored at 4, 4 (export date) and 2 (the out-of-order demo).
  // KM: week 1: 6 at risk -> 5/6; week 2: 5 at risk -> 5/6 * 4/5 = 2/3; week 3: 3 at risk
  // -> 2/3 * 2/3 = 4/9 <= 0.5: median 3 weeks.
  const FunnelRow& f = funnel(d, "outbound", "first_call", "demo");
  CHECK(f.reached_from == 6);
  CHECK(f.reached_to == 3);
  CHECK(f.conversion == Approx(0.5));
  CHECK(f.low95 == Approx(0.1876163).epsilon(1e-5));
  CHECK(f.median_weeks == Approx(3.0));
  auto c = curve(d, "outbound", "first_call->demo");
  REQUIRE(c.size() == 3);
  CHECK(c[1].at_risk == 5);
  CHECK(c[1].survival == Approx(2.0 / 3.0));
  CHECK(c[2].at_risk == 3);
  CHECK(c[2].survival == Approx(4.0 / 9.0));
  CHECK(curve(d, "all", "first_call->demo").size() == 3);
  CHECK(funnel(d, "inbound", "first_call", "demo").reached_from == 0);
  CHECK(curve(d, "inbound", "first_call->demo").empty());

  // Without an export date the latest date in the table (D+21) censors: the two without a demo
  // at 3 weeks, the out-of-order one at 1 week. Week 2 then has 4 at risk: 5/6 * 3/4 = 5/8;
  // week 3: 5/8 * 2/3 = 5/12, still the median.
  d = describe_customers(t, DescriptiveOptions{});
  c = curve(d, "outbound", "first_call->demo");
  REQUIRE(c.size() == 3);
  CHECK(c[1].at_risk == 4);
  CHECK(c[1].survival == Approx(5.0 / 8.0));
  CHECK(c[2].survival == Approx(5.0 / 12.0));
  CHECK(funnel(d, "outbound", "first_call", "demo").median_weeks == Approx(3.0));
}

TEST_CASE("descriptive: milestones reached before subscribing", "[descriptive]") {
  const DescriptiveTables t = describe_hand();
  REQUIRE(t.milestones.size() == 15);  // 5 steps x 3 cohorts
  // first_call, all: {1,2,5,6,7,8,10}: #2 (call D < D+14), #6 (Stage only: any date), #7
  // (D+7 < D+21) subscribed.
  CHECK(milestone(t, "first_call", "all").reached == 7);
  CHECK(milestone(t, "first_call", "all").subscribed == 3);
  CHECK(milestone(t, "first_call", "all").rate == Approx(3.0 / 7.0));
  // demo, all: #2, #6, #7, all subscribed.
  CHECK(milestone(t, "demo", "all").reached == 3);
  CHECK(milestone(t, "demo", "all").subscribed == 3);
  CHECK(milestone(t, "demo", "all").rate == Approx(1.0));
  // account_manager: #2 (D+10 < D+14) counts, #7's (on its subscription day) does not, #8 has
  // not subscribed.
  CHECK(milestone(t, "account_manager", "all").reached == 2);
  CHECK(milestone(t, "account_manager", "all").subscribed == 1);
  CHECK(milestone(t, "account_manager", "inbound").reached == 1);
  CHECK(milestone(t, "account_manager", "inbound").subscribed == 0);
  CHECK(milestone(t, "account_manager", "outbound").reached == 1);
  CHECK(milestone(t, "account_manager", "outbound").subscribed == 1);
  // Nobody filled in the survey.
  CHECK(milestone(t, "survey", "all").reached == 0);
  CHECK(std::isnan(milestone(t, "survey", "all").rate));
  for (const MilestoneRow& r : t.milestones) CHECK(r.milestone != "subscribed");
}

TEST_CASE("descriptive: tables written under evaluation/descriptive", "[descriptive][hdf5]") {
  test::TempDir dir;
  const DescriptiveTables t = describe_hand();
  {
    const h5::File f = h5::File::create(dir.file("d.h5"));
    write_descriptive(f.create_group("evaluation"), t);
  }
  const h5::File f = h5::File::open_read(dir.file("d.h5"));
  const h5::Group g = f.open_group("evaluation").open_group("descriptive");
  CHECK(g.table_rows("segments") == t.segments.size());
  CHECK(g.table_rows("status") == t.status.size());
  CHECK(g.table_rows("funnel") == 18);
  CHECK(g.table_rows("time_to_next") == t.time_to_next.size());
  CHECK(g.table_rows("milestones") == 15);
  const auto seg = g.read_string_column("segments", "segment");
  const auto rank = g.read_int_column("segments", "rank");
  const auto note = g.read_string_column("segments", "note");
  REQUIRE(seg.size() == t.segments.size());
  REQUIRE(note.size() == t.segments.size());
  for (std::size_t i = 0; i < seg.size(); ++i) {
    CHECK(seg[i] == t.segments[i].segment);
    CHECK(rank[i] == t.segments[i].rank);
    CHECK(note[i] == t.segments[i].note);
  }
  CHECK(std::count(note.begin(), note.end(), "unknown country/education (data quality)") > 0);
  CHECK(g.read_string_column("funnel", "to")[0] == "demo");
  CHECK(g.read_double_column("time_to_next", "week")[0] == Approx(t.time_to_next[0].week));
  CHECK(g.read_int_column("milestones", "reached")[0] == t.milestones[0].reached);
  CHECK(g.read_string_column("status", "status")[0] == t.status[0].status);
  for (const char* col : {"grouping", "cohort", "country", "education"}) CHECK(g.read_string_column("segments", col).size() == seg.size());
  for (const char* col : {"customers", "first_calls", "subscribers"}) CHECK(g.read_int_column("segments", col).size() == seg.size());
  for (const char* col : {"rate", "low95", "high95", "lift", "share_of_subscribers"})
    CHECK(g.read_double_column("segments", col).size() == seg.size());
}
