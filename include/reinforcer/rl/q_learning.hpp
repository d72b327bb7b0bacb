#pragma once
// Tabular Q-learning for one worker: epsilon-greedy episodes on an environment, several
// episodes interleaved in lockstep (independent chains give the CPU independent work).
// Every episode's random stream is a function of (seed, worker, episode number) only, so a
// worker's results never depend on the layout of workers on ranks and threads.
#include <cmath>
#include <cstdint>
#include <vector>

#include "reinforcer/env/episode.hpp"
#include "reinforcer/core/rng.hpp"
#include "reinforcer/rl/subnormals.hpp"
#include "reinforcer/rl/worker_table.hpp"

namespace reinforcer {

struct QLearningConfig {
  // Step size: 1 / (1 + N(s,a))^omega, N the visits of the cell so far (all workers' before
  // this round, this worker's in it); omega <= 0: the constant alpha. A constant 0.1 let one
  // sampled +100 move a value by 10 where the gaps between actions are 0.001-1.
  double omega = 0.6;
  double alpha = 0.1;
  double gamma = 1.0;
  double epsilon_start = 1.0;
  double epsilon_end = 0.01;
  double epsilon_decay = 0.0;  // per global episode; <= 0: reach epsilon_end at half the budget
  int interleave = 8;          // episodes run in lockstep per worker (part of the algorithm)
};

struct EpisodeBatchStats {
  std::int64_t episodes = 0;
  std::int64_t steps = 0;
  double subscriptions = 0;  // expected (funnel) or sampled (replay)
  double reward = 0.0;
  double abs_dq = 0.0;  // sum of |update| over steps
};

inline std::size_t greedy_action(const double* row) {
  std::size_t best = 0;
  double v = row[0];
  for (std::size_t a = 1; a < kActions; ++a) {
    const bool better = row[a] > v;  // strict: ties keep the lowest action
    best = better ? a : best;
    v = better ? row[a] : v;
  }
  return best;
}

inline double max_q(const double* row) {
  double v = row[0];
  for (std::size_t a = 1; a < kActions; ++a) v = row[a] > v ? row[a] : v;
  return v;
}

// Step sizes (1 + n)^-omega by table: exact for n < 64, then per 1/64 of each power of two
// (the value at the bucket's lowest n, so the schedule still never rises; within 1% of the
// exact value) -- a pow per step would cost more than the rest of the step.
class StepSizes {
 public:
  explicit StepSizes(const QLearningConfig& cfg) : constant_(cfg.omega <= 0 ? cfg.alpha : 0.0) {
    if (constant_ > 0) return;
    table_.resize(64 + 58 * 64);
    for (std::size_t n = 0; n < 64; ++n) table_[n] = std::pow(1.0 + static_cast<double>(n), -cfg.omega);
    for (std::size_t e = 6; e < 64; ++e)
      for (std::size_t m = 0; m < 64; ++m) {
        const double lowest = std::ldexp(1.0 + static_cast<double>(m) / 64.0, static_cast<int>(e));
        table_[64 + (e - 6) * 64 + m] = std::pow(1.0 + lowest, -cfg.omega);
      }
  }
  double operator()(std::uint64_t n) const {
    if (constant_ > 0) return constant_;
    if (n < 64) return table_[n];
    const auto e = static_cast<std::size_t>(63 - __builtin_clzll(n));
    return table_[64 + (e - 6) * 64 + static_cast<std::size_t>((n >> (e - 6)) & 63)];
  }

 private:
  double constant_;
  std::vector<double> table_;
};

// Runs episodes [first_episode, first_episode + count) of `worker` on its view of the table,
// counting its visits per (state, action) in it. Shard is whatever Env::start takes.
// prior_visits (may be null): every worker's visits per cell before this round, for the
// step size.
template <typename Env, typename Shard>
EpisodeBatchStats run_episodes(const Env& env, const Shard& shard, WorkerTable& table, std::uint64_t seed,
                               std::uint64_t worker, std::int64_t first_episode, std::int64_t count, double epsilon,
                               const QLearningConfig& cfg, const std::int64_t* prior_visits = nullptr) {
  const SubnormalsFlushedToZero flush;  // this thread, this batch
  EpisodeBatchStats st;
  const int width = cfg.interleave < 1 ? 1 : (cfg.interleave > 64 ? 64 : cfg.interleave);
  struct Chain {
    EpisodeState e;
    RandomStream rng{0, 0};
    bool active = false;
    double reward = 0, abs_dq = 0, subscriptions = 0;  // per chain: no dependency between chains' additions
  };
  Chain chains[64];
  std::int64_t next_episode = first_episode;
  const std::uint64_t seed_hash = splitmix64(seed ^ 0xE9150DE5ULL);
  const std::int64_t end_episode = first_episode + count;
  const auto eps_threshold = static_cast<std::uint32_t>(epsilon >= 1.0 ? 0xFFFFFFFFu : epsilon * 4294967296.0);
  auto launch = [&](Chain& c) {
    if (next_episode >= end_episode) {
      c.active = false;
      return;
    }
    c.rng = RandomStream::keyed(seed_hash, (worker << 40) ^ static_cast<std::uint64_t>(next_episode));
    ++next_episode;
    env.start(c.e, shard, c.rng);  // sets every field an environment uses
    // A new episode starts at a random customer's state, whose rows are cold: fetch them
    // while the other chains step, rather than stall on them next round.
    table.prefetch(c.e.state);
    c.active = true;
  };
  int active = 0;
  for (int i = 0; i < width; ++i) {
    launch(chains[i]);
    active += chains[i].active;
  }
  const StepSizes step_size(cfg);
  // One Q-update of cell (row, action b) toward `target`, with its visit count.
  auto learn = [&](Chain& c, WorkerTable::MutableRow row, std::size_t base, std::size_t b, double target) {
    const auto n = static_cast<std::uint64_t>(row.visits[b]) +
                   (prior_visits ? static_cast<std::uint64_t>(prior_visits[base + b]) : 0);
    const double dq = step_size(n) * (target - row.q[b]);
    row.q[b] += dq;
    ++row.visits[b];
    // fabs, not a sign test: the compiler keeps `dq < 0 ? -dq : dq` as a branch (it must
    // keep -0.0), and the sign of an update is a coin flip that the predictor misses.
    c.abs_dq += std::fabs(dq);
  };
  // The step's statistics; a finished episode makes room for the next.
  auto finish = [&](Chain& c, const StepResult& out) {
    ++st.steps;
    c.reward += out.reward;
    c.subscriptions += out.subscription + (out.subscribed ? 1.0 : 0.0);
    if (c.e.done) {
      ++st.episodes;
      launch(c);
      active -= !c.active;
    }
  };
  // What the all-actions update needs of each action, looked up once.
  [[maybe_unused]] ActionModel actions;
  [[maybe_unused]] double reward_per_subscription = 0;
  if constexpr (samples_all_actions<Env>::value) actions = env.action_model(), reward_per_subscription = env.subscription_reward();
  while (active > 0) {
    for (int i = 0; i < width; ++i) {
      Chain& c = chains[i];
      if (!c.active) continue;
      const std::uint32_t s = c.e.state;
      const WorkerTable::MutableRow row = table.update(s);  // every step updates its state's row
      const std::uint64_t r = c.rng.next();
      std::size_t a = greedy_action(row.q);
      if (static_cast<std::uint32_t>(r) < eps_threshold)
        a = static_cast<std::size_t>(((r >> 32) * kActions) >> 32);  // uniform action from the high half
      if constexpr (samples_all_actions<Env>::value) {
        // Every action of the state from one sampled week: all are updated as often, so none
        // is judged on stale or few targets, and their differences carry no status-quo noise.
        WeekSample w;
        env.sample_all(c.e, c.rng, w);
        auto value_of = [&](const WeekOutcomeSample& o) {  // paid this week and after it
          const double later = w.last ? 0.0 : cfg.gamma * max_q(table.row(o.next_state));
          return o.subscription * reward_per_subscription + (1 - o.subscription) * later;
        };
        const double status_quo = value_of(w.status_quo);
        std::array<double, kStepMilestones> with{};
        for (unsigned bits = w.changes; bits != 0; bits &= bits - 1) {
          const auto m = static_cast<std::size_t>(__builtin_ctz(bits));
          with[m] = value_of(w.reached[m]);
        }
        const std::size_t base = static_cast<std::size_t>(s) * kQStride;
        for (std::size_t b = 0; b < kActions; ++b) {
          const int m = actions.milestone[b];
          const bool changes = m >= 0 && (w.changes >> m & 1u);
          const double p = actions.success[b];
          const double target =
              -actions.cost[b] + (changes ? (1 - p) * status_quo + p * with[static_cast<std::size_t>(m)] : status_quo);
          learn(c, row, base, b, target);
        }
        finish(c, env.advance(c.e, w, static_cast<Action>(a)));
        continue;
      }
      const StepResult out = env.step(c.e, static_cast<Action>(a), c.rng);
      const double target =
          c.e.done ? out.reward
                   : out.reward + cfg.gamma * out.continuation * max_q(table.row(c.e.state));
      learn(c, row, static_cast<std::size_t>(s) * kQStride, a, target);
      finish(c, out);
    }
  }
  for (int i = 0; i < width; ++i)
    st.reward += chains[i].reward, st.abs_dq += chains[i].abs_dq, st.subscriptions += chains[i].subscriptions;
  return st;
}

}  // namespace reinforcer
