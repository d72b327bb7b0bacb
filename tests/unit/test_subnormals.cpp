#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "reinforcer/rl/q_learning.hpp"

using namespace reinforcer;

namespace {
// One state; every action ends the episode with reward 0, so each update is Q <- 0.9 Q.
struct FadingEnvironment {
  void start(EpisodeState& e, int /*shard*/, RandomStream& /*rng*/) const {
    e.state = 0;
    e.done = false;
  }
  StepResult step(EpisodeState& e, Action /*a*/, RandomStream& /*rng*/) const {
    e.done = true;
    return StepResult{0.0, false};
  }
};

double fade(double x, int times) {
  volatile double v = x;  // volatile: computed at run time, under the current FP mode
  for (int i = 0; i < times; ++i) v = v * 0.9;
  return v;
}
}  // namespace

TEST_CASE("episodes never compute with subnormal Q-values", "[qlearning]") {
  // 1e-300 * 0.9^200 = 7e-310 is subnormal; decays like it run on the slow path of the FPU
  // and made some workers 20% slower than others.
  REQUIRE(std::fpclassify(fade(1e-300, 200)) == FP_SUBNORMAL);
  const std::vector<double> shared(kQStride, 1e-300);
  WorkerTable table;
  table.attach(shared.data(), 1);
  QLearningConfig cfg;  // alpha 0.1: Q <- Q + 0.1 (0 - Q)
  // Greedy (epsilon 0): the largest of the seven is updated. In IEEE arithmetic they take
  // turns, 200 updates each, and all end near 7e-310: subnormal.
  const EpisodeBatchStats st =
      run_episodes(FadingEnvironment{}, 0, table, 1, 0, 0, 200 * kActions, 0.0, cfg);
  const double* q = table.copy(0);
  const std::int32_t* visits = table.visits(0);
  CHECK(st.steps == 200 * static_cast<std::int64_t>(kActions));
  std::int64_t updates = 0;
  for (std::size_t a = 0; a < kActions; ++a) {
    INFO("action " << a << " Q = " << q[a] << ", updated " << visits[a] << " times");
    updates += visits[a];
    // Flushed: an update that would go subnormal is 0, so a value stops just above the range.
    CHECK(std::fpclassify(q[a]) != FP_SUBNORMAL);
    CHECK(q[a] < 1e-305);
  }
  CHECK(updates == 200 * static_cast<std::int64_t>(kActions));
  // The mode is the batch's only: afterwards arithmetic is IEEE again.
  CHECK(std::fpclassify(fade(1e-300, 200)) == FP_SUBNORMAL);
}
