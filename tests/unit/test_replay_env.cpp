#include <catch2/catch.hpp>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "reinforcer/env/replay_env.hpp"

using namespace reinforcer;

namespace {
// A history built by hand (no dependence on history_of): reached[m] = week reached or -1.
CustomerHistory history(std::int32_t node, Progress start, std::array<std::int32_t, kStepMilestones> reached,
                        bool subscribed) {
  CustomerHistory h;
  h.node = node;
  h.start = start;
  h.step_week = reached;
  h.subscribed = subscribed;
  h.subscribed_week = subscribed ? 5 : -1;
  h.observed_weeks = 26;
  return h;
}
constexpr std::array<std::int32_t, kStepMilestones> kNone{-1, -1, -1, -1, -1};

ReplayConfig config_with(ReplayRewards rewards) {
  ReplayConfig c;
  c.rewards = rewards;
  return c;
}

std::vector<std::uint32_t> all_of(std::size_t n) {
  std::vector<std::uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  return v;
}
}  // namespace

TEST_CASE("replay: named reward tables and state indexing", "[replay]") {
  const auto plain = ReplayRewards::plain();
  CHECK(plain.subscription == 100);
  for (double b : plain.milestone_bonus) CHECK(b == 0);
  const auto legacy = ReplayRewards::legacy();
  CHECK(legacy.subscription == 100);
  CHECK(legacy.milestone_bonus == std::array<double, kStepMilestones>{15, 12, 0, 0, 0});
  CHECK(ReplayRewards::named("legacy")->milestone_bonus[1] == 12);
  CHECK(ReplayRewards::named("plain")->milestone_bonus[0] == 0);
  CHECK_FALSE(ReplayRewards::named("other"));

  const ReplayEnvironment env({history(3, 0, kNone, false)}, 4, ReplayConfig{});
  CHECK(env.states() == 4u * 32u * 10u);
  CHECK(env.state_index(0, 0, 0) == 0);
  CHECK(env.state_index(2, 3, 7) == (2u * 10u + 7u) * 32u + 3u);  // (segment, step, progress)
  CHECK(env.state_index(3, 31, 9) == env.states() - 1);
}

TEST_CASE("replay: hand-worked episode, bonus once, subscription on the last reveal", "[replay]") {
  // Segment 2 of 4; reached first call (week 1) and demo (week 3); subscribed.
  const std::vector<CustomerHistory> customers = {history(2, 0, {1, 3, -1, -1, -1}, true)};
  const std::vector<Action> actions = {Action::wait, Action::call, Action::call, Action::demo};
  // Costs: wait 0, call 5, demo 10. State index = ((2*10 + t)*32 + progress):
  //   start:      progress 0, t 0 -> 640
  //   wait:  0                               progress 0, t 1 -> 672
  //   call: -5 (+15 legacy: first call revealed) progress 1, t 2 -> 705
  //   call: -5 (no bonus: already revealed)  progress 1, t 3 -> 737
  //   demo: -10 (+12 legacy) +100 subscribed  progress 3, t 3 (not advanced) -> 739, done
  // plain:  0, -5, -5, 90  (total 80);  legacy: 0, 10, -5, 102 (total 107).
  const std::vector<double> plain_rewards = {0, -5, -5, 90};
  const std::vector<double> legacy_rewards = {0, 10, -5, 102};
  const std::vector<std::uint32_t> states = {672, 705, 737, 739};
  const std::vector<Progress> progress = {0, 1, 1, 3};

  for (const bool legacy : {false, true}) {
    const ReplayEnvironment env(customers, 4, config_with(legacy ? ReplayRewards::legacy() : ReplayRewards::plain()));
    const auto shard = env.make_shard({0});
    RandomStream rng(7, 0);
    EpisodeState e;
    env.start(e, shard, rng);
    CHECK(e.customer == 0);
    CHECK(e.segment == 2);
    CHECK(e.progress == 0);
    CHECK(e.t == 0);
    CHECK_FALSE(e.done);
    CHECK(e.state == 640);
    for (std::size_t k = 0; k < actions.size(); ++k) {
      INFO("legacy " << legacy << " step " << k);
      REQUIRE_FALSE(e.done);
      const auto r = env.step(e, actions[k], rng);
      CHECK(r.reward == (legacy ? legacy_rewards : plain_rewards)[k]);
      CHECK(r.subscribed == (k == 3));
      CHECK(e.done == (k == 3));
      CHECK(e.state == states[k]);
      CHECK(e.progress == progress[k]);
    }
    CHECK(e.t == 3);
  }
}

TEST_CASE("replay: a milestone the record did not reach is not revealed; message targets first call",
          "[replay]") {
  // Reached first call only, subscribed: demo does nothing, a message reveals the first call.
  const ReplayEnvironment env({history(0, 0, {2, -1, -1, -1, -1}, true)}, 1, config_with(ReplayRewards::legacy()));
  RandomStream rng(1, 1);
  EpisodeState e;
  env.start(e, env.make_shard({0}), rng);
  auto r = env.step(e, Action::demo, rng);  // -10, demo not reached
  CHECK(r.reward == -10);
  CHECK(e.progress == 0);
  CHECK_FALSE(e.done);
  r = env.step(e, Action::message, rng);  // -1 + 15 + 100
  CHECK(r.reward == 114);
  CHECK(r.subscribed);
  CHECK(e.done);
  CHECK(e.progress == 1);
  CHECK(e.state == (0u * 10u + 1u) * 32u + 1u);
}

TEST_CASE("replay: a non-subscriber runs to max_steps", "[replay]") {
  // Reached first call (at t0: start bit) and survey (week 4); never subscribes.
  const ReplayEnvironment env({history(1, 1, {0, -1, 4, -1, -1}, false)}, 2, config_with(ReplayRewards::legacy()));
  RandomStream rng(3, 0);
  EpisodeState e;
  env.start(e, env.make_shard({0}), rng);
  CHECK(e.progress == 1);  // first call known at t0
  CHECK(e.state == (1u * 10u + 0u) * 32u + 1u);
  double total = 0;
  int steps = 0;
  while (!e.done) {
    // Calls (first call already revealed: no bonus) then surveys (revealed at the first one).
    const Action a = steps < 5 ? Action::call : Action::survey;
    const auto r = env.step(e, a, rng);
    CHECK_FALSE(r.subscribed);
    total += r.reward;
    ++steps;
    CHECK(e.t == steps);
    CHECK(e.done == (steps == 10));
  }
  // 5 calls at -5, 5 surveys at -2, no bonus (legacy pays nothing for the survey).
  CHECK(steps == 10);
  CHECK(total == -35);
  CHECK(e.progress == 0b00101);
  CHECK(e.state == (1u * 10u + 9u) * 32u + 5u);  // stays at the last step
}

TEST_CASE("replay: a Stage-only subscriber subscribes at step 1 whatever the action", "[replay]") {
  const ReplayEnvironment env({history(0, 0, kNone, true), history(0, 0b00011, kNone, true)}, 1, ReplayConfig{});
  for (const Action a : {Action::wait, Action::message, Action::account_manager}) {
    for (std::int32_t c : {0, 1}) {
      RandomStream rng(5, 0);
      EpisodeState e;
      env.start(e, env.make_shard({static_cast<std::uint32_t>(c)}), rng);
      const auto r = env.step(e, a, rng);
      CHECK(r.reward == 100 - ActionCosts{}.cost[static_cast<std::size_t>(a)]);
      CHECK(r.subscribed);
      CHECK(e.done);
      CHECK(e.t == 0);
      CHECK(e.state == env.state_index(0, c == 0 ? 0 : 3, 0));
    }
  }
}

TEST_CASE("replay: 30/30/40 oversampling", "[replay]") {
  // 1000 customers: 0 is a Stage-only subscriber (no first call), 1..9 reached first call
  // (not subscribed), 10..999 reached nothing.
  std::vector<CustomerHistory> customers;
  customers.push_back(history(0, 0, kNone, true));
  for (int i = 1; i < 10; ++i) customers.push_back(history(0, 0, {i % 3, -1, -1, -1, -1}, false));
  for (int i = 10; i < 1000; ++i) customers.push_back(history(0, 0, kNone, false));
  const ReplayEnvironment env(customers, 1, ReplayConfig{});
  const auto shard = env.make_shard(all_of(1000));
  CHECK(shard.subscribers == std::vector<std::uint32_t>{0});
  CHECK(shard.first_call.size() == 9);
  CHECK(shard.any.size() == 1000);

  RandomStream rng(2024, 11);
  const int n = 100000;
  int subscriber = 0, first_call_or_subscriber = 0;
  EpisodeState e;
  for (int i = 0; i < n; ++i) {
    env.start(e, shard, rng);
    subscriber += e.customer == 0;
    first_call_or_subscriber += e.customer < 10;
  }
  // Subscriber: 0.3 (its pool) + 0.3 * 0 (not in the first-call pool) + 0.4 * 1/1000 = 0.3004.
  CHECK(subscriber / double(n) == Approx(0.3004).margin(0.01));
  // First call or subscriber: 0.3 + 0.3 + 0.4 * 10/1000 = 0.604.
  CHECK(first_call_or_subscriber / double(n) == Approx(0.604).margin(0.01));
}

TEST_CASE("replay: empty pools fall back to any customer", "[replay]") {
  SECTION("no subscriber, no first call: uniform over the shard") {
    std::vector<CustomerHistory> customers(4, history(0, 0, kNone, false));
    const ReplayEnvironment env(customers, 1, ReplayConfig{});
    const auto shard = env.make_shard(all_of(4));
    CHECK(shard.subscribers.empty());
    CHECK(shard.first_call.empty());
    RandomStream rng(9, 9);
    std::array<int, 4> count{};
    const int n = 40000;
    EpisodeState e;
    for (int i = 0; i < n; ++i) env.start(e, shard, rng), ++count[static_cast<std::size_t>(e.customer)];
    for (int c : count) CHECK(c / double(n) == Approx(0.25).margin(0.01));
  }
  SECTION("a subscriber who reached first call is in both pools") {
    std::vector<CustomerHistory> customers(4, history(0, 0, kNone, false));
    customers[2] = history(0, 0, {0, -1, -1, -1, -1}, true);
    const ReplayEnvironment env(customers, 1, ReplayConfig{});
    const auto shard = env.make_shard({0, 1, 2, 3});
    CHECK(shard.subscribers == std::vector<std::uint32_t>{2});
    CHECK(shard.first_call == std::vector<std::uint32_t>{2});
    RandomStream rng(9, 10);
    int hits = 0;
    const int n = 40000;
    EpisodeState e;
    for (int i = 0; i < n; ++i) env.start(e, shard, rng), hits += e.customer == 2;
    // 0.3 + 0.3 + 0.4 * 1/4 = 0.7.
    CHECK(hits / double(n) == Approx(0.7).margin(0.01));
  }
  SECTION("a shard draws only its own customers") {
    std::vector<CustomerHistory> customers(6, history(0, 0, kNone, true));
    const ReplayEnvironment env(customers, 1, ReplayConfig{});
    const auto shard = env.make_shard({1, 4});
    RandomStream rng(9, 11);
    EpisodeState e;
    for (int i = 0; i < 1000; ++i) {
      env.start(e, shard, rng);
      CHECK((e.customer == 1 || e.customer == 4));
    }
  }
}

TEST_CASE("replay: invalid input is rejected", "[replay]") {
  CHECK_THROWS_AS(ReplayEnvironment({history(2, 0, kNone, false)}, 2, ReplayConfig{}), std::invalid_argument);
  ReplayConfig bad;
  bad.max_steps = 0;
  CHECK_THROWS_AS(ReplayEnvironment({}, 1, bad), std::invalid_argument);
  bad = ReplayConfig{};
  bad.oversampling = {0.5, 0.5, 0.5};
  CHECK_THROWS_AS(ReplayEnvironment({}, 1, bad), std::invalid_argument);
  const ReplayEnvironment env({history(0, 0, kNone, false)}, 1, ReplayConfig{});
  CHECK_THROWS_AS(env.make_shard({}), std::invalid_argument);
  CHECK_THROWS_AS(env.make_shard({0, 1}), std::invalid_argument);
}

TEST_CASE("replay: deterministic for a seed", "[replay]") {
  // 50 customers of 5 segments with varied records; random actions drawn from the stream.
  std::vector<CustomerHistory> customers;
  for (int i = 0; i < 50; ++i) {
    std::array<std::int32_t, kStepMilestones> w{};
    for (std::size_t m = 0; m < kStepMilestones; ++m) w[m] = (i >> m) & 1 ? static_cast<std::int32_t>(m) : -1;
    customers.push_back(history(i % 5, static_cast<Progress>(i % 7 == 0 ? 1 : 0), w, i % 4 == 0));
  }
  const ReplayEnvironment env(customers, 5, config_with(ReplayRewards::legacy()));
  const auto shard = env.make_shard(all_of(50));
  auto run = [&](std::uint64_t seed) {
    RandomStream rng(seed, 3);
    std::vector<double> trace;
    EpisodeState e;
    for (int episode = 0; episode < 200; ++episode) {
      env.start(e, shard, rng);
      trace.push_back(e.customer);
      while (!e.done) {
        const auto r = env.step(e, static_cast<Action>(rng.below(kActions)), rng);
        REQUIRE(e.state < env.states());
        trace.push_back(r.reward);
        trace.push_back(e.state);
      }
    }
    return trace;
  };
  CHECK(run(17) == run(17));
  CHECK(run(17) != run(18));
}
