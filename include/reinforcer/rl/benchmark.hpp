#pragma once
// Throughput measurements behind `reinforcer bench` and docs/PERFORMANCE.md: environment
// steps per second per worker (a step = one transition plus its Q update), the bare
// Q-update loop on the same table (the ceiling), thread scaling, and the cost of syncing.
#include <cstdint>
#include <vector>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/env/replay_env.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/q_learning.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {

struct Throughput {
  double steps_per_second_per_worker = 0;
  double total_steps_per_second = 0;
  std::int64_t steps = 0;
  double seconds = 0;
};

// One measurement with `workers` threads, each its own Q-table, `episodes` episodes each.
Throughput measure_funnel(const FunnelEnvironment& env, int workers, std::int64_t episodes, const QLearningConfig& q);
Throughput measure_replay(const ReplayEnvironment& env, int workers, std::int64_t episodes, const QLearningConfig& q);
// epsilon-greedy updates on a table of `states` rows, the next state a random function of the
// action taken (each step waits on its argmax, as in an environment), but no environment at
// all. `steps` per worker.
Throughput measure_bare_loop(std::size_t states, int workers, std::int64_t steps, const QLearningConfig& q);

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
