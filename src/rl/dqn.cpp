#include "reinforcer/rl/dqn.hpp"

#include <chrono>
#include <cstring>
#include <limits>

namespace reinforcer {

std::vector<double> tabulate_q(const std::vector<int>& layer_sizes, const std::vector<float>& weights,
                               const std::vector<float>& features, std::size_t states) {
  const Mlp net(layer_sizes);
  if (weights.size() != net.parameters())
    throw std::invalid_argument("tabulate_q: " + std::to_string(weights.size()) + " weights for a network of " +
                                std::to_string(net.parameters()));
  if (net.outputs() != static_cast<int>(kActions))
    throw std::invalid_argument("tabulate_q: the network has " + std::to_string(net.outputs()) + " outputs, not one per action");
  const auto inputs = static_cast<std::size_t>(net.inputs());
  if (features.size() != states * inputs)
    throw std::invalid_argument("tabulate_q: " + std::to_string(features.size()) + " features for " +
                                std::to_string(states) + " states of " + std::to_string(inputs) + " inputs");
  std::vector<double> q(states * kQStride, 0.0);
  constexpr std::size_t kChunk = 1024;
#pragma omp parallel
  {
    MlpScratch scratch;
#pragma omp for schedule(static)
    for (std::int64_t c = 0; c < static_cast<std::int64_t>((states + kChunk - 1) / kChunk); ++c) {
      const std::size_t first = static_cast<std::size_t>(c) * kChunk;
      const std::size_t n = std::min(kChunk, states - first);
      const float* out = net.forward(weights.data(), features.data() + first * inputs, static_cast<int>(n), scratch);
      for (std::size_t s = 0; s < n; ++s)
        for (std::size_t a = 0; a < kActions; ++a) q[(first + s) * kQStride + a] = out[s * kActions + a];
    }
  }
  return q;
}

ReplayBuffer::ReplayBuffer(std::size_t inputs, std::size_t capacity)
    : inputs_(inputs),
      capacity_(capacity),
      states_(inputs * capacity),
      next_states_(inputs * capacity),
      rewards_(capacity),
      discounts_(capacity),
      actions_(capacity) {
  if (capacity == 0) throw std::invalid_argument("a replay buffer needs room for at least one transition");
}

void ReplayBuffer::add(const float* state, int action, float reward, float discount, const float* next) {
  std::memcpy(states_.data() + next_ * inputs_, state, inputs_ * sizeof(float));
  std::memcpy(next_states_.data() + next_ * inputs_, next, inputs_ * sizeof(float));
  actions_[next_] = action;
  rewards_[next_] = reward;
  discounts_[next_] = discount;
  next_ = next_ + 1 == capacity_ ? 0 : next_ + 1;
  size_ = std::min(size_ + 1, capacity_);
}

void ReplayBuffer::sample(RandomStream& rng, int batch, float* states, int* actions, float* rewards, float* discounts,
                          float* next) const {
  if (size_ == 0) throw std::logic_error("sampling an empty replay buffer");
  for (int j = 0; j < batch; ++j) {
    const auto i = static_cast<std::size_t>(rng.below(size_));
    std::memcpy(states + static_cast<std::size_t>(j) * inputs_, states_.data() + i * inputs_, inputs_ * sizeof(float));
    std::memcpy(next + static_cast<std::size_t>(j) * inputs_, next_states_.data() + i * inputs_, inputs_ * sizeof(float));
    actions[j] = actions_[i];
    rewards[j] = rewards_[i];
    discounts[j] = discounts_[i];
  }
}

DqnWorkerGradient::DqnWorkerGradient(const Mlp& net, int batch)
    : batch_(batch),
      states_(static_cast<std::size_t>(net.inputs()) * static_cast<std::size_t>(batch)),
      next_(states_.size()),
      rewards_(static_cast<std::size_t>(batch)),
      discounts_(static_cast<std::size_t>(batch)),
      targets_(static_cast<std::size_t>(batch)),
      actions_(static_cast<std::size_t>(batch)),
      chosen_(static_cast<std::size_t>(batch)) {}

DqnBatchStats DqnWorkerGradient::compute(const Mlp& net, const std::vector<float>& online, const std::vector<float>& target,
                                         const DqnConfig& cfg, const ReplayBuffer& replay, RandomStream& rng,
                                         std::vector<float>& grad) {
  replay.sample(rng, batch_, states_.data(), actions_.data(), rewards_.data(), discounts_.data(), next_.data());
  const int outs = net.outputs();
  const auto at = [outs](int j, int a) { return static_cast<std::size_t>(j) * static_cast<std::size_t>(outs) + static_cast<std::size_t>(a); };
  // The next state's action: the online network's choice (double DQN) or the target's own.
  if (cfg.double_dqn) {
    const float* q_online = net.forward(online.data(), next_.data(), batch_, scratch_);
    for (int j = 0; j < batch_; ++j) chosen_[static_cast<std::size_t>(j)] = greedy_of(q_online + at(j, 0));
  }
  const float* q_target = net.forward(target.data(), next_.data(), batch_, scratch_);
  for (int j = 0; j < batch_; ++j) {
    const int a = cfg.double_dqn ? chosen_[static_cast<std::size_t>(j)] : greedy_of(q_target + at(j, 0));
    targets_[static_cast<std::size_t>(j)] =
        static_cast<float>(rewards_[static_cast<std::size_t>(j)] +
                           static_cast<double>(discounts_[static_cast<std::size_t>(j)]) * q_target[at(j, a)]);
  }
  const float* q = net.forward(online.data(), states_.data(), batch_, scratch_);
  DqnBatchStats st;
  for (int j = 0; j < batch_; ++j) st.mean_q += q[at(j, actions_[static_cast<std::size_t>(j)])];
  st.mean_q /= batch_;
  st.loss = net.huber_gradient(online.data(), states_.data(), actions_.data(), targets_.data(), cfg.huber_delta, scratch_,
                               grad.data());
  return st;
}

GradientFixedPoint::GradientFixedPoint(double clip_norm, std::int64_t workers)
    : scale(std::ldexp(1.0, 40) / (clip_norm > 0 ? clip_norm : 10.0)),
      limit(std::numeric_limits<std::int64_t>::max() / 2 / std::max<std::int64_t>(1, workers)) {}

void GradientFixedPoint::encode(const std::vector<float>& grad, std::vector<std::int64_t>& out) const {
  out.resize(grad.size());
  const auto bound = static_cast<double>(limit);
  for (std::size_t k = 0; k < grad.size(); ++k) {
    const double v = static_cast<double>(grad[k]) * scale;
    // Saturate (a NaN becomes 0: one worker's overflow must not poison the sum).
    out[k] = v >= bound ? limit : v <= -bound ? -limit : v == v ? std::llround(v) : 0;
  }
}

void GradientFixedPoint::decode(const std::vector<std::int64_t>& sum, std::int64_t workers, std::vector<float>& grad) const {
  grad.resize(sum.size());
  const double f = 1.0 / (scale * static_cast<double>(workers));
  for (std::size_t k = 0; k < sum.size(); ++k) grad[k] = static_cast<float>(static_cast<double>(sum[k]) * f);
}

DqnModel::DqnModel(const std::vector<int>& layer_sizes, const DqnConfig& cfg)
    : cfg_(cfg),
      net_(layer_sizes),
      online_(net_.initial_weights(cfg.seed)),
      target_(online_),
      grad_(net_.parameters()),
      adam_(cfg.adam, net_.parameters()),
      fixed_(cfg.adam.clip_norm, 1) {}

void DqnModel::apply(const std::vector<std::int64_t>& summed, std::int64_t workers) {
  fixed_.decode(summed, workers, grad_);
  adam_.step(online_, grad_);
  if (cfg_.target_tau > 0) {
    const auto tau = static_cast<float>(cfg_.target_tau);
    for (std::size_t k = 0; k < target_.size(); ++k) target_[k] += tau * (online_[k] - target_[k]);
  } else if (adam_.steps() % cfg_.target_update_every == 0) {
    target_ = online_;
  }
}

double dqn_epsilon(const DqnConfig& cfg, std::int64_t step) {
  if (cfg.epsilon_decay_steps <= 0) return cfg.epsilon_end;
  const double f = std::min(1.0, static_cast<double>(step) / cfg.epsilon_decay_steps);
  return cfg.epsilon_start + (cfg.epsilon_end - cfg.epsilon_start) * f;
}

void check_dqn_config(const DqnConfig& cfg) {
  auto fail = [](const std::string& m) { throw std::invalid_argument("DQN: " + m); };
  for (int h : cfg.hidden)
    if (h < 1) fail("a hidden layer needs at least one unit");
  if (cfg.batch < 1) fail("the batch needs at least one transition");
  if (cfg.replay_capacity < 1) fail("the replay buffer needs room for a transition");
  if (cfg.train_every < 1 || cfg.curve_every < 1) fail("train_every and curve_every must be at least 1");
  if (cfg.target_tau <= 0 && cfg.target_update_every < 1) fail("target_update_every must be at least 1");
  if (cfg.target_tau < 0 || cfg.target_tau > 1) fail("target_tau must lie in [0, 1]");
  if (!(cfg.gamma >= 0 && cfg.gamma <= 1)) fail("gamma must lie in [0, 1]");
  if (!(cfg.huber_delta > 0)) fail("the Huber threshold must be positive");
  if (cfg.threads < 1) fail("at least one thread");
  if (cfg.steps < 0) fail("a negative number of steps");
}

DqnBenchmark measure_dqn_gradient_steps(const Communicator& comm, int inputs, std::int64_t gradient_steps, int threads,
                                        const DqnConfig& cfg) {
  const std::int64_t workers = static_cast<std::int64_t>(comm.size()) * threads;
  const std::vector<int> sizes = dqn_layer_sizes(static_cast<std::size_t>(inputs), cfg);
  DqnModel model(sizes, cfg);
  const GradientFixedPoint fixed(cfg.adam.clip_norm, workers);
  struct Worker {
    RandomStream rng;
    ReplayBuffer replay;
    DqnWorkerGradient gradient;
    std::vector<float> grad;
    std::vector<std::int64_t> grad_fixed;
  };
  std::vector<Worker> pool;
  const std::size_t fill = std::min<std::size_t>(static_cast<std::size_t>(cfg.replay_capacity), 10000);
  for (int t = 0; t < threads; ++t) {
    const auto global = static_cast<std::uint64_t>(comm.rank() * threads + t);
    pool.push_back({RandomStream(cfg.seed, global), ReplayBuffer(static_cast<std::size_t>(inputs), fill),
                    DqnWorkerGradient(model.net(), cfg.batch), std::vector<float>(model.net().parameters()), {}});
    Worker& w = pool.back();
    std::vector<float> s(static_cast<std::size_t>(inputs)), n(s.size());
    for (std::size_t i = 0; i < fill; ++i) {
      for (auto& x : s) x = static_cast<float>(w.rng.uniform());
      for (auto& x : n) x = static_cast<float>(w.rng.uniform());
      w.replay.add(s.data(), static_cast<int>(w.rng.below(kActions)), static_cast<float>(w.rng.uniform() * 10 - 5),
                   static_cast<float>(cfg.gamma), n.data());
    }
  }
  std::vector<std::int64_t> summed(model.net().parameters());
  DqnBenchmark b;
  b.workers = static_cast<int>(workers);
  b.gradient_steps = gradient_steps;
  // forwards: online on s' (double DQN), target on s', online on s; backward: weight gradients
  // of every layer and deltas of all but the first
  const auto& ls = sizes;
  double backward = 0;
  for (std::size_t l = 0; l + 1 < ls.size(); ++l) backward += 2.0 * ls[l] * ls[l + 1] * (l == 0 ? 1 : 2);
  b.flops_per_step = cfg.batch * ((cfg.double_dqn ? 3 : 2) * model.net().forward_flops_per_sample() + backward);
  comm.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::int64_t step = 0; step < gradient_steps; ++step) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
      Worker& w = pool[static_cast<std::size_t>(t)];
      w.gradient.compute(model.net(), model.online(), model.target(), cfg, w.replay, w.rng, w.grad);
      fixed.encode(w.grad, w.grad_fixed);
    }
    std::fill(summed.begin(), summed.end(), 0);
    for (const Worker& w : pool)
      for (std::size_t k = 0; k < summed.size(); ++k) summed[k] += w.grad_fixed[k];
    // A barrier first (timed apart): waiting for a slower rank is not the allreduce's cost.
    const auto t_wait = std::chrono::steady_clock::now();
    if (comm.size() > 1) comm.barrier();
    const auto t_reduce = std::chrono::steady_clock::now();
    b.wait_seconds += std::chrono::duration<double>(t_reduce - t_wait).count();
    comm.sum_in_place(summed);
    b.allreduce_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_reduce).count();
    model.apply(summed, workers);
  }
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return b;
}

}  // namespace reinforcer
