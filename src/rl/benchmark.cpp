#include "reinforcer/rl/benchmark.hpp"

#include <omp.h>

#include <chrono>
#include <numeric>

namespace reinforcer {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kBenchEpsilon = 0.1;  // mid-training exploration

template <typename Env, typename Shard>
Throughput measure(const Env& env, const Shard& shard, int workers, std::int64_t episodes, const QLearningConfig& q) {
  // Each worker's view of a zero table, as in a training round (one round: no sync).
  const std::vector<double> shared(env.states() * kQStride, 0.0);
  std::vector<WorkerTable> tables(static_cast<std::size_t>(workers));
  for (auto& table : tables) table.attach(shared.data(), env.states());
  std::vector<EpisodeBatchStats> stats(static_cast<std::size_t>(workers));
  const auto t0 = Clock::now();
#pragma omp parallel for num_threads(workers) schedule(static, 1)
  for (int w = 0; w < workers; ++w) {
    const auto i = static_cast<std::size_t>(w);
    stats[i] = run_episodes(env, shard, tables[i], 7, static_cast<std::uint64_t>(w), 0, episodes, kBenchEpsilon, q);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Throughput t;
  for (const EpisodeBatchStats& st : stats) t.steps += st.steps, t.episodes += st.episodes;
  t.seconds = secs;
  t.total_steps_per_second = static_cast<double>(t.steps) / secs;
  t.steps_per_second_per_worker = t.total_steps_per_second / workers;
  return t;
}

// Rows episodes start at, drawn as env draws its starts from shard: the ceiling's episodes
// begin where the environment's do.
template <typename Env, typename Shard>
NullShard start_rows_of(const Env& env, const Shard& shard, std::size_t draws) {
  NullShard out;
  RandomStream rng(11, 0);
  EpisodeState e;
  for (std::size_t i = 0; i < draws; ++i) {
    env.start(e, shard, rng);
    out.start_rows.push_back(e.state);
  }
  return out;
}
constexpr std::size_t kStartDraws = 1 << 16;

std::vector<std::uint32_t> all_of(std::size_t n) {
  std::vector<std::uint32_t> v(n);
  std::iota(v.begin(), v.end(), 0u);
  return v;
}

}  // namespace

Throughput measure_funnel(const FunnelEnvironment& env, int workers, std::int64_t episodes, const QLearningConfig& q) {
  return measure(env, FunnelShard{all_of(env.starts().size()), {}, 0}, workers, episodes, q);
}

Throughput measure_replay(const ReplayEnvironment& env, int workers, std::int64_t episodes, const QLearningConfig& q) {
  return measure(env, env.make_shard(all_of(env.customers())), workers, episodes, q);
}

Throughput measure_funnel_ceiling(const FunnelEnvironment& env, double mean_steps, int workers, std::int64_t episodes,
                                  const QLearningConfig& q) {
  const NullEnvironment<true> null(env.states(), static_cast<std::uint32_t>(kProgressStates), mean_steps, env.model().actionable_milestones());
  return measure(null, start_rows_of(env, FunnelShard{all_of(env.starts().size()), {}, 0}, kStartDraws), workers,
                 episodes, q);
}

Throughput measure_replay_ceiling(const ReplayEnvironment& env, double mean_steps, int workers, std::int64_t episodes,
                                  const QLearningConfig& q) {
  const NullEnvironment<false> null(env.states(), static_cast<std::uint32_t>(kProgressStates), mean_steps);
  return measure(null, start_rows_of(env, env.make_shard(all_of(env.customers())), kStartDraws), workers, episodes, q);
}

TimedTraining measure_training(const CustomerTable& table, const FunnelFit& fit, const FunnelEnvironment& env,
                               const Communicator& comm, int threads, std::int64_t episodes_per_worker,
                               std::int64_t sync_every, double oversample, const QLearningConfig& q) {
  TrainSchedule s;
  s.episodes_per_worker = episodes_per_worker;
  s.sync_every = sync_every;
  s.threads = threads;
  s.q = q;
  const int workers = comm.size() * threads;
  const auto shards = funnel_shards(table, fit, fitting_shards(table, fit, comm.rank() * threads, threads, workers, false),
                                    oversample);
  TimedTraining t;
  comm.barrier();
  const auto t0 = Clock::now();
  train_distributed(comm, env, shards, s, t.state, TrainHooks{});
  t.seconds = std::chrono::duration<double>(Clock::now() - t0).count();  // the last round ends in an allreduce
  return t;
}

SyncCost measure_sync(const FunnelFit& fit, const FunnelEnvironment& env, const Communicator& comm, int threads,
                      std::int64_t episodes_per_worker, std::int64_t sync_every, const QLearningConfig& q) {
  TrainSchedule s;
  s.episodes_per_worker = episodes_per_worker;
  s.sync_every = sync_every;
  s.threads = threads;
  s.q = q;
  std::vector<FunnelShard> shards(static_cast<std::size_t>(threads), FunnelShard{all_of(env.starts().size()), {}, 0});
  TrainState st;
  comm.barrier();  // start together: what came before (the previous run's regret) is not training
  const auto t0 = Clock::now();
  train_distributed(comm, env, shards, s, st, TrainHooks{});
  SyncCost c;
  c.sync_every = sync_every;
  c.rounds = st.rounds_done;
  c.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const auto& r : st.curve) c.wait_seconds += r.wait_seconds, c.sync_seconds += r.sync_seconds;
  c.final_regret = fit.regret_of(st.q, st.visits);
  return c;
}

}  // namespace reinforcer
