#include <catch2/catch.hpp>

#include <cmath>

#include "reinforcer/env/null_env.hpp"
#include "reinforcer/rl/q_learning.hpp"

using namespace reinforcer;

// The ceiling's environment walks the rows an environment would: from a start row, one week
// (kProgressStates rows) on per step, for the mean episode length it is given.
TEST_CASE("null environment: episodes walk one week on per step from a start row, lasting the mean length",
          "[null-env]") {
  const NullShard shard{{0 * 32 + 3, 52 * 32 + 5, 2 * 52 * 32 + 0}};  // three segments' week-0 rows
  const NullEnvironment<false> env(3 * 52 * 32, 32, 9.25);
  RandomStream rng(1, 2);
  double steps = 0;
  const int episodes = 20000;
  for (int i = 0; i < episodes; ++i) {
    EpisodeState e;
    env.start(e, shard, rng);
    const std::uint32_t first = e.state;
    REQUIRE((first == 3 || first == 52 * 32 + 5 || first == 2 * 52 * 32));
    int t = 0;
    while (!e.done) {
      REQUIRE(e.state == first + 32u * static_cast<std::uint32_t>(t));
      env.step(e, Action::wait, rng);
      ++t;
    }
    REQUIRE((t == 9 || t == 10));
    steps += t;
  }
  CHECK(steps / episodes == Approx(9.25).margin(0.02));
}

TEST_CASE("null environment: the all-actions week reads next week's row of each milestone an action can add",
          "[null-env]") {
  const NullShard shard{{64 + 0b00001}};  // week 2 of segment 0, first call reached
  const NullEnvironment<true> env(54 * 32, 32, 52, 0b11110);  // 52 weeks on from week 2
  RandomStream rng(3, 4);
  EpisodeState e;
  env.start(e, shard, rng);
  WeekSample w;
  env.sample_all(e, rng, w);
  CHECK(w.status_quo.next_state == 96 + 0b00001);
  CHECK(w.changes == 0b11110u);
  for (unsigned m = 1; m < 5; ++m) CHECK(w.reached[m].next_state == 96 + (0b00001 | (1u << m)));
  // Trained like the funnel, every action of every visited row is updated.
  const std::vector<double> q(env.states() * kQStride, 0.0);
  WorkerTable table;
  table.attach(q.data(), env.states());
  const EpisodeBatchStats st = run_episodes(env, shard, table, 1, 0, 0, 10, 0.1, QLearningConfig{});
  CHECK(st.episodes == 10);
  CHECK(st.steps == 10 * 52);
  REQUIRE(table.slot_of(64 + 1) != WorkerTable::kNone);
  CHECK(table.visits(table.slot_of(64 + 1))[6] == 10);
}
