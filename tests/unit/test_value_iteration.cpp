#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/trainer.hpp"
#include "reinforcer/rl/value_iteration.hpp"

using namespace reinforcer;

namespace {
// One segment, horizon 2. With no milestone reached, only the first call can happen: its
// weekly hazard is ln 4 (P = 3/4 when called, act = 1; P = 1/2 under any other action,
// idle = 0.5; P = 1 - 4^-0.75 after a message, message = 0.75). Once the first call is
// reached, the subscription hazard is 30 (P = 1 - e^-30, i.e. 1 to 13 digits, whatever the
// action).
FunnelModel tiny_model() {
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  rates[0 * kEvents + static_cast<std::size_t>(Milestone::first_call)] = std::log(4.0);
  rates[1 * kEvents + kSubscriptionEvent] = 30.0;
  FunnelConfig cfg;
  cfg.horizon_weeks = 2;
  return FunnelModel(1, rates, cfg);
}
constexpr double kGamma = 0.9;
}  // namespace

TEST_CASE("value iteration matches a hand-solved MDP", "[dp]") {
  const FunnelModel m = tiny_model();
  const DpSolution d = solve_funnel(m, kGamma);
  const auto V = [&](Progress p, int w) { return d.value[m.state_index(0, p, w)]; };
  const auto Q = [&](Progress p, int w, Action a) { return d.q[m.state_index(0, p, w) * kActions + static_cast<std::size_t>(a)]; };
  // Last week, first call reached: -cost + 100; waiting (cost 0) is best.
  CHECK(V(1, 1) == Approx(100.0));
  CHECK(Q(1, 1, Action::call) == Approx(95.0));
  // Last week, nothing reached: no subscription is possible; waiting is best: 0.
  CHECK(V(0, 1) == Approx(0.0));
  // Week 0, first call reached: the subscription comes this week: 100.
  CHECK(V(1, 0) == Approx(100.0));
  // Week 0, nothing reached: -cost + 0.9 * P(first call | action) * 100.
  CHECK(Q(0, 0, Action::call) == Approx(-5 + 90 * 0.75));                           // 62.5
  CHECK(Q(0, 0, Action::wait) == Approx(90 * 0.5));                                  // 45
  CHECK(Q(0, 0, Action::message) == Approx(-1 + 90 * (1 - std::pow(4.0, -0.75))));  // 57.18
  CHECK(Q(0, 0, Action::demo) == Approx(-10 + 90 * 0.5));                            // 35
  CHECK(V(0, 0) == Approx(62.5));
  CHECK(d.policy[m.state_index(0, 0, 0)] == static_cast<std::uint8_t>(Action::call));
  CHECK(d.policy[m.state_index(0, 1, 0)] == static_cast<std::uint8_t>(Action::wait));
  // The random policy: every action with probability 1/7; mean cost 41/7.
  const auto R = evaluate_random_policy(m, kGamma);
  CHECK(R[m.state_index(0, 1, 1)] == Approx(100.0 - 41.0 / 7));
  CHECK(R[m.state_index(0, 0, 1)] == Approx(-41.0 / 7));
  // Evaluating the DP policy gives the DP values.
  const auto P = evaluate_policy(m, kGamma, d.policy);
  for (std::size_t s = 0; s < m.states(); ++s) CHECK(P[s] == Approx(d.value[s]));
}

TEST_CASE("week outcomes: the subscription, then each open milestone on its own", "[dp]") {
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  rates[static_cast<std::size_t>(Milestone::first_call)] = 0.2;
  rates[static_cast<std::size_t>(Milestone::demo)] = 0.1;
  rates[kSubscriptionEvent] = 0.05;
  FunnelConfig cfg;
  const FunnelModel m(1, rates, cfg);
  // Under a demo invite: subscribe with P = 1 - e^-0.05; otherwise the demo (hazard 0.1 * 1.0)
  // and the first call (0.2 * 0.5) each happen with 1 - e^-0.1, independently.
  const WeekOutcome w = m.week(0, 0, Action::demo);
  const double sub = 1 - std::exp(-0.05), q = 1 - std::exp(-0.1);
  CHECK(w.subscribe == Approx(sub));
  std::map<int, double> next;
  for (const Transition* t = w.first; t != w.last; ++t) next[t->next] += t->probability;
  REQUIRE(next.size() == 4);  // none, first call, demo, both
  CHECK(next[0] == Approx((1 - sub) * (1 - q) * (1 - q)));
  CHECK(next[1] == Approx((1 - sub) * q * (1 - q)));
  CHECK(next[2] == Approx((1 - sub) * (1 - q) * q));
  CHECK(next[3] == Approx((1 - sub) * q * q));
  double total = w.subscribe;
  for (const auto& [p, pr] : next) total += pr;
  CHECK(total == Approx(1.0));
  // A milestone already reached cannot happen again: from first_call, only the demo is open.
  const WeekOutcome v = m.week(0, 1, Action::call);
  for (const Transition* t = v.first; t != v.last; ++t) CHECK((t->next & 1) == 1);
  // Sampling follows the same probabilities: the most likely outcome (nothing) comes first.
  Progress out = 0;
  CHECK(m.sample_week(0, 0, Action::demo, 0, out));  // u below P(subscribe)
  CHECK_FALSE(m.sample_week(0, 0, Action::demo, static_cast<std::uint32_t>(std::ldexp(sub + 0.01, 32)), out));
  CHECK(out == 0);
}

TEST_CASE("Q-learning reaches the optimum of the hand-solved MDP", "[qlearning]") {
  const FunnelModel m = tiny_model();
  const DpSolution d = solve_funnel(m, kGamma);
  // Episodes start with and without the first call, so every state is reachable.
  const FunnelEnvironment env(m, {StartState{0, 0}, StartState{0, 1}});
  TrainSchedule s;
  s.episodes_per_worker = 400000;
  s.sync_every = 400000;
  s.q.gamma = kGamma;
  s.q.alpha = 0.002;  // small steps: the first call's coin flip makes targets noisy (sd ~39)
  TrainState st;
  const std::vector<std::vector<std::uint32_t>> shards = {{0, 1}};
  train_distributed(local_communicator(), env, shards, s, st, TrainHooks{});
  for (Progress p : {Progress{0}, Progress{1}})
    for (int w : {0, 1}) {
      const std::uint32_t state = m.state_index(0, p, w);
      INFO("progress " << int(p) << " week " << w);
      CHECK(greedy_action(&st.q[state * kQStride]) == d.policy[state]);
      for (std::size_t a = 0; a < kActions; ++a) CHECK(st.q[state * kQStride + a] == Approx(d.q[state * kActions + a]).margin(4.0));
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
  const std::vector<std::vector<std::uint32_t>> shards = {{0, 1}, {0, 1}};
  TrainState a, b, c;
  train_distributed(local_communicator(), env, shards, s, a, TrainHooks{});
  train_distributed(local_communicator(), env, shards, s, b, TrainHooks{});
  s.seed = 2;
  train_distributed(local_communicator(), env, shards, s, c, TrainHooks{});
  CHECK(a.q == b.q);
  CHECK(a.visits == b.visits);
  CHECK(a.q != c.q);
}

TEST_CASE("jumps: milestones reached together come together", "[dp]") {
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  std::vector<double> jumps(kProgressStates * kProgressStates, 0.0);
  const std::size_t call_and_signup = (1u << static_cast<unsigned>(Milestone::first_call)) |
                                      (1u << static_cast<unsigned>(Milestone::platform_signup));  // 9
  jumps[0 * kProgressStates + call_and_signup] = std::log(2.0);
  FunnelConfig cfg;
  const FunnelModel m(1, rates, cfg, jumps);
  // Waiting: both milestones idle (0.5 each): hazard ln 2 * 0.25, P = 1 - 2^-0.25.
  const WeekOutcome w = m.week(0, 0, Action::wait);
  double both = 0, other = 0;
  for (const Transition* t = w.first; t != w.last; ++t) (t->next == call_and_signup ? both : other) += t->probability;
  CHECK(both == Approx(1 - std::pow(2.0, -0.25)));
  CHECK(other == Approx(std::pow(2.0, -0.25)));  // nothing happens otherwise: no single-milestone jump
  // Calling: the call acts (1.0), the signup idles (0.5): P = 1 - 2^-0.5.
  const WeekOutcome c = m.week(0, 0, Action::call);
  for (const Transition* t = c.first; t != c.last; ++t)
    if (t->next == call_and_signup) CHECK(t->probability == Approx(1 - std::pow(2.0, -0.5)));
}
