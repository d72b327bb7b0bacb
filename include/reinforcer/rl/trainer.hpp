#pragma once
// Distributed Q-learning in sync rounds (DESIGN.md "Distribution"): every worker runs E
// episodes from the current global Q-table, counting visits N_w(s,a); then
//   Q(s,a) <- sum_w N_w Q_w / sum_w N_w   for pairs visited in the round (others keep theirs),
// summed in 64-bit fixed point -- associative, so the thread sum followed by MPI_Allreduce
// gives bit-identical tables for any layout of the same W workers.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/q_learning.hpp"

namespace reinforcer {

// Defaults of `train` that other commands (bench) reproduce.
inline constexpr std::int64_t kDefaultEpisodesPerWorker = 200000;
inline constexpr std::int64_t kDefaultSyncEvery = 100000;
inline constexpr double kDefaultOversample = 0.1;  // share of funnel episodes started at a subscriber

struct TrainSchedule {
  std::int64_t episodes_per_worker = 0;
  std::int64_t sync_every = 0;  // episodes per worker per round
  int threads = 1;              // workers on this rank
  int checkpoint_every = 0;     // rounds; 0: only when signalled
  std::uint64_t seed = 1;
  QLearningConfig q;
  std::int64_t rounds() const { return (episodes_per_worker + sync_every - 1) / sync_every; }
};

struct LearningCurveRow {
  std::int64_t round = 0;
  std::int64_t episodes = 0;  // global, so far
  double mean_reward = 0;     // per episode, this round
  double subscription_rate = 0;
  double epsilon = 0;
  double mean_abs_dq = 0;     // per step, this round
  double regret = std::numeric_limits<double>::quiet_NaN();  // learned policy's regret to the DP optimum, (V* - V)/|V*| over the starts
  double wall_seconds = 0;    // since the start of this process's training
  double wait_seconds = 0;    // of this round: waiting at the barrier for the slowest rank (load imbalance)
  double sync_seconds = 0;    // of this round: averaging the Q-tables (reduction + allreduce), after the barrier
  std::int64_t steps = 0;     // of this round, all workers: environment steps (Q-updates' decisions)
};

struct TrainState {
  std::vector<double> q;              // states x kQStride
  std::vector<std::int64_t> visits;   // states x kQStride, over the whole run
  std::int64_t rounds_done = 0;
  std::vector<LearningCurveRow> curve;
};

struct TrainHooks {
  std::function<double(const TrainState&)> regret;  // may be empty
  int regret_every = 1;                                        // rounds
  std::function<void(const TrainState&)> checkpoint;        // called on every rank; rank 0 writes
  std::function<void(const LearningCurveRow&, std::int64_t total_rounds)> progress;
  std::function<bool()> stop_requested;                     // a signal arrived on this rank
};

// Thrown after a checkpoint was written on request (SIGTERM/SIGUSR1): exit code 75.
struct Interrupted : Error {
  explicit Interrupted(const std::string& m) : Error(ExitCode::interrupted, m) {}
};

inline constexpr double kFixedPointScale = 16777216.0;  // 2^24: 6e-8 resolution, |Q| up to 5e11 per visit

inline double epsilon_for(const TrainSchedule& s, std::int64_t workers, std::int64_t global_episodes_before) {
  const double total = static_cast<double>(s.episodes_per_worker) * static_cast<double>(workers);
  const double decay = s.q.epsilon_decay > 0 ? s.q.epsilon_decay
                                             : std::pow(s.q.epsilon_end / s.q.epsilon_start, 1.0 / std::max(1.0, 0.5 * total));
  return std::max(s.q.epsilon_end, s.q.epsilon_start * std::pow(decay, static_cast<double>(global_episodes_before)));
}

// Trains until the schedule's episodes are done (continuing from state.rounds_done).
// shards[t] is what thread t's worker (global index rank*threads + t) draws episodes from.
template <typename Env, typename Shard>
void train_distributed(const Communicator& comm, const Env& env, const std::vector<Shard>& shards,
                       const TrainSchedule& sched, TrainState& state, const TrainHooks& hooks) {
  const std::size_t cells = env.states() * kQStride;
  const int threads = sched.threads;
  const std::int64_t workers = static_cast<std::int64_t>(comm.size()) * threads;
  if (state.q.size() != cells) state.q.assign(cells, 0.0);
  if (state.visits.size() != cells) state.visits.assign(cells, 0);
  // Each worker's copy of the table; after a round they differ from the global table only
  // in cells visited that round, so a sync reads and resets just those.
  std::vector<std::vector<double>> local_q(static_cast<std::size_t>(threads), state.q);
  std::vector<std::vector<std::int32_t>> local_n(static_cast<std::size_t>(threads), std::vector<std::int32_t>(cells));
  std::vector<std::vector<std::uint32_t>> touched(static_cast<std::size_t>(threads));
  std::vector<EpisodeBatchStats> stats(static_cast<std::size_t>(threads));
  std::vector<std::uint64_t> visited_bits((cells + 63) / 64);
  std::vector<std::uint32_t> visited;  // union over all workers of all ranks, ascending
  std::vector<std::int64_t> sums_fixed;
  const auto t_start = std::chrono::steady_clock::now();
  const std::int64_t total_rounds = sched.rounds();
  for (std::int64_t round = state.rounds_done; round < total_rounds; ++round) {
    const std::int64_t first = round * sched.sync_every;
    const std::int64_t n = std::min(sched.sync_every, sched.episodes_per_worker - first);
    const double epsilon = epsilon_for(sched, workers, first * workers);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      const std::uint64_t worker = static_cast<std::uint64_t>(comm.rank()) * static_cast<std::uint64_t>(threads) +
                                   static_cast<std::uint64_t>(t);
      stats[static_cast<std::size_t>(t)] =
          run_episodes(env, shards[static_cast<std::size_t>(t)], local_q[static_cast<std::size_t>(t)],
                       local_n[static_cast<std::size_t>(t)], touched[static_cast<std::size_t>(t)], sched.seed, worker,
                       first, n, epsilon, sched.q, state.visits.data());
    }
    // A barrier first, so that time spent waiting for a slower rank (uneven shards, a busy
    // core) is told apart from the cost of averaging itself.
    const auto t_wait = std::chrono::steady_clock::now();
    comm.barrier();
    const auto t_sync = std::chrono::steady_clock::now();
    std::fill(visited_bits.begin(), visited_bits.end(), 0);
    for (const auto& list : touched)
      for (std::uint32_t c : list) visited_bits[c >> 6] |= std::uint64_t{1} << (c & 63);
    comm.or_in_place(visited_bits);
    visited.clear();
    for (std::size_t w = 0; w < visited_bits.size(); ++w)
      for (std::uint64_t bits = visited_bits[w]; bits != 0; bits &= bits - 1)
        visited.push_back(static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits))));
    const auto m = static_cast<std::int64_t>(visited.size());
    sums_fixed.assign(2 * visited.size(), 0);  // numerators, then visit counts: one allreduce
    std::int64_t* numerator = sums_fixed.data();
    std::int64_t* count = numerator + visited.size();
    // Visit-weighted sums in fixed point: integers, so any grouping gives the same bits.
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t j = 0; j < m; ++j) {
      const std::size_t i = visited[static_cast<std::size_t>(j)];
      std::int64_t num = 0, cnt = 0;
      for (int t = 0; t < threads; ++t) {
        const std::int32_t v = local_n[static_cast<std::size_t>(t)][i];
        if (v == 0) continue;
        num += v * std::llround(local_q[static_cast<std::size_t>(t)][i] * kFixedPointScale);
        cnt += v;
      }
      numerator[j] = num;
      count[j] = cnt;
    }
    comm.sum_in_place(sums_fixed);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t j = 0; j < m; ++j) {
      const std::size_t i = visited[static_cast<std::size_t>(j)];
      if (count[j] > 0) {  // visited on some rank
        state.q[i] = static_cast<double>(numerator[j]) / static_cast<double>(count[j]) / kFixedPointScale;
        state.visits[i] += count[j];
      }
      for (int t = 0; t < threads; ++t) {
        local_q[static_cast<std::size_t>(t)][i] = state.q[i];
        local_n[static_cast<std::size_t>(t)][i] = 0;
      }
    }
    for (auto& list : touched) list.clear();
    double sum_dq = 0, reward = 0, subs = 0;
    std::int64_t steps = 0, episodes = 0;
    for (const auto& s : stats) sum_dq += s.abs_dq, reward += s.reward, steps += s.steps, episodes += s.episodes, subs += s.subscriptions;
    // Round statistics and the stop request travel in one allreduce.
    const double stop_here = hooks.stop_requested && hooks.stop_requested() ? 1.0 : 0.0;
    std::vector<double> sums = {sum_dq, reward, static_cast<double>(steps), static_cast<double>(episodes),
                                subs, stop_here};
    comm.sum_in_place(sums);
    state.rounds_done = round + 1;
    LearningCurveRow row;
    row.wait_seconds = std::chrono::duration<double>(t_sync - t_wait).count();
    row.sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_sync).count();
    row.round = round + 1;
    row.episodes = (first + n) * workers;
    row.mean_reward = sums[3] > 0 ? sums[1] / sums[3] : 0;
    row.subscription_rate = sums[3] > 0 ? sums[4] / sums[3] : 0;
    row.epsilon = epsilon;
    row.mean_abs_dq = sums[2] > 0 ? sums[0] / sums[2] : 0;
    row.steps = static_cast<std::int64_t>(sums[2]);
    if (hooks.regret && (state.rounds_done % std::max(1, hooks.regret_every) == 0 || state.rounds_done == total_rounds))
      row.regret = hooks.regret(state);
    row.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    state.curve.push_back(row);
    if (hooks.progress) hooks.progress(row, total_rounds);
    const bool stop = sums[5] > 0;
    const bool due = sched.checkpoint_every > 0 && state.rounds_done % sched.checkpoint_every == 0 &&
                     state.rounds_done < total_rounds;
    if ((due || stop) && hooks.checkpoint) hooks.checkpoint(state);
    if (stop && state.rounds_done < total_rounds)
      throw Interrupted("stopped by a signal after round " + std::to_string(state.rounds_done) +
                        "; a checkpoint was written; continue with --resume");
  }
}

}  // namespace reinforcer
