#pragma once
// A multilayer perceptron on float for the deep Q-network: fully connected layers, ReLU
// between them, a linear output. The weights live outside the network, in one flat vector
// (layer by layer: W column-major, out x in, then the bias), so a gradient of the same shape
// can be summed across threads and ranks in one piece. The network object only knows the
// layer sizes; passes keep their activations in an MlpScratch, one per thread.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace reinforcer {

struct AdamConfig {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double clip_norm = 10;  // the gradient is scaled down to this global L2 norm; <= 0: never
};

// Activations of one pass (and the backward pass's deltas), reused between calls.
struct MlpScratch {
  std::vector<std::vector<float>> activations;  // per layer after the input: size x batch
  std::vector<float> delta, delta_below;
  int batch = 0;
};

class Mlp {
 public:
  // {inputs, hidden..., outputs}; every size >= 1, at least two. Throws std::invalid_argument.
  explicit Mlp(std::vector<int> layer_sizes);

  const std::vector<int>& layer_sizes() const { return sizes_; }
  int inputs() const { return sizes_.front(); }
  int outputs() const { return sizes_.back(); }
  std::size_t parameters() const { return parameters_; }
  // Multiply-adds x 2 of one sample's forward pass.
  double forward_flops_per_sample() const;

  // He-uniform weights (U(+-sqrt(6 / fan_in))), zero biases, a function of the seed only.
  std::vector<float> initial_weights(std::uint64_t seed) const;

  // The outputs (outputs() x batch, column-major) for inputs x (inputs() x batch, column-major:
  // sample j's inputs at x + j * inputs()). Valid until the next pass on `s`.
  const float* forward(const float* weights, const float* x, int batch, MlpScratch& s) const;

  // After forward(weights, x, batch, s): the Huber loss (threshold delta, in output units) of
  // output actions[j] of sample j against targets[j], averaged over the batch; its gradient
  // with respect to the weights is written to grad (parameters() floats). Other outputs get
  // no gradient.
  double huber_gradient(const float* weights, const float* x, const int* actions, const float* targets, double delta,
                        MlpScratch& s, float* grad) const;

 private:
  std::vector<int> sizes_;
  std::vector<std::size_t> offsets_;  // per layer: where its W starts (its bias follows W)
  std::size_t parameters_ = 0;
};

// Adam with the gradient clipped to a global norm first.
class Adam {
 public:
  Adam(const AdamConfig& cfg, std::size_t parameters);
  // One update of weights by grad (clipped in place); returns grad's norm before clipping.
  double step(std::vector<float>& weights, std::vector<float>& grad);
  std::int64_t steps() const { return t_; }

 private:
  AdamConfig cfg_;
  std::vector<float> m_, v_;
  std::int64_t t_ = 0;
};

}  // namespace reinforcer
