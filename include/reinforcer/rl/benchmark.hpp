#pragma once
// Throughput measurements behind `reinforcer bench` and docs/PERFORMANCE.md: environment
// steps per second per worker (a step = one transition plus its Q update), the same loop on
// a null environment (the ceiling), thread scaling, and the cost of syncing.
#include <cstdint>
#include <vector>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/null_env.hpp"
#include "reinforcer/env/replay_env.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/q_learning.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

struct Throughput {
  double steps_per_second_per_worker = 0;
  double total_steps_per_second = 0;
  std::int64_t steps = 0;
  std::int64_t episodes = 0;
  double seconds = 0;
  double mean_steps() const { return episodes > 0 ? static_cast<double>(steps) / static_cast<double>(episodes) : 0.0; }
  double ns_per_step_per_worker() const { return steps_per_second_per_worker > 0 ? 1e9 / steps_per_second_per_worker : 0.0; }
};

// One measurement with `workers` threads, each its own Q-table, `episodes` episodes each.
Throughput measure_funnel(const FunnelEnvironment& env, int workers, std::int64_t episodes, const QLearningConfig& q);
Throughput measure_replay(const ReplayEnvironment& env, int workers, std::int64_t episodes, const QLearningConfig& q);
// The ceiling of each: the same episode loop (run_episodes, same interleave, visit counting,
// epsilon-greedy and, for the funnel, the all-actions update) on a NullEnvironment that starts
// where env starts and walks one week on per step for mean_steps steps (env's mean episode
// length, Throughput::mean_steps() of its own measurement), with no model work.
Throughput measure_funnel_ceiling(const FunnelEnvironment& env, double mean_steps, int workers, std::int64_t episodes,
                                  const QLearningConfig& q);
Throughput measure_replay_ceiling(const ReplayEnvironment& env, double mean_steps, int workers, std::int64_t episodes,
                                  const QLearningConfig& q);

struct SyncCost {
  std::int64_t sync_every = 0;
  std::int64_t rounds = 0;
  double seconds = 0;       // whole training
  double wait_seconds = 0;  // of which waiting at the barrier for the slowest rank
  double sync_seconds = 0;  // of which averaging (after the barrier)
  double final_regret = 0;  // the learned policy's regret to the DP optimum (regret_share)
};
// A default-like training run (hash shards, `oversample` of the starts at subscribers) on
// `threads` workers per rank, timed from a common start; the final state for judging it.
struct TimedTraining {
  double seconds = 0;
  TrainState state;
};
TimedTraining measure_training(const CustomerTable& table, const FunnelFit& fit, const FunnelEnvironment& env,
                               const Communicator& comm, int threads, std::int64_t episodes_per_worker,
                               std::int64_t sync_every, double oversample, const QLearningConfig& q);

SyncCost measure_sync(const FunnelFit& fit, const FunnelEnvironment& env, const Communicator& comm, int threads,
                      std::int64_t episodes_per_worker, std::int64_t sync_every, const QLearningConfig& q);

}  // namespace reinforcer
