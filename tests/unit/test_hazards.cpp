#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/env/hazards.hpp"
#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/synth.hpp"
#include "progress_value_check.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {

constexpr std::size_t FC = 0, DEMO = 1, SURVEY = 2, SIGNUP = 3, AM = 4, SUB = kSubscriptionEvent;

Customer dated(std::int64_t id, Cohort cohort, Day t0, std::int32_t country = -1) {
  Customer c;
  c.id = id;
  c.sheet_row = id + 1;
  c.cohort = cohort;
  c.t0 = t0;
  c.country = country;
  if (cohort == Cohort::outbound) c.first_contact = t0;
  return c;
}
void set(Customer& c, std::size_t m, Day d) { c.milestone[m] = d; }
void subscribe_on(Customer& c, Day d) {
  c.subscribed = true;
  c.milestone[static_cast<std::size_t>(Milestone::subscribed)] = d;
}
void subscribe_by_stage(Customer& c) {
  c.subscribed = true;
  c.stage = kStageSubscribed;
}

std::vector<std::size_t> all_of(const CustomerTable& t) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < t.customers.size(); ++i) v.push_back(i);
  return v;
}

double at(const std::vector<double>& v, std::size_t node, std::size_t p, std::size_t e) {
  return v[HazardEstimates::index(node, p, e)];
}

// The counting example (export date 2021-09-20; demo/survey recorded from 2021-08-31):
//   O1 outbound t0 2021-08-27: first call t0+8, demo t0+10 (both week 1); not subscribed.
//   O2 outbound t0 2021-09-06: first call t0, demo t0-3 (start {fc,demo} = 3); survey t0+9
//      and account manager t0+12 on/after the subscription (t0+9, week 1): not causes.
//   I1 inbound t0 2021-09-13: platform signup t0 (start 8); account manager t0+4; Stage-only
//      subscriber -> subscribes on its latest step t0+4 (week 0); the manager is no cause.
//   I2 inbound t0 2021-09-17: first call t0 (start 1), survey t0+2 (week 0); not subscribed.
//   X  outbound, subscribed at t0, not among the fitting customers.
CustomerTable counting_table() {
  CustomerTable t;
  t.countries = {"USA", "UK"};
  Customer o1 = dated(1, Cohort::outbound, days_from_civil(2021, 8, 27), 0);
  set(o1, FC, o1.t0 + 8);
  set(o1, DEMO, o1.t0 + 10);
  Customer o2 = dated(2, Cohort::outbound, days_from_civil(2021, 9, 6), 1);
  set(o2, FC, o2.t0);
  set(o2, DEMO, o2.t0 - 3);
  set(o2, SURVEY, o2.t0 + 9);
  set(o2, AM, o2.t0 + 12);
  subscribe_on(o2, o2.t0 + 9);
  Customer i1 = dated(3, Cohort::inbound, days_from_civil(2021, 9, 13), 0);
  set(i1, SIGNUP, i1.t0);
  set(i1, AM, i1.t0 + 4);
  subscribe_by_stage(i1);
  Customer i2 = dated(4, Cohort::inbound, days_from_civil(2021, 9, 17), -1);
  set(i2, FC, i2.t0);
  set(i2, SURVEY, i2.t0 + 2);
  Customer x = dated(5, Cohort::outbound, days_from_civil(2021, 9, 1), 0);
  subscribe_on(x, x.t0);
  t.customers = {o1, o2, i1, i2, x};
  return t;
}
const std::vector<std::size_t> kCountingFit = {0, 1, 2, 3};

HazardOptions counting_options() {
  HazardOptions o;
  o.export_date = days_from_civil(2021, 9, 20);
  return o;
}

}  // namespace

TEST_CASE("history_of: start progress, step weeks, causes, Stage-only subscribers", "[hazards]") {
  const Day T = days_from_civil(2022, 1, 3);
  HazardOptions o;
  o.export_date = T + 100;  // observed days = 101 -> 101/7 = 14.43 weeks (< horizon 26)

  SECTION("steps at, before and after t0; not subscribed") {
    Customer c = dated(1, Cohort::outbound, T);
    set(c, FC, T);         // at t0 -> start
    set(c, DEMO, T - 5);   // before t0 -> taken as t0 -> start
    set(c, SURVEY, T + 9); // floor(9/7) = 1
    set(c, SIGNUP, T + 20);  // floor(20/7) = 2
    const CustomerHistory h = history_of(c, 7, o);
    CHECK(h.node == 7);
    CHECK(h.start == 0b00011);  // first call | demo
    CHECK(h.step_week == std::array<std::int32_t, kStepMilestones>{0, 0, 1, 2, -1});
    CHECK(h.subscribed_week == -1);
    CHECK_FALSE(h.subscribed);
    CHECK(h.observed_weeks == Approx(101.0 / 7.0));
  }
  SECTION("steps on or after the subscription date are not causes") {
    Customer c = dated(2, Cohort::outbound, T);
    subscribe_on(c, T + 30);  // floor(30/7) = 4
    set(c, FC, T + 2);        // week 0, not at t0 -> not start
    set(c, SURVEY, T + 29);   // day before subscribing: floor(29/7) = 4
    set(c, DEMO, T + 30);     // on the subscription day: excluded
    set(c, AM, T + 35);       // after: excluded
    const CustomerHistory h = history_of(c, 0, o);
    CHECK(h.start == 0);
    CHECK(h.step_week == std::array<std::int32_t, kStepMilestones>{0, -1, 4, -1, -1});
    CHECK(h.subscribed_week == 4);
    CHECK(h.subscribed);
    CHECK(h.observed_weeks == Approx(5.0));  // min(101/7, 4 + 1)
  }
  SECTION("Stage-only subscriber subscribes on its latest step, which is then no cause") {
    Customer c = dated(3, Cohort::outbound, T);
    subscribe_by_stage(c);
    set(c, FC, T + 3);       // before T+16: cause, week 0
    set(c, SIGNUP, T + 16);  // the latest step = subscription day: not a cause
    const CustomerHistory h = history_of(c, 0, o);
    CHECK(h.step_week == std::array<std::int32_t, kStepMilestones>{0, -1, -1, -1, -1});
    CHECK(h.subscribed_week == 2);            // floor(16/7)
    CHECK(h.observed_weeks == Approx(3.0));   // min(14.43, 2 + 1)
  }
  SECTION("Stage-only subscriber without any step subscribes in week 0") {
    Customer c = dated(4, Cohort::outbound, T);
    subscribe_by_stage(c);
    const CustomerHistory h = history_of(c, 0, o);
    CHECK(h.start == 0);
    CHECK(h.subscribed_week == 0);
    CHECK(h.observed_weeks == Approx(1.0));
  }
  SECTION("a subscription dated before t0 falls in week 0; earlier steps are start") {
    Customer c = dated(5, Cohort::outbound, T);
    subscribe_on(c, T - 2);
    set(c, FC, T - 4);  // before the subscription (raw dates): cause, clamped to t0
    const CustomerHistory h = history_of(c, 0, o);
    CHECK(h.start == 0b00001);
    CHECK(h.subscribed_week == 0);  // floor((max(T-2, T) - T)/7)
  }
  SECTION("censoring at the export date with a partial week") {
    HazardOptions e = o;
    e.export_date = T + 17;  // observed days T..T+17 = 18 -> 18/7 = 2 + 4/7 weeks
    Customer c = dated(6, Cohort::outbound, T);
    subscribe_on(c, T + 20);  // after the export date: not observed
    set(c, FC, T + 8);
    const CustomerHistory h = history_of(c, 0, e);
    CHECK(h.subscribed);
    CHECK(h.subscribed_week == -1);
    CHECK(h.step_week[FC] == 1);
    CHECK(h.observed_weeks == Approx(18.0 / 7.0));
    e.export_date = T - 1;  // nothing observed: 0/7, clamped at 0 (and t0 after export: still 0)
    CHECK(history_of(c, 0, e).observed_weeks == 0.0);
    e.export_date = T - 30;
    CHECK(history_of(c, 0, e).observed_weeks == 0.0);
  }
  SECTION("the horizon caps follow-up and the subscription week") {
    HazardOptions e = o;
    e.follow_up_weeks = 4;
    Customer c = dated(7, Cohort::outbound, T);
    subscribe_on(c, T + 40);  // week floor(40/7) = 5 >= 4: not within follow-up
    set(c, AM, T + 35);       // week 5: a cause, kept as it is
    const CustomerHistory h = history_of(c, 0, e);
    CHECK(h.subscribed_week == -1);
    CHECK(h.step_week[AM] == 5);
    CHECK(h.observed_weeks == Approx(4.0));  // min(4, 101/7)
  }
  SECTION("undated customers and an unset export date are refused") {
    Customer u;
    CHECK_THROWS_AS(history_of(u, 0, o), std::invalid_argument);
    CHECK_THROWS_AS(history_of(dated(8, Cohort::outbound, T), 0, HazardOptions{}), std::invalid_argument);
  }
}

TEST_CASE("history_of on the counting example", "[hazards]") {
  const CustomerTable t = counting_table();
  const HazardOptions o = counting_options();
  const auto& c = t.customers;
  // O1: 2021-08-27 .. 2021-09-20 is 25 days -> 25/7 weeks.
  CustomerHistory h = history_of(c[0], 0, o);
  CHECK(h.start == 0);
  CHECK(h.step_week == std::array<std::int32_t, kStepMilestones>{1, 1, -1, -1, -1});
  CHECK(h.observed_weeks == Approx(25.0 / 7.0));
  // O2: start {fc, demo}; subscribed week floor(9/7) = 1 -> observed min(15/7, 2) = 2.
  h = history_of(c[1], 0, o);
  CHECK(h.start == 0b00011);
  CHECK(h.step_week == std::array<std::int32_t, kStepMilestones>{0, 0, -1, -1, -1});
  CHECK(h.subscribed_week == 1);
  CHECK(h.observed_weeks == Approx(2.0));
  // I1: start {signup} = 8; subscribes on t0+4 (week 0); observed min(8/7, 1) = 1.
  h = history_of(c[2], 0, o);
  CHECK(h.start == 0b01000);
  CHECK(h.step_week == std::array<std::int32_t, kStepMilestones>{-1, -1, -1, 0, -1});
  CHECK(h.subscribed_week == 0);
  CHECK(h.observed_weeks == Approx(1.0));
  // I2: 2021-09-17 .. 2021-09-20 is 4 days -> 4/7.
  h = history_of(c[3], 0, o);
  CHECK(h.start == 0b00001);
  CHECK(h.step_week == std::array<std::int32_t, kStepMilestones>{0, -1, 0, -1, -1});
  CHECK(h.observed_weeks == Approx(4.0 / 7.0));
}

TEST_CASE("estimate_hazards: person-weeks at risk and events per (node, progress, event)", "[hazards]") {
  const CustomerTable t = counting_table();
  const SegmentEncoder enc(t, kCountingFit, parse_feature_mask("cohort"));
  HazardOptions o = counting_options();
  o.shrinkage_strength = 2;
  const HazardEstimates h = estimate_hazards(t, kCountingFit, enc, o);
  REQUIRE(h.nodes == enc.nodes().size());
  REQUIRE(h.nodes == 3);  // root, outbound, inbound
  const auto O = static_cast<std::size_t>(enc.node_of(t.customers[0], t));
  const auto I = static_cast<std::size_t>(enc.node_of(t.customers[2], t));
  REQUIRE(O != I);
  REQUIRE(enc.nodes()[O].depth == 1);
  REQUIRE(enc.nodes()[I].depth == 1);

  // Outbound, progress 0 -- only O1, weeks 0 and 1 (7 days each):
  //   week 0 starts 2021-08-27 < 2021-08-31: demo and survey not at risk;
  //   first call 14 days = 2, demo 7 = 1 (week 1 only), survey 1, signup 2, manager 2;
  //   events in week 1: first call 1, demo 1. The subscription is at risk in the state after
  //   each week's milestones: week 0 only (week 1 ends at {fc, demo}) = 1.
  CHECK(at(h.exposure, O, 0, FC) == Approx(2.0));
  CHECK(at(h.exposure, O, 0, DEMO) == Approx(1.0));
  CHECK(at(h.exposure, O, 0, SURVEY) == Approx(1.0));
  CHECK(at(h.exposure, O, 0, SIGNUP) == Approx(2.0));
  CHECK(at(h.exposure, O, 0, AM) == Approx(2.0));
  CHECK(at(h.exposure, O, 0, SUB) == Approx(1.0));
  CHECK(at(h.events, O, 0, FC) == 1.0);
  CHECK(at(h.events, O, 0, DEMO) == 1.0);
  CHECK(at(h.events, O, 0, SURVEY) == 0.0);
  CHECK(at(h.events, O, 0, SUB) == 0.0);
  // Outbound, progress 3 = {fc, demo}:
  //   O1 weeks 2 (7 days) and 3 (partial: 2021-09-17..20 = 4 days) = 11 days;
  //   O2 weeks 0 and 1 (it subscribes in week 1, so no week 2) = 14 days;
  //   survey, signup, manager each 25 days = 25/7; fc and demo reached: 0. The subscription
  //   also O1's week 1, which ends at {fc, demo}: 32 days = 32/7.
  //   Events: O2's subscription (its survey and manager are not causes).
  for (std::size_t e : {SURVEY, SIGNUP, AM}) CHECK(at(h.exposure, O, 3, e) == Approx(25.0 / 7.0));
  CHECK(at(h.exposure, O, 3, SUB) == Approx(32.0 / 7.0));
  CHECK(at(h.exposure, O, 3, FC) == 0.0);
  CHECK(at(h.exposure, O, 3, DEMO) == 0.0);
  CHECK(at(h.events, O, 3, SUB) == 1.0);
  CHECK(at(h.events, O, 3, SURVEY) == 0.0);
  CHECK(at(h.events, O, 3, AM) == 0.0);
  // Inbound, progress 8 = {signup} -- I1, week 0 only (subscribes in it), 7 days:
  //   fc, demo, survey, manager, subscription 1 each; event: the subscription.
  for (std::size_t e : {FC, DEMO, SURVEY, AM, SUB}) CHECK(at(h.exposure, I, 8, e) == Approx(1.0));
  CHECK(at(h.exposure, I, 8, SIGNUP) == 0.0);
  CHECK(at(h.events, I, 8, SUB) == 1.0);
  CHECK(at(h.events, I, 8, AM) == 0.0);
  // Inbound, progress 1 = {fc} -- I2, week 0 observed 4 days = 4/7; event: survey. Its
  // subscription risk that week is at {fc, survey} = 5, where the week ends.
  for (std::size_t e : {DEMO, SURVEY, SIGNUP, AM}) CHECK(at(h.exposure, I, 1, e) == Approx(4.0 / 7.0));
  CHECK(at(h.exposure, I, 1, SUB) == 0.0);
  CHECK(at(h.exposure, I, 5, SUB) == Approx(4.0 / 7.0));
  CHECK(at(h.events, I, 1, SURVEY) == 1.0);
  // Customer X (not fitting) adds nothing: outbound has no subscription at progress 0.
  // Root totals, e.g. subscription: 2 + 25/7 + 1 + 4/7 = 50/7 person-weeks, 2 events.
  double sub_exposure = 0, sub_events = 0;
  for (std::size_t p = 0; p < kProgressStates; ++p) {
    sub_exposure += at(h.exposure, 0, p, SUB);
    sub_events += at(h.events, 0, p, SUB);
  }
  CHECK(sub_exposure == Approx(50.0 / 7.0));
  CHECK(sub_events == 2.0);
  // Root demo: 1 (O1 p0) + 1 (I1 p8) + 4/7 (I2 p1) = 18/7.
  double demo_exposure = 0;
  for (std::size_t p = 0; p < kProgressStates; ++p) demo_exposure += at(h.exposure, 0, p, DEMO);
  CHECK(demo_exposure == Approx(18.0 / 7.0));
}

TEST_CASE("estimate_hazards: shrunk rates with a fixed prior strength a = 2", "[hazards]") {
  const CustomerTable t = counting_table();
  const SegmentEncoder enc(t, kCountingFit, parse_feature_mask("cohort"));
  HazardOptions o = counting_options();
  o.shrinkage_strength = 2;
  o.root_prior_weeks = 2;
  const HazardEstimates h = estimate_hazards(t, kCountingFit, enc, o);
  const auto O = static_cast<std::size_t>(enc.node_of(t.customers[0], t));
  const auto I = static_cast<std::size_t>(enc.node_of(t.customers[2], t));
  REQUIRE(h.prior_strength.size() == 2 * kEvents);  // depths 0 and 1
  for (double a : h.prior_strength) CHECK(a == 2.0);  // root: 2 person-weeks; below: a = 2

  // The root keeps its own rate per progress state, with 2 person-weeks of prior at the highest
  // rate of its lower-progress neighbours (none at p = 0: its own rate). Subscription:
  //   root p=0: 0 events, 1 week:                      0
  //   root p=8: 1 event, 1 week, prior rate(0) = 0:     (1 + 0)/(1 + 2)    = 1/3
  //   root p=3: 1 event, 32/7 weeks, prior max(rate(1), rate(2)) = 0: 1/(32/7 + 2) = 7/46
  CHECK(at(h.rate, 0, 0, SUB) == 0.0);
  CHECK(at(h.rate, 0, 8, SUB) == Approx(1.0 / 3.0));
  CHECK(at(h.rate, 0, 3, SUB) == Approx(7.0 / 46.0));
  // A state with no exposure takes the highest of its neighbours' rates: p = 9 = {fc, signup}
  // from p = 8 (1/3) and p = 1 (no exposure, from p = 0: 0): 1/3. Never a rate pooled over
  // progress, and progress alone never lowers a prior.
  CHECK(at(h.rate, 0, 9, SUB) == Approx(1.0 / 3.0));
  // Below the root, Gamma(a = 2) around the parent's rate rho: rho*(e + 2)/(rho*E + 2).
  //   outbound p=0 (prior 0): 0
  //   inbound p=8 (prior 1/3, 1 event, 1 week): (1/3)*3/((1/3) + 2) = 3/7
  //   inbound p=0 (no exposure): the root's 0
  CHECK(at(h.rate, O, 0, SUB) == 0.0);
  CHECK(at(h.rate, I, 8, SUB) == Approx(3.0 / 7.0));
  CHECK(at(h.rate, I, 0, SUB) == 0.0);
  // First call:
  //   root p=0 (1 event, 2 weeks): 1/2
  //   root p=8 (0 events, 1 week, prior rate(0) = 1/2): (0 + 1)/(1 + 2) = 1/3
  //   outbound p=0 (prior 1/2, 1 event, 2 weeks): (1/2)*3/((1/2)*2 + 2) = 1/2
  //   inbound p=8 (prior 1/3, 0 events, 1 week): (1/3)*2/((1/3) + 2) = 2/7
  CHECK(at(h.rate, 0, 0, FC) == Approx(0.5));
  CHECK(at(h.rate, 0, 8, FC) == Approx(1.0 / 3.0));
  CHECK(at(h.rate, O, 0, FC) == Approx(0.5));
  CHECK(at(h.rate, I, 8, FC) == Approx(2.0 / 7.0));
  // A reached milestone has no hazard; an event never seen has rate 0 everywhere.
  CHECK(at(h.rate, 0, 3, FC) == 0.0);
  CHECK(at(h.rate, O, 3, DEMO) == 0.0);
  CHECK(at(h.rate, 0, 0, SIGNUP) == 0.0);
  CHECK(at(h.rate, O, 3, SIGNUP) == 0.0);
}

TEST_CASE("estimate_hazards: empirical-Bayes prior strength by the method of moments", "[hazards]") {
  // Mask "country"; countries A (0) and B (1); everyone at t0 = T with no steps, horizon 5,
  // export date far away (no censoring). A subscription in week w gives w + 1 person-weeks.
  const Day T = days_from_civil(2022, 1, 3);
  HazardOptions o;
  o.export_date = T + 1000;
  o.follow_up_weeks = 5;
  CustomerTable t;
  t.countries = {"A", "B"};
  auto add = [&](std::int32_t country, Day subscribed) {
    Customer c = dated(static_cast<std::int64_t>(t.customers.size() + 1), Cohort::outbound, T, country);
    if (subscribed != kNoDay) subscribe_on(c, subscribed);
    t.customers.push_back(c);
  };

  SECTION("over-dispersed: a = 2") {
    // A: subscriptions in weeks 0, 0, 0, 1 (1+1+1+2 = 5 weeks) + one non-subscriber (5): 4 events / 10.
    add(0, T), add(0, T + 1), add(0, T + 2), add(0, T + 8), add(0, kNoDay);
    // B: two non-subscribers: 0 events / 10.
    add(1, kNoDay), add(1, kNoDay);
    const auto fit = all_of(t);
    const SegmentEncoder enc(t, fit, parse_feature_mask("country"));
    const HazardEstimates h = estimate_hazards(t, fit, enc, o);
    const auto A = static_cast<std::size_t>(enc.node_of(t.customers[0], t));
    const auto B = static_cast<std::size_t>(enc.node_of(t.customers[5], t));
    REQUIRE(h.prior_strength.size() == 2 * kEvents);
    // Root: one cell (p = 0): its own rate 4/20 = 0.2, which is also the pooled rate, so the
    // prior (52 person-weeks at 0.2) leaves it at 0.2.
    CHECK(h.prior_strength[0 * kEvents + SUB] == 52.0);
    CHECK(at(h.rate, 0, 0, SUB) == Approx(0.2));
    // Depth 1: mu_A = mu_B = 0.2*10 = 2;
    //   sum((e-mu)^2 - mu) = ((4-2)^2 - 2) + ((0-2)^2 - 2) = 4;  sum(mu^2) = 8;
    //   inv_a = 4/8 = 0.5 -> a = 2.
    CHECK(h.prior_strength[1 * kEvents + SUB] == Approx(2.0));
    //   A: 0.2*(4+2)/(0.2*10+2) = 1.2/4 = 0.3;  B: 0.2*(0+2)/(2+2) = 0.1.
    CHECK(at(h.rate, A, 0, SUB) == Approx(0.3));
    CHECK(at(h.rate, B, 0, SUB) == Approx(0.1));
    // Steps: no events, prior rate 0, no cell with mu > 0: full pooling (a = 1e6), rate 0.
    CHECK(h.prior_strength[1 * kEvents + FC] == 1e6);
    CHECK(at(h.rate, A, 0, FC) == 0.0);
  }
  SECTION("homogeneous: a = 1e6, full pooling") {
    // A and B alike: subscriptions in weeks 2 (3 weeks) and 1 (2) + a non-subscriber (5):
    // 2 events / 10 weeks each. Root pooled 0.2; depth 1: mu = 2 each,
    // sum((2-2)^2 - 2) = -4 < 0 -> inv_a = 0 -> a = 1e6; both rates 0.2*(2+a)/(2+a) = 0.2.
    for (std::int32_t country : {0, 1}) add(country, T + 14), add(country, T + 7), add(country, kNoDay);
    const auto fit = all_of(t);
    const SegmentEncoder enc(t, fit, parse_feature_mask("country"));
    const HazardEstimates h = estimate_hazards(t, fit, enc, o);
    const auto A = static_cast<std::size_t>(enc.node_of(t.customers[0], t));
    const auto B = static_cast<std::size_t>(enc.node_of(t.customers[3], t));
    CHECK(at(h.exposure, A, 0, SUB) == Approx(10.0));
    CHECK(at(h.events, B, 0, SUB) == 2.0);
    CHECK(h.prior_strength[0 * kEvents + SUB] == 52.0);
    CHECK(h.prior_strength[1 * kEvents + SUB] == 1e6);
    CHECK(at(h.rate, A, 0, SUB) == Approx(0.2));
    CHECK(at(h.rate, B, 0, SUB) == Approx(0.2));
  }
}

TEST_CASE("estimate_hazards: every node holds the sum of its children", "[hazards]") {
  const CustomerTable t = counting_table();
  const SegmentEncoder enc(t, kCountingFit, parse_feature_mask("cohort,country"));
  HazardOptions o = counting_options();
  const HazardEstimates h = estimate_hazards(t, kCountingFit, enc, o);
  const auto& nodes = enc.nodes();
  // Leaves: outbound/USA, outbound/UK, inbound/USA, inbound/unknown -> 4, plus 2 cohorts + root.
  REQUIRE(nodes.size() == 7);
  std::vector<double> ev(h.events.size(), 0.0), ex(h.exposure.size(), 0.0);
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    if (nodes[n].parent < 0) continue;
    const auto par = static_cast<std::size_t>(nodes[n].parent);
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t e = 0; e < kEvents; ++e) {
        ev[HazardEstimates::index(par, p, e)] += at(h.events, n, p, e);
        ex[HazardEstimates::index(par, p, e)] += at(h.exposure, n, p, e);
      }
  }
  double root_total = 0, leaf_total = 0;
  for (std::size_t n = 0; n < nodes.size(); ++n)
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t e = 0; e < kEvents; ++e) {
        const std::size_t i = HazardEstimates::index(n, p, e);
        if (!nodes[n].leaf) {
          CHECK(h.events[i] == ev[i]);
          CHECK(h.exposure[i] == Approx(ex[i]));
        }
        if (n == 0) root_total += h.events[i];
        if (nodes[n].leaf) leaf_total += h.events[i];
      }
  // Events: O1 fc + demo, O2 subscription, I1 subscription, I2 survey = 5.
  CHECK(root_total == 5.0);
  CHECK(leaf_total == 5.0);
  // Empirical-Bayes strengths for the three depths, each in [0.1, 1e6].
  REQUIRE(h.prior_strength.size() == 3 * kEvents);
  for (double a : h.prior_strength) CHECK((a >= 0.1 && a <= 1e6));
}

TEST_CASE("estimate_hazards: a million customers", "[.hazards-perf]") {
  CustomerTable t;
  t.countries = {"A", "B", "C", "D", "E", "F", "G", "H"};
  const Day start = days_from_civil(2020, 1, 1);
  const std::size_t n = 1000000;
  t.customers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Customer c = dated(static_cast<std::int64_t>(i + 1), i % 30 == 0 ? Cohort::inbound : Cohort::outbound,
                       start + static_cast<Day>(i % 800), static_cast<std::int32_t>(i % 9) - 1);
    c.education = static_cast<std::uint8_t>(i % 31);
    if (i % 5 == 0) set(c, FC, c.t0 + static_cast<Day>(i % 40));
    if (i % 11 == 0) set(c, DEMO, c.t0 + static_cast<Day>(i % 60));
    if (i % 97 == 0) subscribe_on(c, c.t0 + static_cast<Day>(i % 90));
    t.customers.push_back(c);
  }
  const auto fit = all_of(t);
  const SegmentEncoder enc(t, fit, parse_feature_mask("cohort,country,education,month"));
  HazardOptions o;
  o.export_date = start + 830;
  const auto t_start = std::chrono::steady_clock::now();
  const HazardEstimates h = estimate_hazards(t, fit, enc, o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  WARN("estimate_hazards: " << n << " customers, " << h.nodes << " nodes: " << seconds << " s");
  CHECK(seconds < 1.0);
}

TEST_CASE("estimate_hazards: milestones reached in the same week form one jump", "[hazards]") {
  // One customer, t0 = T, first call and platform signup both on T + 8 (week 1), horizon 5,
  // no censoring: weeks 0 and 1 at progress 0 (2 person-weeks), then weeks 2..4 at progress 9
  // (first call + signup: 3 person-weeks). One jump {first call, signup} at progress 0.
  const Day T = days_from_civil(2022, 1, 3);
  CustomerTable t;
  t.countries = {"A"};
  Customer c = dated(1, Cohort::outbound, T, 0);
  c.milestone[static_cast<std::size_t>(Milestone::first_call)] = T + 8;
  c.milestone[static_cast<std::size_t>(Milestone::platform_signup)] = T + 8;
  t.customers.push_back(c);
  HazardOptions o;
  o.export_date = T + 1000;
  o.follow_up_weeks = 5;
  const std::vector<std::size_t> fit = {0};
  const SegmentEncoder enc(t, fit, parse_feature_mask("cohort"));
  const HazardEstimates h = estimate_hazards(t, fit, enc, o);
  const std::size_t S = 1 | 8;
  CHECK(h.jump_events[HazardEstimates::jump_index(0, 0, S)] == 1.0);
  CHECK(h.jump_exposure[HazardEstimates::jump_index(0, 0, S)] == Approx(2.0));
  CHECK(h.jump_events[HazardEstimates::jump_index(0, 0, 1)] == 0.0);  // not two separate jumps
  CHECK(h.jump_exposure[HazardEstimates::jump_index(0, 9, 2)] == Approx(3.0));
  // Root rate: its own 1 event / 2 weeks with 52 person-weeks of prior at the pooled rate
  // (also 1/2: the jump is possible only from progress 0): (1 + 26)/(2 + 52) = 1/2.
  CHECK(h.jump_rate[HazardEstimates::jump_index(0, 0, S)] == Approx(0.5));
}

TEST_CASE("jump cells: one per possible (progress, jump), the dense layout read back from them", "[hazards]") {
  // Every jump disjoint from its progress has a cell of its own, 0..kJumpCells-1, and no other does.
  std::vector<int> seen(kJumpCells, 0);
  std::size_t possible = 0;
  for (std::size_t p = 0; p < kProgressStates; ++p)
    for (std::size_t j = 0; j < kProgressStates; ++j) {
      const std::uint16_t cell = kJumpCellOf[p * kProgressStates + j];
      if (!jump_possible(p, j)) {
        CHECK(cell == kNoJumpCell);
        continue;
      }
      ++possible;
      REQUIRE(cell < kJumpCells);
      ++seen[cell];
    }
  CHECK(possible == kJumpCells);
  CHECK(std::count(seen.begin(), seen.end(), 1) == static_cast<std::ptrdiff_t>(kJumpCells));
  // An estimate holds kJumpCells a node, and a node's dense rates are its cells, 0 elsewhere.
  const FunnelFit fit = test::synthetic_fit(2000, 5, "cohort,education");
  const HazardEstimates& h = fit.hazards;
  const SegmentEncoder& enc = fit.encoder;
  REQUIRE(h.jump_rate.size() == enc.nodes().size() * kJumpCells);
  REQUIRE(h.jump_events.size() == h.jump_rate.size());
  std::vector<double> dense(kProgressStates * kProgressStates, -1.0);
  std::size_t positive = 0;
  for (std::size_t n = 0; n < enc.nodes().size(); ++n) {
    h.dense_jump_rates(n, dense.data());
    for (std::size_t p = 0; p < kProgressStates; ++p)
      for (std::size_t j = 0; j < kProgressStates; ++j) {
        const double v = dense[p * kProgressStates + j];
        if (!jump_possible(p, j)) {
          CHECK(v == 0.0);
          continue;
        }
        CHECK(v == h.jump_rate[HazardEstimates::jump_index(n, p, j)]);
        positive += v > 0;
      }
  }
  CHECK(positive > 0);  // the synthetic funnel has jumps to read back
}

TEST_CASE("estimate_hazards: cohorts whose rates differ 10x are not pooled", "[hazards]") {
  // Two cohorts side by side at progress 0 (no milestones), horizon 10, no censoring: outbound
  // subscribes at about 0.01 a week, inbound at 0.1 (>= 200 person-weeks each). The cell where
  // a cohort is all of its parent (none here) must not enter the strength: it would be 1e6.
  const Day T = days_from_civil(2022, 1, 3);
  HazardOptions o;
  o.export_date = T + 2000;
  o.follow_up_weeks = 10;
  CustomerTable t;
  auto add = [&](Cohort cohort, int subscribe_week) {
    Customer c = dated(static_cast<std::int64_t>(t.customers.size() + 1), cohort, T);
    if (cohort == Cohort::inbound) c.first_contact = kNoDay;
    if (subscribe_week >= 0) subscribe_on(c, T + 7 * subscribe_week);
    t.customers.push_back(c);
  };
  for (int i = 0; i < 60; ++i) add(Cohort::outbound, i < 6 ? i : -1);           // ~6 / 585 weeks
  for (int i = 0; i < 40; ++i) add(Cohort::inbound, i < 24 ? i % 10 : -1);      // 24 / ~268 weeks
  const auto fit = all_of(t);
  const SegmentEncoder enc(t, fit, parse_feature_mask("cohort"));
  const HazardEstimates h = estimate_hazards(t, fit, enc, o);
  const auto O = static_cast<std::size_t>(enc.node_of(t.customers[0], t));
  const auto I = static_cast<std::size_t>(enc.node_of(t.customers[60], t));
  REQUIRE(at(h.exposure, O, 0, SUB) >= 200);
  REQUIRE(at(h.exposure, I, 0, SUB) >= 200);
  const double raw_o = at(h.events, O, 0, SUB) / at(h.exposure, O, 0, SUB);
  const double raw_i = at(h.events, I, 0, SUB) / at(h.exposure, I, 0, SUB);
  REQUIRE(raw_i / raw_o >= 8);
  CHECK(h.prior_strength[1 * kEvents + SUB] < 1e3);
  // The fitted rates keep most of the difference.
  CHECK(at(h.rate, I, 0, SUB) / at(h.rate, O, 0, SUB) > 5);
  // Every strength is in the run file's table: events and jumps.
  CHECK(h.jump_prior_strength.size() == 2);
}

TEST_CASE("estimate_hazards: a first call on day 1 and a subscription on day 3 of one week", "[hazards]") {
  // The subscription is credited to the state holding the first call, not to "none".
  const Day T = days_from_civil(2022, 1, 3);
  HazardOptions o;
  o.export_date = T + 100;
  CustomerTable t;
  Customer c = dated(1, Cohort::outbound, T);
  set(c, FC, T + 1);
  subscribe_on(c, T + 3);
  t.customers = {c};
  const auto fit = all_of(t);
  const SegmentEncoder enc(t, fit, parse_feature_mask("cohort"));
  const HazardEstimates h = estimate_hazards(t, fit, enc, o);
  CHECK(at(h.events, 0, 1, SUB) == 1.0);   // progress {first_call}
  CHECK(at(h.events, 0, 0, SUB) == 0.0);
  CHECK(at(h.events, 0, 0, FC) == 1.0);    // the first call from "none"
  CHECK(at(h.exposure, 0, 1, SUB) == Approx(1.0));  // the week at risk where it ends
  CHECK(at(h.exposure, 0, 0, SUB) == 0.0);
}

TEST_CASE("estimate_hazards: person-weeks per duration band equal hand counts", "[hazards]") {
  // One customer, no milestones, followed 30 weeks (horizon 52): bands 0-3 (4 weeks), 4-12
  // (9), 13-25 (13), 26-51 (4). A second reaches the first call on day 40 (week 5) and is
  // followed 20 weeks: band 0 4 weeks and band 1 2 weeks at "none" (weeks 4 and 5), then at
  // {first_call} band 1 7 weeks (6-12) and band 2 7 weeks (13-19).
  const Day T = days_from_civil(2022, 1, 3);
  HazardOptions o;
  o.export_date = T + 30 * 7 - 1;
  CustomerTable t;
  t.customers.push_back(dated(1, Cohort::outbound, T));
  Customer b = dated(2, Cohort::outbound, T - 0);
  set(b, FC, T + 40);
  t.customers.push_back(b);
  // The second customer's follow-up ends after 20 weeks: a later t0.
  t.customers[1].t0 = T + 10 * 7;
  t.customers[1].first_contact = t.customers[1].t0;
  t.customers[1].milestone[FC] = t.customers[1].t0 + 40;
  const auto fit = all_of(t);
  const SegmentEncoder enc(t, fit, parse_feature_mask("cohort"));
  const HazardEstimates h = estimate_hazards(t, fit, enc, o);
  auto band = [&](std::size_t p, std::size_t b_) { return h.band_exposure[(0 * kProgressStates + p) * kBands + b_]; };
  CHECK(band(0, 0) == Approx(4.0 + 4.0));
  CHECK(band(0, 1) == Approx(9.0 + 2.0));
  CHECK(band(0, 2) == Approx(13.0));
  CHECK(band(0, 3) == Approx(4.0));
  CHECK(band(0, 4) == 0.0);
  CHECK(band(1, 1) == Approx(7.0));
  CHECK(band(1, 2) == Approx(7.0));
  CHECK(band(1, 0) == 0.0);
  // The band factors, fitted on the top segment (here the cohort): observed over expected
  // per band, shrunk toward 1.
  const auto O = static_cast<std::size_t>(enc.node_of(t.customers[0], t));
  CHECK(h.band_events[HazardEstimates::band_index(O, 1, FC)] == 1.0);
  for (std::size_t b_ = 0; b_ < kBands; ++b_)
    if (b_ != 1) CHECK(h.band_events[HazardEstimates::band_index(O, b_, FC)] == 0.0);
  CHECK(h.band_factor[HazardEstimates::band_index(O, 1, FC)] > 1.0);
  CHECK(h.band_factor[HazardEstimates::band_index(O, 2, FC)] < 1.0);
}

TEST_CASE("progress never lowers the modelled P(subscribe) beyond its refit interval (synthetic)", "[hazards][model]") {
  const IngestResult r = test::synthetic_ingest(20000, 11);
  const test::ProgressValueCheck check = test::progress_value_check(r.table, r.report.export_date, 40);
  CHECK(check.pairs >= 20);
  for (const auto& v : check.violations)
    FAIL_CHECK(v.cohort << ": " << v.from << " -> " << v.to << " changes V by " << v.difference << " (half-width "
                        << v.half_width << ")");
}
