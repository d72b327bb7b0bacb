#pragma once
// A DQN's network in a results file (run and engagement files alike): its layer sizes, then
// its flat float weights stored as double (exact, and one matrix writer for every file).
#include <cstdint>
#include <vector>

#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

inline void write_dqn_network(const h5::Group& g, const std::vector<int>& layer_sizes, const std::vector<float>& weights) {
  g.write_vector("layer_sizes", std::vector<std::int32_t>(layer_sizes.begin(), layer_sizes.end()));
  g.write_matrix("weights", std::vector<double>(weights.begin(), weights.end()), weights.size(), 1);
}

}  // namespace reinforcer
