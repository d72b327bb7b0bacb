#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "reinforcer/eval/policy_outcomes.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/trainer.hpp"
#include "reinforcer/rl/value_iteration.hpp"
#include "hand_solved_funnel.hpp"
#include "reinforcer/parallel/sharding.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {
// The hand-solved funnel (hand_solved_funnel.hpp): a call adds 0.5 of the remaining quarter
// (P 7/8), a message 0.2 (P 0.8).
FunnelModel tiny_model() { return test::hand_solved_funnel(0.5, 0.2); }
constexpr double kGamma = 0.9;
}  // namespace

TEST_CASE("value iteration matches a hand-solved MDP", "[dp]") {
  const FunnelModel m = tiny_model();
  const DpSolution d = solve_funnel(m, kGamma);
  const double s = 1 - std::exp(-30.0), R = 100;
  // P(first call this week) from nothing, per action: 3/4 + success x 1/4.
  auto fc = [](Action a) { return a == Action::call ? 0.875 : a == Action::message ? 0.8 : 0.75; };
  // Week 1 (last): from first_call, subscribe now; from nothing, reach it and subscribe.
  const double v11 = s * R;
  double v01 = -1e9;
  for (std::size_t a = 0; a < kActions; ++a) v01 = std::max(v01, -m.cost(Action(a)) + fc(Action(a)) * s * R);
  CHECK(d.value[m.state_index(0, 1, 1)] == Approx(v11));
  CHECK(d.value[m.state_index(0, 0, 1)] == Approx(v01));
  CHECK(d.policy[m.state_index(0, 0, 1)] == static_cast<std::uint8_t>(Action::call));  // 87.5 - 5 > 80 - 1 > 75
  // Week 0 from nothing: reached -> subscribe (else carry to week 1 at first_call); not -> V(0, 1).
  double v00 = -1e9;
  for (std::size_t a = 0; a < kActions; ++a) {
    const double p = fc(Action(a));
    v00 = std::max(v00, -m.cost(Action(a)) + p * s * R + kGamma * (p * (1 - s) * v11 + (1 - p) * v01));
  }
  CHECK(d.value[m.state_index(0, 0, 0)] == Approx(v00));
  // Exact policy evaluation of "always wait" is the status quo's value.
  const std::vector<double> wait = evaluate_policy(m, kGamma, std::vector<std::uint8_t>(m.states(), 6));
  CHECK(wait[m.state_index(0, 0, 1)] == Approx(0.75 * s * R));
}

TEST_CASE("week outcomes: the status quo, the action's own chance, then the subscription", "[dp]") {
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  for (std::size_t p = 0; p < 4; ++p) {  // none, first call, demo, both
    rates[p * kEvents + static_cast<std::size_t>(Milestone::first_call)] = (p & 1) ? 0.0 : 0.2;
    rates[p * kEvents + static_cast<std::size_t>(Milestone::demo)] = (p & 2) ? 0.0 : 0.1;
  }
  rates[0 * kEvents + kSubscriptionEvent] = 0.05;
  rates[2 * kEvents + kSubscriptionEvent] = 0.5;  // after a demo
  FunnelConfig cfg;
  cfg.success.probability.fill(0.0);
  cfg.success.probability[static_cast<std::size_t>(Action::demo)] = 0.3;
  const FunnelModel m(1, rates, cfg);
  const double qf = 1 - std::exp(-0.2), qd = 1 - std::exp(-0.1);
  const double sub0 = 1 - std::exp(-0.05), sub2 = 1 - std::exp(-0.5);
  const WeekOutcome wait = m.week(0, 0, 0, Action::wait);
  const WeekOutcome demo = m.week(0, 0, 0, Action::demo);
  // With the invite the demo comes with qd + (1 - qd) x 0.3; the first call is untouched.
  const double pd = qd + (1 - qd) * 0.3;
  for (const auto& [w, d] : {std::pair<const WeekOutcome&, double>{wait, qd}, {demo, pd}}) {
    std::map<int, double> next;
    for (const Transition* t = w.first; t != w.last; ++t) next[t->next] += t->probability;
    REQUIRE(next.size() == 4);  // none, first call, demo, both
    CHECK(next[0] == Approx((1 - qf) * (1 - d) * (1 - sub0)));
    CHECK(next[1] == Approx(qf * (1 - d)));  // no subscription hazard at first_call
    CHECK(next[2] == Approx((1 - qf) * d * (1 - sub2)));
    CHECK(next[3] == Approx(qf * d));
    // The subscription at the hazard of the progress reached this week.
    CHECK(w.subscribe == Approx((1 - qf) * (1 - d) * sub0 + (1 - qf) * d * sub2));
    double total = w.subscribe;
    for (const auto& [p, pr] : next) total += pr;
    CHECK(total == Approx(1.0));
  }
  // Inviting to a demo already held adds nothing.
  const WeekOutcome again = m.week(0, 2, 0, Action::demo), idle = m.week(0, 2, 0, Action::wait);
  CHECK(again.subscribe == Approx(idle.subscribe));
  // Sampling without a subscription follows the same probabilities, conditional on none.
  const double none = (1 - qf) * (1 - pd) * (1 - sub0) / (1 - demo.subscribe);
  CHECK(m.sample_no_subscription(0, 0, 0, Action::demo, 0) == demo.first->next);
  CHECK(m.sample_no_subscription(0, 0, 0, Action::demo, static_cast<std::uint32_t>(std::ldexp(0.999, 32))) != 0);
  CHECK(none > 0);
}

TEST_CASE("duration bands multiply the hazards of the weeks in them", "[dp]") {
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  rates[static_cast<std::size_t>(Milestone::first_call)] = 0.1;
  BandFactors bands;
  bands.event.assign(kBands * kEvents, 1.0);
  bands.event[1 * kEvents + static_cast<std::size_t>(Milestone::first_call)] = 3.0;  // weeks 4-12
  FunnelConfig cfg;
  cfg.horizon_weeks = 20;
  const FunnelModel m(1, rates, cfg, {}, bands);
  auto p_call = [&](int week) {
    const WeekOutcome w = m.week(0, 0, week, Action::wait);
    double stay = 0;
    for (const Transition* t = w.first; t != w.last; ++t) stay += t->next == 0 ? t->probability : 0.0;
    return 1 - stay;
  };
  CHECK(p_call(3) == Approx(1 - std::exp(-0.1)));
  CHECK(p_call(4) == Approx(1 - std::exp(-0.3)));
  CHECK(p_call(12) == Approx(1 - std::exp(-0.3)));
  CHECK(p_call(13) == Approx(1 - std::exp(-0.1)));
  CHECK(band_of_week(51) == 3);
  CHECK(band_of_week(52) == 4);
}

TEST_CASE("Q-learning reaches the optimum of the hand-solved MDP", "[qlearning]") {
  const FunnelModel m = tiny_model();
  const DpSolution d = solve_funnel(m, kGamma);
  // Episodes start with and without the first call, so every state is reachable.
  const FunnelEnvironment env(m, {StartState{0, 0}, StartState{0, 1}});
  TrainSchedule s;
  s.episodes_per_worker = 400000;
  s.sync_every = 400000;
  s.q.gamma = kGamma;  // visit-count step sizes (omega 0.6), expected subscription reward
  TrainState st;
  const std::vector<FunnelShard> shards = {FunnelShard{{0, 1}, {}, 0}};
  train_distributed(local_communicator(), env, shards, s, st, TrainHooks{});
  const auto policy = learned_policy(st.q, st.visits, kQStride);
  for (Progress p : {Progress{0}, Progress{1}})
    for (int w : {0, 1}) {
      const std::uint32_t state = m.state_index(0, p, w);
      INFO("progress " << int(p) << " week " << w);
      CHECK(policy[state] == d.policy[state]);
      // The targets' coin flip (sd ~43) leaves a common error on a state's actions ...
      for (std::size_t a = 0; a < kActions; ++a) CHECK(st.q[state * kQStride + a] == Approx(d.q[state * kActions + a]).margin(4.0));
    }
  // ... but not on their differences: every action of a state is updated from the same sampled
  // week, so where actions change nothing (the first call reached) they differ by their costs.
  for (int w : {0, 1}) {
    const double* row = &st.q[m.state_index(0, 1, w) * kQStride];
    CHECK(row[static_cast<std::size_t>(Action::wait)] - row[static_cast<std::size_t>(Action::call)] == Approx(5.0).margin(1e-9));
    CHECK(row[static_cast<std::size_t>(Action::wait)] - row[static_cast<std::size_t>(Action::account_manager)] ==
          Approx(20.0).margin(1e-9));
  }
  CHECK(st.curve.size() == 1);
  CHECK(st.curve[0].episodes == 400000);
}

TEST_CASE("the same seed gives the same Q-table; another seed another", "[qlearning]") {
  const FunnelModel m = tiny_model();
  const FunnelEnvironment env(m, {StartState{0, 0}, StartState{0, 1}});
  TrainSchedule s;
  s.episodes_per_worker = 5000;
  s.sync_every = 1000;
  s.threads = 2;
  const std::vector<FunnelShard> shards(2, FunnelShard{{0, 1}, {}, 0});
  TrainState a, b, c;
  train_distributed(local_communicator(), env, shards, s, a, TrainHooks{});
  train_distributed(local_communicator(), env, shards, s, b, TrainHooks{});
  s.seed = 2;
  train_distributed(local_communicator(), env, shards, s, c, TrainHooks{});
  CHECK(a.q == b.q);
  CHECK(a.visits == b.visits);
  CHECK(a.q != c.q);
  // The sync averages block by block of rows: one row per allreduce gives the same table.
  s.seed = 1;
  s.sync_block_rows = 1;
  TrainState d;
  train_distributed(local_communicator(), env, shards, s, d, TrainHooks{});
  REQUIRE(a.curve.front().synced_rows > 1);
  CHECK(d.q == a.q);
  CHECK(d.visits == a.visits);
}

// The learning curve's synced_rows is what a round's sync averaged: the rows whose visit
// counts that round changed (any worker), which sizes the sync's allreduce.
TEST_CASE("a round's synced_rows counts the rows its workers updated", "[qlearning]") {
  const FunnelModel m = tiny_model();
  const FunnelEnvironment env(m, {StartState{0, 0}, StartState{0, 1}});
  TrainSchedule s;
  s.episodes_per_worker = 300;
  s.sync_every = 300;
  s.threads = 2;
  const std::vector<FunnelShard> shards(2, FunnelShard{{0, 1}, {}, 0});
  auto rows_visited_since = [](const TrainState& st, const std::vector<std::int64_t>& before) {
    std::int64_t n = 0;
    for (std::size_t r = 0; r * kQStride < st.visits.size(); ++r) {
      bool changed = false;
      for (std::size_t a = 0; a < kActions; ++a) {
        const std::size_t k = r * kQStride + a;
        changed = changed || st.visits[k] != (before.empty() ? 0 : before[k]);
      }
      n += changed ? 1 : 0;
    }
    return n;
  };
  TrainState st;
  train_distributed(local_communicator(), env, shards, s, st, TrainHooks{});
  REQUIRE(st.curve.size() == 1);
  CHECK(st.curve[0].synced_rows > 1);
  CHECK(st.curve[0].synced_rows == rows_visited_since(st, {}));
  const std::vector<std::int64_t> after_first = st.visits;
  s.episodes_per_worker = 600;  // one more round
  train_distributed(local_communicator(), env, shards, s, st, TrainHooks{});
  REQUIRE(st.curve.size() == 2);
  CHECK(st.curve[1].synced_rows == rows_visited_since(st, after_first));
}

TEST_CASE("jumps: milestones reached together come together", "[dp]") {
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  std::vector<double> jumps(kProgressStates * kProgressStates, 0.0);
  const std::size_t call_and_signup = (1u << static_cast<unsigned>(Milestone::first_call)) |
                                      (1u << static_cast<unsigned>(Milestone::platform_signup));  // 9
  jumps[0 * kProgressStates + call_and_signup] = std::log(2.0);
  FunnelConfig cfg;
  cfg.success.probability.fill(0.0);
  cfg.success.probability[static_cast<std::size_t>(Action::call)] = 0.4;
  const FunnelModel m(1, rates, cfg, jumps);
  // Waiting: the status quo's jump, P = 1 - 1/2.
  const WeekOutcome w = m.week(0, 0, 0, Action::wait);
  std::map<int, double> next;
  for (const Transition* t = w.first; t != w.last; ++t) next[t->next] += t->probability;
  CHECK(next[static_cast<int>(call_and_signup)] == Approx(0.5));
  CHECK(next[0] == Approx(0.5));  // nothing happens otherwise: no single-milestone jump
  CHECK(next.size() == 2);
  // Calling: besides the jump, the first call alone with 0.4 where the jump did not come.
  const WeekOutcome c = m.week(0, 0, 0, Action::call);
  next.clear();
  for (const Transition* t = c.first; t != c.last; ++t) next[t->next] += t->probability;
  CHECK(next[static_cast<int>(call_and_signup)] == Approx(0.5));
  CHECK(next[1] == Approx(0.5 * 0.4));
  CHECK(next[0] == Approx(0.5 * 0.6));
}

TEST_CASE("the learned policy: the best tried action; a state nobody visited waits", "[qlearning]") {
  std::vector<double> q(3 * kQStride, 0.0);
  std::vector<std::int64_t> visits(3 * kQStride, 0);
  q[0 * kQStride + 1] = -2, visits[0 * kQStride + 1] = 5;  // tried: call (-2), survey (-1); untried 0s
  q[0 * kQStride + 3] = -1, visits[0 * kQStride + 3] = 1;
  q[1 * kQStride + 0] = 7;                                  // a value never visited: no estimate
  const auto p = learned_policy(q, visits, kQStride);
  CHECK(p[0] == static_cast<std::uint8_t>(Action::survey));
  CHECK(p[1] == static_cast<std::uint8_t>(Action::wait));
  CHECK(p[2] == static_cast<std::uint8_t>(Action::wait));
}

TEST_CASE("funnel starts: the subscribers' share is the configured one for any number of workers", "[qlearning][shards]") {
  // Replicating every subscriber into every shard made their share of starts grow with W (1% at
  // W = 2, 83% at W = 1,024 on the real export). Now a worker starts from its own customers and,
  // with probability `oversample`, from a subscriber: over all workers the share is
  // oversample + (1 - oversample) x (subscribers / customers), whatever W.
  // 1. The shards train builds: every fitting customer in exactly one, every subscriber in the pool.
  IngestResult r = test::synthetic_ingest(4000, 3);
  // One subscriber made no prospect: subscribed on its decision day. It starts no episode.
  std::size_t no_prospect = r.table.customers.size();
  for (std::size_t i = 0; i < r.table.customers.size() && no_prospect == r.table.customers.size(); ++i) {
    Customer& c = r.table.customers[i];
    if (c.subscribed && c.cohort == Cohort::outbound) {
      c.milestone[static_cast<std::size_t>(Milestone::subscribed)] = c.t0;
      no_prospect = i;
    }
  }
  REQUIRE(no_prospect < r.table.customers.size());
  HazardOptions h;
  h.export_date = r.report.export_date;
  const FunnelFit fit = fit_funnel(r.table, select_fitting(r.table, "all"), parse_feature_mask("cohort"), h, FunnelConfig{}, 1.0);
  std::size_t subscribers = 0;
  for (std::size_t i : fit.fitting) subscribers += r.table.customers[i].subscribed;
  REQUIRE(subscribers > 1);
  for (int workers : {1, 2, 64}) {
    const auto own = fitting_shards(r.table, fit, 0, workers, workers, false);
    const auto shards = funnel_shards(r.table, fit, own, 0.1);
    std::size_t total = 0;
    for (const auto& o : own) {
      total += o.size();
      for (std::uint32_t k : o) CHECK(fit.fitting[k] != no_prospect);
    }
    CHECK(total == fit.fitting.size() - 1);  // each prospect in exactly one shard; none replicated
    for (const FunnelShard& sh : shards) {
      CHECK(sh.subscribers.size() == subscribers - 1);
      for (std::uint32_t k : sh.subscribers) CHECK(fit.fitting[k] != no_prospect);
    }
  }
  // 2. What start() draws: a model of two segments, the subscribers' starts marked by segment 1;
  // each worker runs episodes in proportion to its shard, as a whole run does.
  std::vector<double> rates(2 * kProgressStates * kEvents, 0.0);
  FunnelConfig cfg;
  cfg.horizon_weeks = 2;
  const FunnelModel m(2, rates, cfg);
  std::vector<StartState> starts(1000, StartState{0, 0});
  std::vector<std::int64_t> ids(1000);
  std::vector<bool> positive(1000, false);
  std::vector<std::uint32_t> subscriber_starts;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<std::int64_t>(7 * i + 3);
    if (i % 100 == 0) starts[i].segment = 1, subscriber_starts.push_back(static_cast<std::uint32_t>(i));  // 1%
  }
  const FunnelEnvironment env(m, starts);
  constexpr double kOversample = 0.1;
  const double expected = kOversample + (1 - kOversample) * 0.01;
  for (int workers : {1, 2, 64}) {
    double drawn = 0, marked = 0;
    for (int w = 0; w < workers; ++w) {
      const FunnelShard shard{worker_shard(ids, positive, w, workers), subscriber_starts, FunnelShard::threshold_of(kOversample)};
      RandomStream rng(9, static_cast<std::uint64_t>(w));
      for (std::size_t k = 0; k < 200 * shard.own.size(); ++k) {
        EpisodeState e;
        env.start(e, shard, rng);
        drawn += 1;
        marked += e.segment == 1;
      }
    }
    INFO("workers " << workers);
    CHECK(marked / drawn == Approx(expected).margin(0.005));
  }
}

TEST_CASE("status_quo_subscription_curve equals the wait policy's forward pass, to the bit, built or not", "[model]") {
  const FunnelFit fit = test::synthetic_fit(6000, 5, "cohort,country,education");
  REQUIRE(fit.model.segments() > 3);
  FunnelModel hazards_only{0, {}, FunnelConfig{}};
  std::size_t compared = 0;
  for (std::size_t s = 0; s < fit.model.segments(); ++s) {
    const auto seg = static_cast<std::int32_t>(s);
    hazards_only.assign_segment(fit.hazards, static_cast<std::size_t>(fit.model.segment_nodes()[s]), fit.model.config(), false);
    for (Progress start : {Progress{0}, Progress{1}, Progress{3}, Progress{17}}) {
      const std::vector<double> forward = cumulative_event_probabilities(fit.model, seg, start, always(Action::wait));
      const std::vector<double> built = fit.model.status_quo_subscription_curve(seg, start);
      const std::vector<double> unbuilt = hazards_only.status_quo_subscription_curve(0, start);
      REQUIRE(built.size() == static_cast<std::size_t>(fit.model.horizon()));
      for (std::size_t w = 0; w < built.size(); ++w) {
        CHECK(built[w] == forward[w * kEvents + kSubscriptionEvent]);
        CHECK(unbuilt[w] == built[w]);
      }
      CHECK(built.back() > 0);
      // Cut short, the same first weeks.
      const int weeks = 1 + static_cast<int>((s * 7 + start) % static_cast<std::size_t>(fit.model.horizon()));
      const std::vector<double> cut = hazards_only.status_quo_subscription_curve(0, start, weeks);
      REQUIRE(cut.size() == static_cast<std::size_t>(weeks));
      CHECK(std::equal(cut.begin(), cut.end(), built.begin()));
      ++compared;
    }
  }
  CHECK(compared == 4 * fit.model.segments());
}

TEST_CASE("training holds the DP's values and policy; optimal_q gives back its Q to the bit", "[dp]") {
  IngestResult r = test::synthetic_ingest(3000, 11);
  HazardOptions h;
  h.export_date = r.report.export_date;
  FunnelConfig cfg;
  cfg.horizon_weeks = 20;
  cfg.subscription_reward = 1000;  // actions pay in some states, so Q's columns differ
  const FunnelFit fit = fit_funnel(r.table, select_fitting(r.table, "all"), parse_feature_mask("cohort,education"), h, cfg, 0.97);
  CHECK(fit.dp.q.empty());  // 56 bytes a state not held while training runs
  const DpSolution full = solve_funnel(fit.model, 0.97);
  CHECK(full.value == fit.dp.value);
  CHECK(full.policy == fit.dp.policy);
  const std::vector<double> q = optimal_q(fit.model, 0.97, fit.dp.value);
  REQUIRE(q.size() == full.q.size());
  CHECK(std::memcmp(q.data(), full.q.data(), q.size() * sizeof(double)) == 0);
  // Against values that are not the optimum's, the same Q is not given back.
  std::vector<double> off = fit.dp.value;
  for (double& v : off) v *= 0.5;
  CHECK(optimal_q(fit.model, 0.97, off) != full.q);
}

TEST_CASE("a segment built through a longer horizon and lengthened equals one built with it, to the bit", "[model]") {
  const FunnelFit fit = test::synthetic_fit(3000, 7, "cohort,country");
  REQUIRE(fit.model.horizon() == 52);
  const auto node = static_cast<std::size_t>(fit.model.segment_nodes()[0]);
  FunnelConfig longer = fit.model.config();
  longer.horizon_weeks = 78;  // reaches the last duration band, which 52 weeks do not
  FunnelModel direct{0, {}, FunnelConfig{}}, lengthened{0, {}, FunnelConfig{}};
  direct.assign_segment(fit.hazards, node, longer);
  lengthened.assign_segment(fit.hazards, node, fit.model.config(), true, 78);
  lengthened.set_horizon(78);
  REQUIRE(lengthened.horizon() == 78);
  const DpSolution a = solve_funnel(direct, 0.95), b = solve_funnel(lengthened, 0.95);
  CHECK(a.value == b.value);
  CHECK(a.policy == b.policy);
  // Without the longer rows the last band's weeks have none: lengthening is refused.
  FunnelModel short_rows{0, {}, FunnelConfig{}};
  short_rows.assign_segment(fit.hazards, node, fit.model.config());
  CHECK_THROWS_AS(short_rows.set_horizon(78), std::logic_error);
  CHECK_NOTHROW(short_rows.set_horizon(40));
}

TEST_CASE("an action that does not act has the status quo's row, and the DP's shortcut for it is exact", "[dp][model]") {
  IngestResult r = test::synthetic_ingest(3000, 5);
  HazardOptions h;
  h.export_date = r.report.export_date;
  FunnelConfig cfg;
  cfg.horizon_weeks = 30;  // three duration bands
  cfg.subscription_reward = 1000;
  cfg.success.probability[static_cast<std::size_t>(Action::survey)] = 0;  // an action without effect
  const FunnelFit fit = fit_funnel(r.table, select_fitting(r.table, "all"), parse_feature_mask("cohort"), h, cfg, 0.97);
  const FunnelModel& m = fit.model;
  std::size_t acting = 0, idle = 0;
  for (std::size_t s = 0; s < m.segments(); ++s)
    for (int w : {0, 5, 20})
      for (std::size_t p = 0; p < kProgressStates; ++p) {
        const auto seg = static_cast<std::int32_t>(s);
        const WeekOutcome sq = m.week(seg, static_cast<Progress>(p), w, Action::wait);
        for (std::size_t a = 0; a < kActions; ++a) {
          const WeekOutcome o = m.week(seg, static_cast<Progress>(p), w, static_cast<Action>(a));
          const bool same = o.subscribe == sq.subscribe && o.last - o.first == sq.last - sq.first &&
                            std::equal(o.first, o.last, sq.first, [](const Transition& x, const Transition& y) {
                              return x.probability == y.probability && x.next == y.next;
                            });
          CHECK(same == !m.acts(static_cast<Action>(a), static_cast<Progress>(p)));
          ++(same ? idle : acting);
        }
      }
  CHECK(acting > 0);
  CHECK(idle > acting / 2);  // wait, the survey, and every action whose milestone is reached
  CHECK_FALSE(m.acts(Action::survey, 0));
  CHECK(m.acts(Action::demo, 0));
  CHECK_FALSE(m.acts(Action::demo, static_cast<Progress>(1u << static_cast<unsigned>(Milestone::demo))));
  // The DP takes such actions' values from the status quo's sums: the Q of every action's own
  // row, to the bit.
  const DpSolution full = solve_funnel(m, 0.97);
  const std::vector<double> q = optimal_q(m, 0.97, full.value);
  REQUIRE(q.size() == full.q.size());
  CHECK(std::memcmp(q.data(), full.q.data(), q.size() * sizeof(double)) == 0);
}
