#pragma once
// A deep Q-network agent (docs/DQN.md), trained synchronously data-parallel: every worker
// (an OpenMP thread on some rank; global index rank * threads + thread) runs its own
// environment stream into its own replay buffer; at each gradient step every worker computes
// the gradient of its own sampled batch, and the gradients of all workers are summed --
// R ranks x T threads act as one model with an R*T-times larger batch. The sum is taken in
// 64-bit fixed point, which is associative, so the weights are bit-identical for a seed
// whatever the split of the same number of workers into ranks and threads.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "reinforcer/core/rng.hpp"
#include "reinforcer/env/episode.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/mlp.hpp"
#include "reinforcer/rl/worker_table.hpp"

namespace reinforcer {

// Step counts are per worker (each worker takes `steps` environment steps; W workers take
// W x steps), so one gradient step is the same point of every worker's schedule.
struct DqnConfig {
  std::vector<int> hidden{64, 64};
  AdamConfig adam;
  int batch = 64;                   // per worker
  int replay_capacity = 50000;      // transitions, per worker
  int warmup_steps = 1000;          // steps before the first gradient step
  int target_update_every = 1000;   // gradient steps between hard target updates
  double target_tau = 0;            // 0: hard updates; else soft target <- tau online + (1 - tau) target every gradient step
  bool double_dqn = true;           // the online network picks the next action, the target network values it
  double gamma = 0.99;
  double epsilon_start = 1, epsilon_end = 0.05;
  int epsilon_decay_steps = 10000;  // linear from start to end over these steps
  std::int64_t steps = 100000;
  int train_every = 4;              // steps between gradient steps
  int curve_every = 1000;           // steps between learning-curve rows
  // The Huber loss is quadratic up to this TD error, linear beyond: in reward units. With
  // rewards near 100 a threshold of 1 made almost every error linear and the fit biased.
  double huber_delta = 10;
  std::uint64_t seed = 1;
  int threads = 1;                  // workers on this rank
};

struct DqnCurveRow {
  std::int64_t steps = 0;           // environment steps so far, all workers
  std::int64_t gradient_steps = 0;
  double loss = 0;                  // mean Huber loss of the gradient steps since the last row
  double mean_q = 0;                // mean Q of the taken actions in those batches
  double mean_episode_reward = 0;   // of the episodes finished since the last row (NaN if none)
  std::int64_t episodes = 0;        // finished so far, all workers
  double epsilon = 0;               // at the row's last step
  double regret = std::nan("");     // of the greedy policy at the row, by DqnHooks::regret (NaN without)
};

// Optional observers of a training run.
struct DqnHooks {
  // The regret of the network's greedy policy to the environment's exact optimum, called with
  // the online weights at every curve row on every rank (collective if it is).
  std::function<double(const std::vector<float>& weights)> regret;
};

struct DqnResult {
  std::vector<int> layer_sizes;     // {inputs, hidden..., kActions}
  std::vector<float> weights;       // the online network's (Mlp layout)
  std::vector<DqnCurveRow> curve;
  int workers = 0;
};

// Q-values of every state in the tabular layout: states x kQStride doubles, action a of state
// s at s * kQStride + a (the padding column 0), so the greedy policy of a Q-table
// (learned_policy, with every action counted as visited) applies unchanged. `features` is
// states x inputs (one state's inputs contiguous).
std::vector<double> tabulate_q(const std::vector<int>& layer_sizes, const std::vector<float>& weights,
                               const std::vector<float>& features, std::size_t states);

// ---- the parts of training that do not depend on the environment (src/rl/dqn.cpp) ----

// One worker's transitions, oldest overwritten first. `discount` is gamma x the chance the
// episode goes on (0 at its end).
class ReplayBuffer {
 public:
  ReplayBuffer(std::size_t inputs, std::size_t capacity);
  void add(const float* state, int action, float reward, float discount, const float* next);
  std::size_t size() const { return size_; }
  std::size_t inputs() const { return inputs_; }
  // `batch` transitions drawn uniformly with replacement; states column-major (inputs x batch).
  void sample(RandomStream& rng, int batch, float* states, int* actions, float* rewards, float* discounts,
              float* next) const;

 private:
  std::size_t inputs_, capacity_, size_ = 0, next_ = 0;
  std::vector<float> states_, next_states_, rewards_, discounts_;
  std::vector<int> actions_;
};

struct DqnBatchStats {
  double loss = 0;
  double mean_q = 0;
};

// A worker's gradient step: samples a batch, forms the (double) DQN targets with the target
// network and writes the Huber loss's gradient to grad.
class DqnWorkerGradient {
 public:
  DqnWorkerGradient(const Mlp& net, int batch);
  DqnBatchStats compute(const Mlp& net, const std::vector<float>& online, const std::vector<float>& target,
                        const DqnConfig& cfg, const ReplayBuffer& replay, RandomStream& rng, std::vector<float>& grad);

 private:
  int batch_;
  std::vector<float> states_, next_, rewards_, discounts_, targets_;
  std::vector<int> actions_, chosen_;
  MlpScratch scratch_;
};

// The exact sum of the workers' gradients: each worker's gradient in fixed point (scale
// 2^40 / clip bound, saturating at 2^62 / workers so no sum of W of them can overflow).
struct GradientFixedPoint {
  double scale = 0;
  std::int64_t limit = 0;
  GradientFixedPoint(double clip_norm, std::int64_t workers);
  void encode(const std::vector<float>& grad, std::vector<std::int64_t>& out) const;
  // The mean gradient over `workers` from the summed fixed-point values.
  void decode(const std::vector<std::int64_t>& sum, std::int64_t workers, std::vector<float>& grad) const;
};

// The online network, its target and their optimiser: the state every rank holds identically.
class DqnModel {
 public:
  DqnModel(const std::vector<int>& layer_sizes, const DqnConfig& cfg);
  const Mlp& net() const { return net_; }
  const std::vector<float>& online() const { return online_; }
  const std::vector<float>& target() const { return target_; }
  std::int64_t gradient_steps() const { return adam_.steps(); }
  // One update from the workers' gradients summed over all threads and ranks (fixed point).
  void apply(const std::vector<std::int64_t>& summed, std::int64_t workers);

 private:
  DqnConfig cfg_;
  Mlp net_;
  std::vector<float> online_, target_, grad_;
  Adam adam_;
  GradientFixedPoint fixed_;
};

double dqn_epsilon(const DqnConfig& cfg, std::int64_t step);
void check_dqn_config(const DqnConfig& cfg);
// The greedy action of a Q row (kActions values): the first of the largest, as the tabular learner.
inline int greedy_of(const float* q) {
  int best = 0;
  for (int a = 1; a < static_cast<int>(kActions); ++a) best = q[a] > q[best] ? a : best;
  return best;
}

// What `reinforcer bench --dqn` measures: gradient steps of the default agent on synthetic
// replay data (random inputs in [0, 1], actions and rewards), `threads` workers per rank.
struct DqnBenchmark {
  std::int64_t gradient_steps = 0;
  int workers = 0;
  double seconds = 0;
  double wait_seconds = 0;           // at a barrier before each allreduce, for the slowest rank
  double allreduce_seconds = 0;      // summing the gradients across ranks (after the barrier)
  double flops_per_step = 0;         // one worker's gradient step
  double steps_per_second() const { return seconds > 0 ? static_cast<double>(gradient_steps) / seconds : 0; }
};
DqnBenchmark measure_dqn_gradient_steps(const Communicator& comm, int inputs, std::int64_t gradient_steps, int threads,
                                        const DqnConfig& cfg);

// The network's layer sizes: the environment's inputs, the hidden widths, one output per action.
inline std::vector<int> dqn_layer_sizes(std::size_t inputs, const DqnConfig& cfg) {
  std::vector<int> sizes{static_cast<int>(inputs)};
  sizes.insert(sizes.end(), cfg.hidden.begin(), cfg.hidden.end());
  sizes.push_back(static_cast<int>(kActions));
  return sizes;
}

// Exploration decaying over the first half of the steps, about 20 curve rows and a warm-up
// within the budget, whatever the budget (the train and engagement commands set steps only).
inline void fit_dqn_schedule_to_steps(DqnConfig& cfg) {
  const std::int64_t steps = std::max<std::int64_t>(1, cfg.steps);
  cfg.epsilon_decay_steps = static_cast<int>(std::min<std::int64_t>(std::max<std::int64_t>(1, steps / 2), INT32_MAX));
  cfg.curve_every = static_cast<int>(std::min<std::int64_t>(std::max<std::int64_t>(1, steps / 20), INT32_MAX));
  cfg.warmup_steps = static_cast<int>(std::min<std::int64_t>(cfg.warmup_steps, steps));
}

// "39-64-64-7": the layer sizes as the commands print them.
inline std::string dqn_layers_text(const std::vector<int>& sizes) {
  std::string t;
  for (int n : sizes) t += (t.empty() ? "" : "-") + std::to_string(n);
  return t;
}

// ---- training ----

// Trains a DQN on env: shards[t] is what thread t's worker (global index rank * threads + t)
// draws episode starts from. Env provides states(), inputs(), features(e, out), start and
// step (env/episode.hpp). Collective: every rank calls it with the same config.
template <typename Env, typename Shard>
DqnResult train_dqn(const Communicator& comm, const Env& env, const std::vector<Shard>& shards, const DqnConfig& cfg,
                    const DqnHooks& hooks = {}) {
  check_dqn_config(cfg);
  const int threads = cfg.threads;
  if (shards.size() < static_cast<std::size_t>(threads))
    throw std::invalid_argument("train_dqn: " + std::to_string(shards.size()) + " shards for " +
                                std::to_string(threads) + " threads");
  const std::int64_t workers = static_cast<std::int64_t>(comm.size()) * threads;
  const auto inputs = static_cast<int>(env.inputs());
  const std::vector<int> sizes = dqn_layer_sizes(env.inputs(), cfg);
  DqnModel model(sizes, cfg);
  const GradientFixedPoint fixed(cfg.adam.clip_norm, workers);

  struct Worker {
    EpisodeState e;
    RandomStream rng{0, 0};
    ReplayBuffer replay;
    DqnWorkerGradient gradient;
    MlpScratch acting;
    std::vector<float> state, next, grad;
    std::vector<std::int64_t> grad_fixed;
    double episode_reward = 0;
    // since the last curve row
    double finished_reward = 0, loss = 0, mean_q = 0;
    std::int64_t finished = 0, batches = 0;
    Worker(const Mlp& net, int inputs_, const DqnConfig& c)
        : replay(static_cast<std::size_t>(inputs_), static_cast<std::size_t>(c.replay_capacity)),
          gradient(net, c.batch),
          state(static_cast<std::size_t>(inputs_)),
          next(static_cast<std::size_t>(inputs_)),
          grad(net.parameters()),
          grad_fixed(net.parameters()) {}
  };
  std::vector<Worker> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back(model.net(), inputs, cfg);
    Worker& w = pool.back();
    const std::uint64_t global = static_cast<std::uint64_t>(comm.rank()) * static_cast<std::uint64_t>(threads) +
                                 static_cast<std::uint64_t>(t);
    w.rng = RandomStream(cfg.seed, global);
    env.start(w.e, shards[static_cast<std::size_t>(t)], w.rng);
    env.features(w.e, w.state.data());
  }
  std::vector<std::int64_t> summed(model.net().parameters());
  DqnResult result;
  result.layer_sizes = sizes;
  result.workers = static_cast<int>(workers);
  std::int64_t episodes_total = 0;
  std::int64_t step = 0;
  while (step < cfg.steps) {
    // Up to the next gradient step or curve row, whichever comes first.
    const std::int64_t to_train = cfg.train_every - step % cfg.train_every;
    const std::int64_t to_row = cfg.curve_every - step % cfg.curve_every;
    const std::int64_t end = std::min(cfg.steps, step + std::min(to_train, to_row));
    const bool train = end % cfg.train_every == 0 && end >= cfg.warmup_steps;
    const std::int64_t first = step;
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      Worker& w = pool[static_cast<std::size_t>(t)];
      const Shard& shard = shards[static_cast<std::size_t>(t)];
      for (std::int64_t i = first; i < end; ++i) {
        const double epsilon = dqn_epsilon(cfg, i);
        const auto threshold = static_cast<std::uint32_t>(epsilon >= 1.0 ? 0xFFFFFFFFu : epsilon * 4294967296.0);
        const std::uint64_t r = w.rng.next();
        int a = 0;
        if (static_cast<std::uint32_t>(r) < threshold) {
          a = static_cast<int>(((r >> 32) * kActions) >> 32);  // uniform action from the high half
        } else {
          a = greedy_of(model.net().forward(model.online().data(), w.state.data(), 1, w.acting));
        }
        const StepResult out = env.step(w.e, static_cast<Action>(a), w.rng);
        w.episode_reward += out.reward;
        const bool done = w.e.done;
        if (!done) env.features(w.e, w.next.data());
        const auto discount = static_cast<float>(done ? 0.0 : cfg.gamma * out.continuation);
        w.replay.add(w.state.data(), a, static_cast<float>(out.reward), discount, w.next.data());
        if (done) {
          w.finished_reward += w.episode_reward;
          ++w.finished;
          w.episode_reward = 0;
          env.start(w.e, shard, w.rng);
          env.features(w.e, w.state.data());
        } else {
          std::swap(w.state, w.next);
        }
      }
      if (train) {
        const DqnBatchStats st = w.gradient.compute(model.net(), model.online(), model.target(), cfg, w.replay, w.rng, w.grad);
        w.loss += st.loss;
        w.mean_q += st.mean_q;
        ++w.batches;
        fixed.encode(w.grad, w.grad_fixed);
      }
    }
    if (train) {
      // Integers: the threads' order and the ranks' reduction tree do not change the sum.
      std::fill(summed.begin(), summed.end(), 0);
      for (const Worker& w : pool)
        for (std::size_t k = 0; k < summed.size(); ++k) summed[k] += w.grad_fixed[k];
      comm.sum_in_place(summed);
      model.apply(summed, workers);
    }
    step = end;
    if (step % cfg.curve_every == 0 || step == cfg.steps) {
      std::vector<double> sums(5, 0.0);
      for (Worker& w : pool) {
        sums[0] += w.loss, sums[1] += w.mean_q, sums[2] += static_cast<double>(w.batches);
        sums[3] += w.finished_reward, sums[4] += static_cast<double>(w.finished);
        w.loss = w.mean_q = w.finished_reward = 0;
        w.batches = w.finished = 0;
      }
      comm.sum_in_place(sums);
      episodes_total += static_cast<std::int64_t>(sums[4]);
      DqnCurveRow row;
      row.steps = step * workers;
      row.gradient_steps = model.gradient_steps();
      row.loss = sums[2] > 0 ? sums[0] / sums[2] : 0.0;
      row.mean_q = sums[2] > 0 ? sums[1] / sums[2] : 0.0;
      row.mean_episode_reward = sums[4] > 0 ? sums[3] / sums[4] : std::nan("");
      row.episodes = episodes_total;
      row.epsilon = dqn_epsilon(cfg, step - 1);
      if (hooks.regret) row.regret = hooks.regret(model.online());
      result.curve.push_back(row);
    }
  }
  result.weights = model.online();
  return result;
}

}  // namespace reinforcer
