#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "chain_env.hpp"
#include "reinforcer/env/funnel_features.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/rl/dqn.hpp"
#include "reinforcer/rl/funnel_fit.hpp"
#include "reinforcer/rl/mlp.hpp"
#include "test_support.hpp"

using namespace reinforcer;
using reinforcer::test::ChainEnvironment;
using reinforcer::test::ChainShard;

namespace {

// The batch's Huber loss at `weights`, in double from the float network's outputs.
double huber_loss(const Mlp& net, const std::vector<float>& weights, const std::vector<float>& x, const std::vector<int>& a,
                  const std::vector<float>& y, double delta) {
  MlpScratch s;
  const int batch = static_cast<int>(a.size());
  const float* q = net.forward(weights.data(), x.data(), batch, s);
  double loss = 0;
  for (int j = 0; j < batch; ++j) {
    const double d = static_cast<double>(q[static_cast<std::size_t>(j * net.outputs() + a[static_cast<std::size_t>(j)])]) -
                     y[static_cast<std::size_t>(j)];
    loss += std::fabs(d) <= delta ? 0.5 * d * d : delta * (std::fabs(d) - 0.5 * delta);
  }
  return loss / batch;
}

DqnConfig chain_config(std::uint64_t seed) {
  DqnConfig c;
  c.hidden = {32, 32};
  c.batch = 32;
  c.replay_capacity = 5000;
  c.warmup_steps = 200;
  c.target_update_every = 100;
  c.gamma = 0.9;
  c.epsilon_decay_steps = 2000;
  c.epsilon_end = 0.1;
  c.steps = 6000;
  c.train_every = 1;
  c.curve_every = 500;
  c.seed = seed;
  return c;
}

std::vector<float> chain_features() {
  const ChainEnvironment env;
  std::vector<float> f(env.states() * env.inputs());
  for (std::size_t s = 0; s < env.states(); ++s) {
    EpisodeState e;
    e.state = static_cast<std::uint32_t>(s);
    env.features(e, f.data() + s * env.inputs());
  }
  return f;
}

}  // namespace

TEST_CASE("mlp: the Huber gradient matches central finite differences", "[dqn]") {
  const Mlp net({5, 8, 6, 3});
  const std::vector<float> w0 = net.initial_weights(7);
  REQUIRE(w0.size() == net.parameters());
  REQUIRE(net.parameters() == 8 * 6 + 6 * 9 + 3 * 7);
  const int batch = 6;
  RandomStream rng(3, 0);
  std::vector<float> x(5 * batch);
  for (auto& v : x) v = static_cast<float>(rng.uniform() * 2 - 1);
  const std::vector<int> a{0, 1, 2, 0, 1, 2};
  // Targets far and near: errors on both sides of the threshold (linear and quadratic parts).
  const std::vector<float> y{3.0f, -2.5f, 0.1f, 0.4f, -0.3f, 5.0f};
  const double delta = 1.0;
  MlpScratch s;
  std::vector<float> grad(net.parameters(), -1.0f);
  net.forward(w0.data(), x.data(), batch, s);
  const double loss = net.huber_gradient(w0.data(), x.data(), a.data(), y.data(), delta, s, grad.data());
  CHECK(loss == Approx(huber_loss(net, w0, x, a, y, delta)).epsilon(1e-6));
  // float weights: a step of 1e-2 keeps the rounding error (1e-7 x loss / h) well below the
  // tolerance and the truncation error (h^2) too; a ReLU crossing its kink would show.
  const float h = 1e-2f;
  std::size_t nonzero = 0;
  for (std::size_t k = 0; k < w0.size(); ++k) {
    std::vector<float> wp = w0, wm = w0;
    wp[k] += h;
    wm[k] -= h;
    const double numeric = (huber_loss(net, wp, x, a, y, delta) - huber_loss(net, wm, x, a, y, delta)) /
                           (static_cast<double>(wp[k]) - static_cast<double>(wm[k]));
    INFO("parameter " << k);
    CHECK(grad[k] == Approx(numeric).margin(2e-4).epsilon(1e-2));
    nonzero += std::fabs(grad[k]) > 1e-4f;
  }
  CHECK(nonzero > w0.size() / 2);  // the check above compared gradients, not zeros
}

TEST_CASE("mlp: Adam fits y = sin(x) on [-3, 3]", "[dqn]") {
  const Mlp net({1, 32, 32, 1});
  std::vector<float> w = net.initial_weights(11);
  AdamConfig cfg;
  cfg.learning_rate = 3e-3;
  Adam adam(cfg, net.parameters());
  RandomStream rng(5, 1);
  const int batch = 64;
  std::vector<float> x(batch), y(batch), grad(net.parameters());
  const std::vector<int> a(batch, 0);
  MlpScratch s;
  auto draw = [&] {
    for (int j = 0; j < batch; ++j) {
      x[static_cast<std::size_t>(j)] = static_cast<float>(rng.uniform() * 6 - 3);
      y[static_cast<std::size_t>(j)] = std::sin(x[static_cast<std::size_t>(j)]);
    }
  };
  double first = 0, last = 0;
  for (int step = 0; step < 3000; ++step) {
    draw();
    net.forward(w.data(), x.data(), batch, s);
    const double loss = net.huber_gradient(w.data(), x.data(), a.data(), y.data(), 10.0, s, grad.data());
    if (step == 0) first = loss;
    adam.step(w, grad);
    (void)loss;
  }
  // Held-out points on a grid: half the mean squared error.
  std::vector<float> grid(121), truth(121);
  for (int i = 0; i <= 120; ++i) grid[static_cast<std::size_t>(i)] = -3.0f + 0.05f * i, truth[static_cast<std::size_t>(i)] = std::sin(grid[static_cast<std::size_t>(i)]);
  last = huber_loss(net, w, grid, std::vector<int>(121, 0), truth, 10.0);
  INFO("first batch loss " << first << ", final grid loss " << last);
  CHECK(first > 0.05);
  CHECK(last < 0.005);
  CHECK(adam.steps() == 3000);
}

TEST_CASE("mlp: gradient clipping bounds the step's gradient norm", "[dqn]") {
  AdamConfig cfg;
  cfg.clip_norm = 1.0;
  Adam adam(cfg, 3);
  std::vector<float> w{0, 0, 0}, g{3, 4, 0};
  CHECK(adam.step(w, g) == Approx(5.0));
  CHECK(g[0] == Approx(0.6f));
  CHECK(g[1] == Approx(0.8f));
  // Adam's first step moves every weight with a gradient by the learning rate, against it.
  CHECK(w[0] == Approx(-1e-3).epsilon(1e-3));
  CHECK(w[1] == Approx(-1e-3).epsilon(1e-3));
  CHECK(w[2] == 0.0f);
}

TEST_CASE("dqn: the fixed-point sum of gradients is exact and saturates instead of wrapping", "[dqn]") {
  const GradientFixedPoint fp(10.0, 4);
  std::vector<std::int64_t> e;
  fp.encode({0.5f, -1e-6f, 1e30f, -1e30f}, e);
  CHECK(e[0] == std::llround(0.5 * fp.scale));
  CHECK(e[2] == fp.limit);
  CHECK(e[3] == -fp.limit);
  std::vector<std::int64_t> sum(4, 0);
  for (int w = 0; w < 4; ++w)
    for (std::size_t k = 0; k < 4; ++k) sum[k] += e[k];  // four saturated workers: no overflow
  CHECK(sum[2] > 0);
  CHECK(sum[3] < 0);
  std::vector<float> mean;
  fp.decode(sum, 4, mean);
  CHECK(mean[0] == 0.5f);
  CHECK(mean[1] == Approx(-1e-6).epsilon(1e-4));
}

TEST_CASE("dqn: learns the optimal policy and values of a hand-solved chain", "[dqn]") {
  const ChainEnvironment env;
  const DqnConfig cfg = chain_config(42);
  const DqnResult r = train_dqn(local_communicator(), env, std::vector<ChainShard>(1), cfg);
  CHECK(r.workers == 1);
  CHECK(r.layer_sizes == std::vector<int>{4, 32, 32, static_cast<int>(kActions)});
  REQUIRE(r.curve.size() == 12);
  CHECK(r.curve.back().steps == 6000);
  CHECK(r.curve.back().gradient_steps == 6000 - 200 + 1);
  CHECK(r.curve.back().epsilon == Approx(0.1));
  CHECK(r.curve.back().episodes > 0);
  const std::vector<double> q = tabulate_q(r.layer_sizes, r.weights, chain_features(), env.states());
  REQUIRE(q.size() == env.states() * kQStride);
  const auto v = ChainEnvironment::optimal_values(cfg.gamma);
  for (std::size_t s = 0; s < env.states(); ++s) {
    const double* row = q.data() + s * kQStride;
    INFO("state " << s << ": call " << row[1] << " (V* " << v[s] << "), wait " << row[6] << ", message " << row[0]);
    int best = 0;
    for (int a = 1; a < static_cast<int>(kActions); ++a) best = row[a] > row[best] ? a : best;
    CHECK(best == static_cast<int>(Action::call));
    CHECK(row[static_cast<std::size_t>(Action::call)] == Approx(v[s]).margin(0.3));
    CHECK(row[static_cast<std::size_t>(Action::wait)] == Approx(0.0).margin(0.3));
    CHECK(row[static_cast<std::size_t>(Action::demo)] == Approx(-0.5 + cfg.gamma * v[s]).margin(0.5));
    CHECK(row[kQStride - 1] == 0.0);
  }
}

TEST_CASE("dqn: the same seed gives the same weights, another seed others", "[dqn]") {
  const ChainEnvironment env;
  DqnConfig cfg = chain_config(5);
  cfg.steps = 600;
  cfg.train_every = 4;  // fewer syncs: two threads spin at each, slow on a busy machine
  cfg.threads = 2;
  const std::vector<ChainShard> shards(2);
  const DqnResult a = train_dqn(local_communicator(), env, shards, cfg);
  const DqnResult b = train_dqn(local_communicator(), env, shards, cfg);
  REQUIRE(a.weights.size() == b.weights.size());
  CHECK(std::memcmp(a.weights.data(), b.weights.data(), a.weights.size() * sizeof(float)) == 0);
  CHECK(a.workers == 2);
  cfg.seed = 6;
  const DqnResult c = train_dqn(local_communicator(), env, shards, cfg);
  CHECK(std::memcmp(a.weights.data(), c.weights.data(), a.weights.size() * sizeof(float)) != 0);
  // The initial weights are not what came out: training moved them.
  const Mlp net(a.layer_sizes);
  CHECK(net.initial_weights(5) != a.weights);
}

TEST_CASE("dqn: tabulate_q lays out each state's forward pass in Q-table rows", "[dqn]") {
  const Mlp net({3, 5, static_cast<int>(kActions)});
  const std::vector<float> w = net.initial_weights(9);
  const std::size_t states = 2500;  // more than one chunk
  std::vector<float> f(states * 3);
  RandomStream rng(1, 2);
  for (auto& v : f) v = static_cast<float>(rng.uniform());
  const std::vector<double> q = tabulate_q(net.layer_sizes(), w, f, states);
  MlpScratch s;
  for (std::size_t st : {std::size_t{0}, std::size_t{1023}, std::size_t{1024}, states - 1}) {
    const float* out = net.forward(w.data(), f.data() + st * 3, 1, s);
    for (std::size_t a = 0; a < kActions; ++a) CHECK(q[st * kQStride + a] == Approx(out[a]).epsilon(1e-5));
  }
  CHECK_THROWS_AS(tabulate_q(net.layer_sizes(), w, f, states + 1), std::invalid_argument);
}

TEST_CASE("dqn: trains on the funnel's features and its Q-values give a policy the tabular way", "[dqn]") {
  IngestResult ingest = test::synthetic_ingest(2000, 3);
  HazardOptions h;
  h.export_date = ingest.report.export_date;
  const FunnelFit fit = fit_funnel(ingest.table, select_fitting(ingest.table, "all"), parse_feature_mask("cohort,education"),
                                   h, FunnelConfig{}, 1.0);
  const FunnelEnvironment funnel(fit.model, fit.starts);
  const FunnelFeatureEnvironment env(funnel, fit.encoder);
  FunnelShard shard;
  for (std::uint32_t i = 0; i < fit.starts.size(); ++i) shard.own.push_back(i);
  DqnConfig cfg;
  cfg.steps = 800;
  cfg.warmup_steps = 200;
  cfg.curve_every = 400;
  cfg.gamma = 1.0;
  cfg.threads = 1;
  const DqnResult r = train_dqn(local_communicator(), env, std::vector<FunnelShard>{shard}, cfg);
  CHECK(r.layer_sizes.front() == static_cast<int>(env.inputs()));
  REQUIRE(r.curve.size() == 2);
  CHECK(r.curve.back().gradient_steps == (800 - 200) / 4 + 1);
  CHECK(r.curve.back().episodes > 0);
  CHECK(std::isfinite(r.curve.back().mean_episode_reward));
  CHECK(std::isfinite(r.curve.back().loss));
  const std::vector<double> q = tabulate_q(r.layer_sizes, r.weights, env.encoding().all_states(), env.states());
  REQUIRE(q.size() == env.states() * kQStride);
  CHECK(std::all_of(q.begin(), q.end(), [](double v) { return std::isfinite(v); }));
  // Every action of every state has a network estimate: all count as visited.
  const std::vector<std::uint8_t> policy = learned_policy(q, std::vector<std::int64_t>(q.size(), 1), kQStride);
  REQUIRE(policy.size() == env.states());
  std::size_t not_greedy = 0;
  for (std::size_t s = 0; s < policy.size(); ++s) {
    const double* row = q.data() + s * kQStride;
    for (std::size_t a = 0; a < kActions; ++a) not_greedy += row[policy[s]] < row[a];
  }
  CHECK(not_greedy == 0);
  CHECK(std::isfinite(fit.regret_of(q, std::vector<std::int64_t>(q.size(), 1))));
}
