#include "reinforcer/parallel/sharding.hpp"

#include "reinforcer/core/rng.hpp"

namespace reinforcer {

std::vector<std::uint32_t> worker_shard(const std::vector<std::int64_t>& ids, const std::vector<bool>& positive,
                                        int worker, int workers) {
  std::vector<std::uint32_t> shard;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (positive[i] || splitmix64(static_cast<std::uint64_t>(ids[i])) % static_cast<std::uint64_t>(workers) ==
                           static_cast<std::uint64_t>(worker))
      shard.push_back(static_cast<std::uint32_t>(i));
  return shard;
}

}  // namespace reinforcer
