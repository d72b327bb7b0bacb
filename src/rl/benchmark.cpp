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
  const std::vector<double> shared(env.states() * kQStride, 0.0);
  std::vector<WorkerTable> tables(static_cast<std::size_t>(workers));
  for (auto& t : tables) t.attach(shared.data(), env.states());
  std::vector<std::int64_t> steps(static_cast<std::size_t>(workers), 0);
  const auto t0 = Clock::now();
#pragma omp parallel for num_threads(workers) schedule(static, 1)
  for (int w = 0; w < workers; ++w)
    steps[static_cast<std::size_t>(w)] = run_episodes(env, shard, tables[static_cast<std::size_t>(w)], 7, static_cast<std::uint64_t>(w),
                                                      0, episodes, kBenchEpsilon, q).steps;
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Throughput t;
  t.steps = std::accumulate(steps.begin(), steps.end(), std::int64_t{0});
  t.seconds = secs;
  t.total_steps_per_second = static_cast<double>(t.steps) / secs;
  t.steps_per_second_per_worker = t.total_steps_per_second / workers;
  return t;
}

// The first action of greatest value, like greedy_action, without a branch per comparison.
// Slower inside the environments (measured), whose episodes revisit rows and so keep the
// branches predictable; faster here, where every step lands on a random row: the ceiling
// should be the fastest loop we can write.
std::size_t greedy_action_branch_free(const double* row) {
  const double v = max_q(row);
  unsigned at_max = 0;
  for (std::size_t a = 0; a < kActions; ++a) at_max |= static_cast<unsigned>(row[a] == v) << a;
  return static_cast<std::size_t>(__builtin_ctz(at_max));
}

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

Throughput measure_bare_loop(std::size_t states, int workers, std::int64_t steps, const QLearningConfig& q) {
  std::vector<std::vector<double>> tables(static_cast<std::size_t>(workers), std::vector<double>(states * kQStride, 0.0));
  const auto t0 = Clock::now();
#pragma omp parallel for num_threads(workers) schedule(static, 1)
  for (int w = 0; w < workers; ++w) {
    const SubnormalsFlushedToZero flush;  // as in the workers' episodes
    double* Q = tables[static_cast<std::size_t>(w)].data();
    constexpr int kChains = 8;  // as many independent chains as the workers interleave
    RandomStream rng(7, static_cast<std::uint64_t>(w));
    std::uint32_t s[kChains];
    for (auto& x : s) x = static_cast<std::uint32_t>(rng.below(states));
    const auto eps = static_cast<std::uint32_t>(kBenchEpsilon * 4294967296.0);
    for (std::int64_t i = 0; i < steps; i += kChains)
      for (int c = 0; c < kChains; ++c) {
        double* row = Q + static_cast<std::size_t>(s[c]) * kQStride;
        const std::uint64_t r = rng.next();
        std::size_t a = greedy_action_branch_free(row);
        if (static_cast<std::uint32_t>(r) < eps) a = static_cast<std::size_t>(((r >> 32) * kActions) >> 32);
        // The next state depends on the action taken, as in any environment (a lookup-free
        // one: the chosen action mixed into random bits), so each step waits on its argmax.
        const std::uint64_t mixed = ((r >> 32) ^ (static_cast<std::uint64_t>(a) * 0x9E3779B9ULL)) & 0xFFFFFFFFULL;
        const auto next = static_cast<std::uint32_t>((mixed * states) >> 32);
        row[a] += q.alpha * (-1.0 + q.gamma * max_q(Q + static_cast<std::size_t>(next) * kQStride) - row[a]);
        s[c] = next;
      }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Throughput t;
  t.steps = steps * workers;
  t.seconds = secs;
  t.total_steps_per_second = static_cast<double>(t.steps) / secs;
  t.steps_per_second_per_worker = t.total_steps_per_second / workers;
  return t;
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
