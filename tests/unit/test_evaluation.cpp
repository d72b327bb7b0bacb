#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/split.hpp"
#include "reinforcer/data/synth.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/eval/policy_outcomes.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/core/rng.hpp"
#include "reinforcer/eval/call_list.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/stats/bootstrap.hpp"
#include "../../src/eval/evaluation_internal.hpp"  // the refit's workspace
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
  test::EvaluableTable evaluable(3000, 5, "cohort,country");
  const CustomerTable& t = evaluable.table;
  EvaluationSettings& s = evaluable.settings;
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

TEST_CASE("a model refit in reused buffers equals a fresh fit of the whole funnel on the same resample", "[evaluation][refit]") {
  test::EvaluableTable evaluable(3000, 5, "cohort,country");
  const CustomerTable& t = evaluable.table;
  const EvaluationSettings& s = evaluable.settings;
  const std::vector<std::size_t> fitting = select_fitting(t, "all");
  const SegmentEncoder encoder(t, fitting, s.features);
  // Any learned policy will do; this one differs from state to state.
  const std::size_t states_per_segment = static_cast<std::size_t>(s.funnel.horizon_weeks) * kProgressStates;
  std::size_t leaves = 0;
  for (const SegmentNode& n : encoder.nodes()) leaves += n.leaf;
  std::vector<std::uint8_t> learned(leaves * states_per_segment);
  for (std::size_t i = 0; i < learned.size(); ++i) learned[i] = static_cast<std::uint8_t>(i * 7 / 5 % kActions);
  const evaluation::RefitPlan plan = evaluation::plan_refits(t, fitting, encoder, s, learned);
  // Leads at every node of the tree (the call list's model has them all), some acting.
  std::vector<evaluation::LeadKey> leads;
  for (std::size_t n = 0; n < encoder.nodes().size(); ++n)
    for (int week : {0, 9, kLastBandWeek})
      leads.push_back(evaluation::LeadKey{static_cast<std::int32_t>(n), static_cast<Progress>(n % 4), week, n % 2 == 0});

  const std::int64_t replicate = 3;
  evaluation::RefitWorkspace fresh, reused;
  const evaluation::ModelReplicate once = evaluation::run_model_replicate(t, fitting, encoder, plan, s, replicate, leads, fresh);
  // The reused buffers first hold another resample's refit and the full fit.
  evaluation::run_model_replicate(t, fitting, encoder, plan, s, 11, leads, reused);
  evaluation::run_model_replicate(t, fitting, encoder, plan, s, -1, {}, reused);
  const evaluation::ModelReplicate again = evaluation::run_model_replicate(t, fitting, encoder, plan, s, replicate, leads, reused);
  // Bit for bit (the historical process's cost per acquisition is NaN by design).
  CHECK(std::memcmp(&again.policy, &once.policy, sizeof once.policy) == 0);
  CHECK(again.impact == once.impact);
  CHECK(again.action_mix == once.action_mix);
  CHECK(again.lead_p_subscribe == once.lead_p_subscribe);
  CHECK(again.lead_gain == once.lead_gain);

  // The whole funnel fitted on the materialised resample, as every refit was once computed.
  std::vector<std::uint8_t> cohort;
  for (std::size_t i : fitting) cohort.push_back(static_cast<std::uint8_t>(t.customers[i].cohort));
  std::vector<std::size_t> sample;
  std::vector<StartState> starts;
  for (std::uint32_t k : bootstrap_sample_stratified(cohort, splitmix64(s.seed ^ 0xA11DA7AULL), replicate))
    sample.push_back(fitting[k]), starts.push_back(plan.starts[k]);
  const HazardEstimates h = estimate_hazards(t, sample, encoder, s.hazards);
  const FunnelModel m = FunnelModel::from_estimates(encoder, h, s.funnel);
  const DpSolution dp = solve_funnel(m, s.q.gamma);
  const std::array<PolicyRule, 6> rules = {deterministic_policy(m, learned), deterministic_policy(m, dp.policy),
                                           random_policy(), always(Action::wait), always(Action::message),
                                           textbook_policy()};
  for (std::size_t k = 0; k < rules.size(); ++k) {
    INFO("policy " << evaluation::kPolicies[k]);
    OutcomeTables tables;
    if (k == 2)  // the random policy, as the refit evaluates it
      evaluate_random_outcomes(m, s.q.gamma, tables);
    else
      evaluate_outcomes(m, s.q.gamma, rules[k], tables);
    const PolicyOutcome o = mean_outcome(m, tables, starts);
    CHECK(again.policy[k][0] == 1000 * o.subscribe);
    CHECK(again.policy[k][1] == 1000 * o.first_call);
    CHECK(again.policy[k][2] == o.reward);
  }
  CHECK(again.action_mix == evaluation::optimal_action_mix(m, dp, starts));
  const FunnelModel listed = evaluation::call_list_model(encoder, h, s.funnel);
  LeadScorer scorer(listed, s.q.gamma);
  for (std::size_t k = 0; k < leads.size(); ++k) {
    INFO("lead " << k);
    CHECK(again.lead_p_subscribe[k] == scorer.p_subscribe(leads[k].node, leads[k].progress, leads[k].week));
  }
}

TEST_CASE("the random policy's outcomes from mean rows equal those of its seven actions", "[evaluation]") {
  const test::EvaluableTable evaluable(2000, 9, "cohort,country");
  const CustomerTable& t = evaluable.table;
  const EvaluationSettings& s = evaluable.settings;
  const std::vector<std::size_t> fitting = select_fitting(t, "all");
  const SegmentEncoder encoder(t, fitting, s.features);
  const FunnelModel m = FunnelModel::from_estimates(encoder, estimate_hazards(t, fitting, encoder, s.hazards), s.funnel);
  REQUIRE(m.segments() > 2);
  const OutcomeTables slow = evaluate_outcomes(m, s.q.gamma, random_policy());
  OutcomeTables fast;
  evaluate_random_outcomes(m, s.q.gamma, fast);
  REQUIRE(fast.reward.size() == slow.reward.size());
  double worst = 0;
  for (std::size_t i = 0; i < slow.reward.size(); ++i)
    for (const auto& [a, b] : {std::make_pair(fast.reward[i], slow.reward[i]), std::make_pair(fast.subscribe[i], slow.subscribe[i]),
                               std::make_pair(fast.first_call[i], slow.first_call[i]), std::make_pair(fast.cost[i], slow.cost[i])})
      worst = std::max(worst, std::fabs(a - b) / std::max(1.0, std::fabs(b)));
  CHECK(worst < 1e-12);
  // Not the same as any deterministic policy's: the comparison above can fail.
  const OutcomeTables wait = evaluate_outcomes(m, s.q.gamma, always(Action::wait));
  CHECK(std::fabs(wait.reward[m.state_index(0, 0, 0)] - fast.reward[m.state_index(0, 0, 0)]) > 1e-6);
}

TEST_CASE("a segment's start weeks from the two-week pass equal the per-state tables, to the bit", "[evaluation]") {
  const test::EvaluableTable evaluable(2000, 9, "cohort,country");
  const CustomerTable& t = evaluable.table;
  const EvaluationSettings& s = evaluable.settings;
  const std::vector<std::size_t> fitting = select_fitting(t, "all");
  const SegmentEncoder encoder(t, fitting, s.features);
  const FunnelModel m = FunnelModel::from_estimates(encoder, estimate_hazards(t, fitting, encoder, s.hazards), s.funnel);
  REQUIRE(m.segments() > 2);
  const DpSolution dp = solve_funnel(m, s.q.gamma);
  std::vector<std::uint8_t> mixed(m.states());  // an action per state that varies with the state
  for (std::size_t i = 0; i < mixed.size(); ++i) mixed[i] = static_cast<std::uint8_t>(splitmix64(i) % kActions);
  for (const std::vector<std::uint8_t>* policy : {&dp.policy, static_cast<const std::vector<std::uint8_t>*>(&mixed)}) {
    OutcomeTables tables, random_tables;
    evaluate_outcomes(m, s.q.gamma, policy->data(), tables);
    evaluate_random_outcomes(m, s.q.gamma, random_tables);
    for (std::int32_t sg = 0; sg < static_cast<std::int32_t>(m.segments()); ++sg) {
      SegmentOutcomes o, r;
      evaluate_segment_outcomes(m, s.q.gamma, sg, policy->data() + m.state_index(sg, 0, 0), o);
      evaluate_random_segment_outcomes(m, s.q.gamma, sg, r);
      for (std::size_t p = 0; p < kProgressStates; ++p)
        for (int w : {0, 1}) {
          INFO("segment " << sg << " progress " << p << " week " << w);
          const std::uint32_t st = m.state_index(sg, static_cast<Progress>(p), w);
          const PolicyOutcome& x = w == 0 ? o.week0[p] : o.week1[p];
          const PolicyOutcome& y = w == 0 ? r.week0[p] : r.week1[p];
          CHECK(x.reward == tables.reward[st]);
          CHECK(x.subscribe == tables.subscribe[st]);
          CHECK(x.first_call == tables.first_call[st]);
          CHECK(x.cost == tables.cost[st]);
          CHECK(y.reward == random_tables.reward[st]);
          CHECK(y.subscribe == random_tables.subscribe[st]);
          CHECK(y.first_call == random_tables.first_call[st]);
          CHECK(y.cost == random_tables.cost[st]);
        }
    }
  }
  // The tables are not all alike (the comparison above can fail): the policies differ.
  OutcomeTables a, b;
  evaluate_outcomes(m, s.q.gamma, dp.policy.data(), a);
  evaluate_outcomes(m, s.q.gamma, mixed.data(), b);
  CHECK(a.reward[m.state_index(0, 0, 0)] != b.reward[m.state_index(0, 0, 0)]);
}

TEST_CASE("break-even answers streamed one segment at a time equal those of the whole funnel, to the bit", "[evaluation][break-even]") {
  const test::EvaluableTable evaluable(3000, 5, "cohort,country");
  const CustomerTable& t = evaluable.table;
  const EvaluationSettings& s = evaluable.settings;
  const std::vector<std::size_t> fitting = select_fitting(t, "all");
  const SegmentEncoder encoder(t, fitting, s.features);
  const HazardEstimates h = estimate_hazards(t, fitting, encoder, s.hazards);
  const FunnelModel whole = FunnelModel::from_estimates(encoder, h, s.funnel);
  const evaluation::RefitPlan plan = evaluation::plan_refits(t, fitting, encoder, s, {});
  REQUIRE(plan.leaves.size() > 3);
  const BreakEvenAnswers a = break_even_answers(WholeFunnel(whole), s.q.gamma, plan.starts, plan.cohort);
  const BreakEvenAnswers b = break_even_answers(StreamedFunnel(h, plan.leaves, s.funnel), s.q.gamma, plan.starts, plan.cohort);
  REQUIRE(a.table.size() > 4);
  REQUIRE(a.table.size() == b.table.size());
  for (std::size_t k = 0; k < a.table.size(); ++k) {
    INFO(a.table[k].cohort << " " << a.table[k].stage << " " << a.table[k].action);
    CHECK(a.table[k].customers == b.table[k].customers);
    CHECK(a.table[k].gain_per_success == b.table[k].gain_per_success);
    CHECK(a.table[k].milestone_base == b.table[k].milestone_base);
    CHECK(a.table[k].subscription_base == b.table[k].subscription_base);
    CHECK(a.table[k].break_even_success == b.table[k].break_even_success);
  }
  REQUIRE(a.action_share.size() > 4);
  REQUIRE(a.action_share.size() == b.action_share.size());
  for (std::size_t k = 0; k < a.action_share.size(); ++k) {
    CHECK(a.action_share[k].value == b.action_share[k].value);
    CHECK(a.action_share[k].share_acting == b.action_share[k].share_acting);
  }
  // The streamed visit refills each segment from its own node: a wrong node fails the check.
  std::vector<std::int32_t> shifted(plan.leaves.rbegin(), plan.leaves.rend());
  const BreakEvenAnswers c = break_even_answers(StreamedFunnel(h, shifted, s.funnel), s.q.gamma, plan.starts, plan.cohort);
  bool differs = c.table.size() != a.table.size();
  for (std::size_t k = 0; !differs && k < a.table.size(); ++k) differs = c.table[k].gain_per_success != a.table[k].gain_per_success;
  CHECK(differs);
}

TEST_CASE("a task's error leaves the evaluation as it is: the project's errors keep their code, a bug stays internal", "[evaluation][errors]") {
  test::EvaluableTable evaluable(1500, 11, "cohort");
  const CustomerTable& table = evaluable.table;
  EvaluationSettings& s = evaluable.settings;
  s.bootstrap = 10;
  s.threads = 2;
  const std::vector<std::size_t> fitting = select_fitting(table, s.fit_on);
  const SegmentEncoder encoder(table, fitting, s.features);
  std::size_t leaves = 0;
  for (const auto& node : encoder.nodes()) leaves += node.leaf;
  const std::vector<std::uint8_t> learned(leaves * static_cast<std::size_t>(s.funnel.horizon_weeks) * kProgressStates, 0);
  const Communicator comm = local_communicator();
  // A user's error inside a task (a run file whose Q-table does not fit the funnel): its own
  // type and exit code, not an internal error.
  try {
    evaluate(table, std::vector<std::uint8_t>(learned.size() - 1, 0), s, comm, EvaluationRun{});
    FAIL("a Q-table of the wrong size was evaluated");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::bad_input);
    CHECK_THAT(e.what(), Catch::Contains("does not match its own settings"));
  }
  // A bug inside a task (here thrown by the progress hook, which runs inside the task): still a
  // logic_error when it leaves evaluate, so the command line reports an internal error.
  EvaluationRun run;
  run.progress = [](const EvaluationProgress&) { throw std::logic_error("a bug in a task"); };
  try {
    evaluate(table, learned, s, comm, run);
    FAIL("the task's exception was lost");
  } catch (const Error& e) {
    FAIL("a bug became the user error '" << e.what() << "'");
  } catch (const std::logic_error& e) {
    CHECK(std::string(e.what()) == "a bug in a task");
  }
}
