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
#include <cstring>
#include <string>
#include <functional>
#include <limits>
#include <vector>

#include "reinforcer/core/bytes.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/q_learning.hpp"
#include "reinforcer/rl/worker_table.hpp"

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
  std::int64_t sync_block_rows = std::int64_t{1} << 16;  // rows averaged per allreduce (7 MB of sums)
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
  double episode_seconds = 0; // of this round: running the episodes on this rank (the rest of the round is overhead)
  std::int64_t synced_rows = 0;  // of this round: Q-table rows updated by any worker, i.e. averaged (the sync's payload)
};

struct TrainState {
  std::vector<double> q;              // states x kQStride
  std::vector<std::int64_t> visits;   // states x kQStride, over the whole run
  std::int64_t rounds_done = 0;
  std::vector<LearningCurveRow> curve;
};

struct TrainHooks {
  std::function<double(const TrainState&)> regret;  // may be empty; called on rank 0 only
  double regret_share = 0.02;                        // of the wall time, at most (and after the last round)
  std::function<void(const TrainState&)> checkpoint;        // called on every rank; rank 0 writes
  std::function<void(const LearningCurveRow&, std::int64_t total_rounds)> progress;
  std::function<bool()> stop_requested;                     // a signal arrived on this rank
};

// Thrown after a checkpoint was written on request (SIGTERM/SIGUSR1): exit code 75.
struct Interrupted : Error {
  explicit Interrupted(const std::string& m) : Error(ExitCode::interrupted, m) {}
};

// Fixed point of the averaging: 2^24 (6e-8 resolution) unless the round's sums could then
// pass 2^62 -- rewards in other units (x1e6) wrapped cells silently -- in which case the
// largest power of two that keeps every sum in range. A function of global maxima only, so
// every layout of the same workers picks the same scale.
inline constexpr int kFixedPointBits = 24;
inline double fixed_point_scale(double max_abs_q, std::int64_t max_cell_visits_bound) {
  if (!std::isfinite(max_abs_q))
    throw InputError("the Q-values became infinite or NaN; the rewards and costs are too large (give them in smaller "
                     "units) or the learning rate diverges (lower --alpha or raise --omega)");
  int bits = kFixedPointBits;
  if (max_abs_q > 0) {
    // |sum of n_w * round(Q_w * scale)| <= visits * (max|Q| * scale + 1) <= 2^62
    const double headroom = std::ldexp(1.0, 62) / static_cast<double>(std::max<std::int64_t>(1, max_cell_visits_bound)) - 1.0;
    if (headroom < 1.0) throw InputError("a Q-table cell was visited too often in one sync round to average exactly; "
                                         "give a smaller --sync-every");
    bits = std::min(bits, static_cast<int>(std::floor(std::log2(headroom / max_abs_q))));
  }
  return std::ldexp(1.0, bits);
}

// A non-negative double's bits order like the double: a max over them is the max over the values.
inline std::int64_t ordered_bits(double non_negative) {
  std::int64_t b = 0;
  std::memcpy(&b, &non_negative, sizeof b);
  return b;
}
inline double from_ordered_bits(std::int64_t b) {
  double v = 0;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

inline double epsilon_for(const TrainSchedule& s, std::int64_t workers, std::int64_t global_episodes_before) {
  const double total = static_cast<double>(s.episodes_per_worker) * static_cast<double>(workers);
  const double decay = s.q.epsilon_decay > 0 ? s.q.epsilon_decay
                                             : std::pow(s.q.epsilon_end / s.q.epsilon_start, 1.0 / std::max(1.0, 0.5 * total));
  return std::max(s.q.epsilon_end, s.q.epsilon_start * std::pow(decay, static_cast<double>(global_episodes_before)));
}

// The rows updated this round by any worker of any rank, ascending. Ranks exchange their
// lists when all of them together are smaller than a bit set of the table, and OR the bit
// sets otherwise: the same union either way, at the smaller cost. `row_bits` is scratch of
// (rows + 63) / 64 words, zero on entry and on return.
inline std::vector<std::uint32_t> rows_updated_anywhere(const Communicator& comm, const std::vector<WorkerTable>& tables,
                                                        std::vector<std::uint64_t>& row_bits, std::int64_t max_rank_rows) {
  for (const auto& t : tables)
    for (std::uint32_t r : t.rows_touched()) row_bits[r >> 6] |= std::uint64_t{1} << (r & 63);
  auto drain = [&row_bits] {
    std::vector<std::uint32_t> rows;
    for (std::size_t w = 0; w < row_bits.size(); ++w) {
      for (std::uint64_t bits = row_bits[w]; bits != 0; bits &= bits - 1)
        rows.push_back(static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits))));
      row_bits[w] = 0;
    }
    return rows;
  };
  const auto list_bytes = static_cast<double>(max_rank_rows) * sizeof(std::uint32_t) * comm.size();
  if (comm.size() == 1) return drain();
  if (list_bytes >= static_cast<double>(row_bits.size() * sizeof(std::uint64_t))) {
    comm.or_in_place(row_bits);
    return drain();
  }
  const std::vector<std::string> all = comm.gather(bytes_of(drain()));
  std::string merged;
  if (comm.is_root()) {
    std::vector<std::uint32_t> rows;
    for (const auto& b : all) {
      const auto part = values_of<std::uint32_t>(b, "a rank's updated rows");
      rows.insert(rows.end(), part.begin(), part.end());
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    merged = bytes_of(rows);
  }
  comm.broadcast(merged);
  const auto rows = values_of<std::uint32_t>(merged, "the updated rows");
  return rows;
}

// Trains until the schedule's episodes are done (continuing from state.rounds_done).
// shards[t] is what thread t's worker (global index rank*threads + t) draws episodes from.
template <typename Env, typename Shard>
void train_distributed(const Communicator& comm, const Env& env, const std::vector<Shard>& shards,
                       const TrainSchedule& sched, TrainState& state, const TrainHooks& hooks) {
  const std::size_t rows = env.states();
  const std::size_t cells = rows * kQStride;
  const int threads = sched.threads;
  const std::int64_t workers = static_cast<std::int64_t>(comm.size()) * threads;
  if (state.q.size() != cells) state.q.assign(cells, 0.0);
  if (state.visits.size() != cells) state.visits.assign(cells, 0);
  // Each worker reads the global table and keeps its own copy of the rows it updates; after
  // a round the copies are averaged into the global table and dropped.
  std::vector<WorkerTable> tables(static_cast<std::size_t>(threads));
  for (auto& t : tables) t.attach(state.q.data(), rows);
  std::vector<EpisodeBatchStats> stats(static_cast<std::size_t>(threads));
  std::vector<WorkerTable::Extremes> extremes(static_cast<std::size_t>(threads));
  std::vector<std::uint64_t> row_bits((rows + 63) / 64);
  std::vector<std::int64_t> sums_fixed;
  const auto t_start = std::chrono::steady_clock::now();
  double regret_seconds = 0;
  const std::int64_t total_rounds = sched.rounds();
  for (std::int64_t round = state.rounds_done; round < total_rounds; ++round) {
    const std::int64_t first = round * sched.sync_every;
    const std::int64_t n = std::min(sched.sync_every, sched.episodes_per_worker - first);
    const double epsilon = epsilon_for(sched, workers, first * workers);
    const auto t_episodes = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      const std::uint64_t worker = static_cast<std::uint64_t>(comm.rank()) * static_cast<std::uint64_t>(threads) +
                                   static_cast<std::uint64_t>(t);
      stats[static_cast<std::size_t>(t)] = run_episodes(env, shards[static_cast<std::size_t>(t)],
                                                        tables[static_cast<std::size_t>(t)], sched.seed, worker, first,
                                                        n, epsilon, sched.q, state.visits.data());
      extremes[static_cast<std::size_t>(t)] = tables[static_cast<std::size_t>(t)].extremes();  // while its rows are in cache
    }
    // A barrier first, so that time spent waiting for a slower rank (uneven shards, a busy
    // core) is told apart from the cost of averaging itself.
    const auto t_wait = std::chrono::steady_clock::now();
    comm.barrier();
    const auto t_sync = std::chrono::steady_clock::now();
    // Global maxima: rows updated on a rank (to choose how to exchange them), |Q| and one
    // worker's visits of one cell (to choose the fixed-point scale).
    std::vector<std::int64_t> maxima(3, 0);
    double max_abs_q = 0;
    for (int t = 0; t < threads; ++t) {
      maxima[0] += static_cast<std::int64_t>(tables[static_cast<std::size_t>(t)].rows_touched().size());
      max_abs_q = std::max(max_abs_q, extremes[static_cast<std::size_t>(t)].max_abs_q);
      maxima[2] = std::max<std::int64_t>(maxima[2], extremes[static_cast<std::size_t>(t)].max_visits);
    }
    maxima[1] = ordered_bits(max_abs_q);
    comm.max_in_place(maxima);
    const double scale = fixed_point_scale(from_ordered_bits(maxima[1]), workers * maxima[2]);
    const std::vector<std::uint32_t> updated = rows_updated_anywhere(comm, tables, row_bits, maxima[0]);
    const auto m = static_cast<std::int64_t>(updated.size());
    // Visit-weighted sums of one row over this rank's workers, in fixed point: integers, so
    // any grouping gives the same bits.
    auto sum_row = [&tables, scale](std::uint32_t r, std::int64_t* numerator, std::int64_t* count) {
      for (const auto& t : tables) {
        const std::uint32_t slot = t.slot_of(r);
        if (slot == WorkerTable::kNone) continue;
        for (std::size_t a = 0; a < kActions; ++a) {
          const std::int32_t v = t.visits(slot)[a];
          if (v == 0) continue;
          numerator[a] += v * std::llround(t.copy(slot)[a] * scale);
          count[a] += v;
        }
      }
    };
    // The averages into the global table (no worker reads it until the next round).
    auto average_row = [&state, scale](std::uint32_t r, const std::int64_t* numerator, const std::int64_t* count) {
      const std::size_t base = std::size_t{r} * kQStride;
      for (std::size_t a = 0; a < kActions; ++a) {
        if (count[a] == 0) continue;  // the row was updated, not this action
        state.q[base + a] = static_cast<double>(numerator[a]) / static_cast<double>(count[a]) / scale;
        state.visits[base + a] += count[a];
      }
    };
    if (comm.size() == 1) {
      // One rank: each row's sums go straight into the table, with no buffer to fill and read.
#pragma omp parallel for num_threads(threads) schedule(static) if (m > 4096)
      for (std::int64_t j = 0; j < m; ++j) {
        // It waits on memory at random (key slots, copies, the table's rows): ask for the key
        // slots and table rows 16 rows ahead, and for the copies, found by then, 8 ahead.
        if (j + 16 < m) {
          const std::uint32_t ahead = updated[static_cast<std::size_t>(j + 16)];
          for (const auto& t : tables) t.prefetch(ahead);
          __builtin_prefetch(state.visits.data() + std::size_t{ahead} * kQStride);
        }
        if (j + 8 < m) {
          const std::uint32_t ahead = updated[static_cast<std::size_t>(j + 8)];
          for (const auto& t : tables) t.prefetch_copy(ahead);
        }
        std::int64_t numerator[kActions] = {}, count[kActions] = {};
        sum_row(updated[static_cast<std::size_t>(j)], numerator, count);
        average_row(updated[static_cast<std::size_t>(j)], numerator, count);
      }
    }
    // Several ranks: block by block of rows, so the sums' buffer stays small however many rows
    // the workers updated (every rank walks the same blocks of the same union: one allreduce each).
    const std::int64_t block_rows_max = std::max<std::int64_t>(1, sched.sync_block_rows);
    for (std::int64_t block = 0; comm.size() > 1 && block < m; block += block_rows_max) {
      const std::int64_t rows_here = std::min<std::int64_t>(block_rows_max, m - block);
      const std::uint32_t* block_rows = updated.data() + block;
      sums_fixed.assign(2 * static_cast<std::size_t>(rows_here) * kActions, 0);  // numerators, then visit counts
      std::int64_t* numerator = sums_fixed.data();
      std::int64_t* count = numerator + static_cast<std::size_t>(rows_here) * kActions;
#pragma omp parallel for num_threads(threads) schedule(static) if (rows_here > 4096)
      for (std::int64_t j = 0; j < rows_here; ++j)
        sum_row(block_rows[j], numerator + j * kActions, count + j * kActions);
      comm.sum_in_place(sums_fixed);
#pragma omp parallel for num_threads(threads) schedule(static) if (rows_here > 4096)
      for (std::int64_t j = 0; j < rows_here; ++j)
        average_row(block_rows[j], numerator + j * kActions, count + j * kActions);
    }
    // Each thread drops its worker's copies.
#pragma omp parallel num_threads(threads)
    tables[static_cast<std::size_t>(omp_get_thread_num())].clear();
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
    row.episode_seconds = std::chrono::duration<double>(t_wait - t_episodes).count();
    row.wait_seconds = std::chrono::duration<double>(t_sync - t_wait).count();
    row.sync_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_sync).count();
    row.round = round + 1;
    row.episodes = (first + n) * workers;
    row.mean_reward = sums[3] > 0 ? sums[1] / sums[3] : 0;
    row.subscription_rate = sums[3] > 0 ? sums[4] / sums[3] : 0;
    row.epsilon = epsilon;
    row.mean_abs_dq = sums[2] > 0 ? sums[0] / sums[2] : 0;
    row.steps = static_cast<std::int64_t>(sums[2]);
    row.synced_rows = m;
    // Judging the policy is not training: rank 0 does it within a share of the wall time (2%)
    // (the others wait for it at the next barrier), and always after the last round.
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    if (hooks.regret && comm.is_root() &&
        (state.rounds_done == total_rounds || regret_seconds <= hooks.regret_share * elapsed)) {
      const auto t_regret = std::chrono::steady_clock::now();
      row.regret = hooks.regret(state);
      regret_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_regret).count();
    }
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
