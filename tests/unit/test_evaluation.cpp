#include <catch2/catch.hpp>
#include <cmath>

#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/split.hpp"
#include "reinforcer/data/synth.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/eval/policy_outcomes.hpp"
#include "hand_solved_funnel.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {
// The hand-solved funnel (hand_solved_funnel.hpp); a call adds 0.5 of the rest: P 7/8.
FunnelModel tiny() { return test::hand_solved_funnel(0.5); }
}  // namespace

TEST_CASE("policy outcomes equal hand-computed values", "[evaluation]") {
  const FunnelModel m = tiny();
  // Always call, from nothing reached at week 0 (gamma 0.9):
  //   week 0: first call with P 7/8 (cost 5), and the subscription with it.
  //   week 0 fails (1/8): week 1 call again, the same.
  //   reward     = -5 + 87.5 + 0.9 * 1/8 * (-5 + 87.5) = 82.5 + 9.28125 = 91.78125
  //   subscribe  = first call = 7/8 + 1/8 * 7/8 = 63/64;  cost = 5 + 1/8 * 5 = 5.625
  const OutcomeTables t = evaluate_outcomes(m, 0.9, always(Action::call));
  const auto s = m.state_index(0, 0, 0);
  CHECK(t.reward[s] == Approx(91.78125));
  CHECK(t.subscribe[s] == Approx(63.0 / 64.0));
  CHECK(t.first_call[s] == Approx(63.0 / 64.0));
  CHECK(t.cost[s] == Approx(5.625));
  // Always wait (the status quo): 3/4 a week: subscribe = first call = 3/4 + 1/16 = 15/16,
  // reward 75 + 0.9 * 1/4 * 75 = 91.875, cost 0.
  const OutcomeTables w = evaluate_outcomes(m, 0.9, always(Action::wait));
  CHECK(w.reward[s] == Approx(91.875));
  CHECK(w.subscribe[s] == Approx(15.0 / 16.0));
  CHECK(w.first_call[s] == Approx(15.0 / 16.0));
  CHECK(w.cost[s] == 0.0);
  // The forward view agrees, week by week.
  const auto cum = cumulative_event_probabilities(m, 0, 0, always(Action::wait));
  CHECK(cum[0 * kEvents + kSubscriptionEvent] == Approx(0.75));
  CHECK(cum[1 * kEvents + kSubscriptionEvent] == Approx(15.0 / 16.0));
  CHECK(cum[0 * kEvents + static_cast<std::size_t>(Milestone::first_call)] == Approx(0.75));
  const PolicyOutcome mean = mean_outcome(m, t, {StartState{0, 0}, StartState{0, 1}});
  CHECK(mean.subscribe == Approx((63.0 / 64.0 + 1.0) / 2));
}

TEST_CASE("calibration verdict reads the O/E interval, and not below E = 10", "[evaluation]") {
  CHECK(calibration_verdict(20.0, Interval{0.6, 1.4}) == "consistent");
  CHECK(calibration_verdict(20.0, Interval{1.0, 1.4}) == "consistent");  // contains 1 at its end
  CHECK(calibration_verdict(20.0, Interval{1.1, 2.0}) == "miscalibrated (under-predicts)");  // more events than expected
  CHECK(calibration_verdict(20.0, Interval{0.2, 0.9}) == "miscalibrated (over-predicts)");
  CHECK(calibration_verdict(10.0, Interval{0.2, 0.9}) == "miscalibrated (over-predicts)");
  // Few expected events: the interval is kept, the verdict is not given.
  CHECK(calibration_verdict(9.99, Interval{0.0, 0.37}) == "few events (E < 10)");
  CHECK(calibration_verdict(0.0, poisson_ratio_interval(0, 0.0)) == "few events (E < 10)");
}

TEST_CASE("targeting never sees a held-out customer's outcome or later progress", "[evaluation][leakage]") {
  IngestResult r = test::synthetic_ingest(3000, 5);
  CustomerTable t = r.table;
  assign_temporal_split(t, {70, 15, 15});
  assign_folds(t, 5, 1);
  EvaluationSettings s;
  s.features = parse_feature_mask("cohort,country");
  s.hazards.export_date = r.report.export_date;
  s.episodes = 20000;
  std::vector<std::size_t> fitting, held;
  for (std::size_t i = 0; i < t.customers.size(); ++i) {
    if (t.customers[i].cohort == Cohort::undated) continue;
    (t.customers[i].fold == 0 ? held : fitting).push_back(i);
  }
  const auto before = score_held_out(t, fitting, held, s, 0);
  // Give every held-out customer another held-out customer's label, Stage, Status, Last
  // Contact and pipeline dates after t0 (moved to the same distance after its own t0).
  CustomerTable swapped = t;
  std::size_t changed = 0;
  for (std::size_t k = 0; k < held.size(); ++k) {
    Customer& c = swapped.customers[held[k]];
    const Customer& donor = t.customers[held[(k + 7) % held.size()]];
    changed += c.subscribed != donor.subscribed;
    c.subscribed = donor.subscribed;
    c.stage = donor.stage;
    c.status = donor.status;
    c.last_contact = donor.last_contact == kNoDay ? kNoDay : c.t0 + (donor.last_contact - donor.t0);
    for (std::size_t m = 0; m < kMilestones; ++m) {
      if (c.milestone[m] != kNoDay && c.milestone[m] <= c.t0) continue;  // known at decision time: kept
      const Day d = donor.milestone[m];
      c.milestone[m] = d != kNoDay && d > donor.t0 ? c.t0 + (d - donor.t0) : kNoDay;
    }
  }
  REQUIRE(changed > 0);
  const auto after = score_held_out(swapped, fitting, held, s, 0);
  REQUIRE(before.size() == after.size());
  for (std::size_t k = 0; k < before.size(); ++k) {
    INFO("customer " << before[k].id);
    CHECK(before[k].status_quo == after[k].status_quo);  // bit for bit
    CHECK(before[k].call_list == after[k].call_list);
    CHECK(before[k].segment_rate == after[k].segment_rate);
    CHECK(before[k].cohort_rate == after[k].cohort_rate);
    CHECK(before[k].random == after[k].random);
  }
}
