// Threads are ours (one worker per OpenMP thread): Eigen must not start its own.
#define EIGEN_DONT_PARALLELIZE
#include "reinforcer/rl/mlp.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "reinforcer/core/rng.hpp"

namespace reinforcer {
namespace {
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<float, Eigen::Dynamic, 1>;
using MatrixMap = Eigen::Map<Matrix>;
using ConstMatrixMap = Eigen::Map<const Matrix>;
using VectorMap = Eigen::Map<Vector>;
using ConstVectorMap = Eigen::Map<const Vector>;
}  // namespace

Mlp::Mlp(std::vector<int> layer_sizes) : sizes_(std::move(layer_sizes)) {
  if (sizes_.size() < 2) throw std::invalid_argument("an MLP needs an input and an output layer");
  for (int n : sizes_)
    if (n < 1) throw std::invalid_argument("an MLP layer size must be at least 1, not " + std::to_string(n));
  for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
    offsets_.push_back(parameters_);
    parameters_ += static_cast<std::size_t>(sizes_[l + 1]) * (static_cast<std::size_t>(sizes_[l]) + 1);
  }
}

double Mlp::forward_flops_per_sample() const {
  double f = 0;
  for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) f += 2.0 * sizes_[l] * sizes_[l + 1];
  return f;
}

std::vector<float> Mlp::initial_weights(std::uint64_t seed) const {
  std::vector<float> w(parameters_, 0.0f);
  RandomStream rng(seed, 0x4D4C5057ULL);  // the weights' own stream, apart from every worker's
  for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
    const double limit = std::sqrt(6.0 / sizes_[l]);
    const std::size_t n = static_cast<std::size_t>(sizes_[l]) * static_cast<std::size_t>(sizes_[l + 1]);
    for (std::size_t i = 0; i < n; ++i) w[offsets_[l] + i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * limit);
  }
  return w;
}

const float* Mlp::forward(const float* weights, const float* x, int batch, MlpScratch& s) const {
  const std::size_t layers = sizes_.size() - 1;
  s.activations.resize(layers);
  s.batch = batch;
  const float* below = x;
  for (std::size_t l = 0; l < layers; ++l) {
    const int in = sizes_[l], out = sizes_[l + 1];
    ConstMatrixMap w(weights + offsets_[l], out, in);
    ConstVectorMap b(weights + offsets_[l] + static_cast<std::size_t>(out) * in, out);
    ConstMatrixMap a(below, in, batch);
    auto& buf = s.activations[l];
    buf.resize(static_cast<std::size_t>(out) * static_cast<std::size_t>(batch));
    MatrixMap z(buf.data(), out, batch);
    z.noalias() = w * a;
    z.colwise() += b;
    if (l + 1 < layers) z = z.cwiseMax(0.0f);
    below = buf.data();
  }
  return below;
}

double Mlp::huber_gradient(const float* weights, const float* x, const int* actions, const float* targets, double delta,
                           MlpScratch& s, float* grad) const {
  const std::size_t layers = sizes_.size() - 1;
  const int batch = s.batch;
  const int outs = outputs();
  s.delta.assign(static_cast<std::size_t>(outs) * static_cast<std::size_t>(batch), 0.0f);
  const float* q = s.activations.back().data();
  double loss = 0;
  const double per_sample = 1.0 / batch;
  for (int j = 0; j < batch; ++j) {
    const std::size_t at = static_cast<std::size_t>(j) * static_cast<std::size_t>(outs) + static_cast<std::size_t>(actions[j]);
    const double d = static_cast<double>(q[at]) - static_cast<double>(targets[j]);
    const double ad = std::fabs(d);
    loss += ad <= delta ? 0.5 * d * d : delta * (ad - 0.5 * delta);
    s.delta[at] = static_cast<float>((ad <= delta ? d : std::copysign(delta, d)) * per_sample);
  }
  for (std::size_t l = layers; l-- > 0;) {
    const int in = sizes_[l], out = sizes_[l + 1];
    const float* below = l == 0 ? x : s.activations[l - 1].data();
    ConstMatrixMap a(below, in, batch);
    ConstMatrixMap d(s.delta.data(), out, batch);
    MatrixMap gw(grad + offsets_[l], out, in);
    VectorMap gb(grad + offsets_[l] + static_cast<std::size_t>(out) * in, out);
    gw.noalias() = d * a.transpose();
    gb = d.rowwise().sum();
    if (l == 0) break;  // no gradient for the inputs
    ConstMatrixMap w(weights + offsets_[l], out, in);
    s.delta_below.resize(static_cast<std::size_t>(in) * static_cast<std::size_t>(batch));
    MatrixMap db(s.delta_below.data(), in, batch);
    db.noalias() = w.transpose() * d;
    // ReLU': the unit was active (its output above 0)
    db = (a.array() > 0.0f).select(db, 0.0f);
    std::swap(s.delta, s.delta_below);
  }
  return loss * per_sample;
}

Adam::Adam(const AdamConfig& cfg, std::size_t parameters) : cfg_(cfg), m_(parameters, 0.0f), v_(parameters, 0.0f) {}

double Adam::step(std::vector<float>& weights, std::vector<float>& grad) {
  double sq = 0;
  for (float g : grad) sq += static_cast<double>(g) * g;
  const double norm = std::sqrt(sq);
  if (cfg_.clip_norm > 0 && norm > cfg_.clip_norm) {
    const auto f = static_cast<float>(cfg_.clip_norm / norm);
    for (float& g : grad) g *= f;
  }
  ++t_;
  const auto b1 = static_cast<float>(cfg_.beta1), b2 = static_cast<float>(cfg_.beta2);
  // Bias corrections folded into the step size (Kingma & Ba, end of section 2).
  const auto lr = static_cast<float>(cfg_.learning_rate * std::sqrt(1.0 - std::pow(cfg_.beta2, static_cast<double>(t_))) /
                                     (1.0 - std::pow(cfg_.beta1, static_cast<double>(t_))));
  const auto eps = static_cast<float>(cfg_.epsilon * std::sqrt(1.0 - std::pow(cfg_.beta2, static_cast<double>(t_))));
  for (std::size_t i = 0; i < weights.size(); ++i) {
    m_[i] = b1 * m_[i] + (1.0f - b1) * grad[i];
    v_[i] = b2 * v_[i] + (1.0f - b2) * grad[i] * grad[i];
    weights[i] -= lr * m_[i] / (std::sqrt(v_[i]) + eps);
  }
  return norm;
}

}  // namespace reinforcer
