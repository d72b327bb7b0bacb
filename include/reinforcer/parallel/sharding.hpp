#pragma once
// Data shards belong to workers, not ranks: customer -> shard by a hash of its ID, the few
// subscribers replicated to every shard. What a worker sees therefore depends only on the
// worker count W, never on how workers are laid out on ranks and threads.
#include <cstdint>
#include <vector>

namespace reinforcer {

// Shard of worker w of W over customers given by their IDs and labels (positions into
// these vectors are returned).
std::vector<std::uint32_t> worker_shard(const std::vector<std::int64_t>& ids, const std::vector<bool>& positive,
                                        int worker, int workers);

}  // namespace reinforcer
