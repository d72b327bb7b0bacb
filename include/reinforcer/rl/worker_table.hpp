#pragma once
// A worker's view of the Q-table during one sync round: the shared global table (read only
// while the round runs) plus the worker's own copy of each row it has updated this round,
// with its visits of the row's cells. Memory follows the work -- the rows touched -- not the
// table: 256 dense copies of a 570k-row table would be 14 GB.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "reinforcer/env/action.hpp"

namespace reinforcer {

// Q rows are padded to 8 doubles (one cache line); column 7 is unused.
inline constexpr std::size_t kQStride = 8;

class WorkerTable {
 public:
  WorkerTable() = default;
  // `shared` is rows x kQStride and must outlive the round.
  void attach(const double* shared, std::size_t rows) {
    shared_ = shared;
    rows_ = rows;
    clear();
  }
  std::size_t table_rows() const { return rows_; }

  // The row as this worker sees it: its own copy when it has updated the row this round.
  const double* row(std::uint32_t r) const {
    const std::uint32_t slot = find(r);
    return slot != kNone ? q_of(slot) : shared_ + std::size_t{r} * kQStride;
  }
  // The row to update (copied from the shared table the first time this round) and its
  // visit counts this round.
  struct MutableRow {
    double* q;
    std::int32_t* visits;
  };
  MutableRow update(std::uint32_t r) {
    std::uint32_t slot = find(r);
    if (slot == kNone) slot = insert(r);
    return {q_of(slot), visits_of(slot)};
  }
  void prefetch(std::uint32_t r) const {
    __builtin_prefetch(shared_ + std::size_t{r} * kQStride);
    if (!keys_.empty()) __builtin_prefetch(keys_.data() + home(r));
  }

  // Row r's copy and visits, if it has them (its key slot best fetched first, by prefetch).
  void prefetch_copy(std::uint32_t r) const {
    const std::uint32_t slot = find(r);
    if (slot == kNone) return;
    __builtin_prefetch(q_of(slot));
    __builtin_prefetch(visits_of(slot));
  }
  // The slot of row r's copy, or kNone.
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  std::uint32_t slot_of(std::uint32_t r) const { return find(r); }

  // Rows updated this round, in the order first updated, and their copies (slot i).
  const std::vector<std::uint32_t>& rows_touched() const { return touched_; }
  const double* copy(std::size_t slot) const { return q_of(slot); }
  const std::int32_t* visits(std::size_t slot) const { return visits_of(slot); }

  // Over the cells updated this round: the largest |Q| (infinity if any is NaN) and visits.
  struct Extremes {
    double max_abs_q = 0;
    std::int32_t max_visits = 0;
  };
  Extremes extremes() const {
    Extremes e;
    for (std::size_t slot = 0; slot < touched_.size(); ++slot)
      for (std::size_t a = 0; a < kActions; ++a) {
        const std::int32_t n = visits_of(slot)[a];
        if (n == 0) continue;
        const double q = q_of(slot)[a];
        e.max_abs_q = std::isnan(q) ? HUGE_VAL : std::max(e.max_abs_q, std::fabs(q));
        e.max_visits = std::max(e.max_visits, n);
      }
    return e;
  }

  // Forget this round's rows (the shared table now holds their averages). Keeps the blocks:
  // the next round touches about as many rows.
  void clear() {
    if (4 * touched_.size() >= keys_.size()) {
      std::fill(keys_.begin(), keys_.end(), kNone);
    } else {  // every position first: emptying one slot would break the probe chains through it
      positions_.clear();
      for (std::uint32_t r : touched_) positions_.push_back(position(r));
      for (std::uint32_t p : positions_) keys_[p] = kNone;
    }
    touched_.clear();
  }
  // Bytes held: what --dry-run estimates per worker.
  std::size_t bytes() const {
    return keys_.capacity() * sizeof(std::uint32_t) + (touched_.capacity() + positions_.capacity()) * sizeof(std::uint32_t) +
           blocks_.size() * kBlockRows * kQStride * (sizeof(double) + sizeof(std::int32_t));
  }
  static constexpr double bytes_per_row() {
    // key slots at most half full (2 x 4 B), the row id (and its position when cleared), the
    // copy and its visits
    return 2 * sizeof(std::uint32_t) + 2 * sizeof(std::uint32_t) + kQStride * (sizeof(double) + sizeof(std::int32_t));
  }
  static constexpr std::size_t kBlockRows = 256;  // rows per block of copies

 private:
  // keys_ holds slot numbers (kNone: empty); a slot's row is touched_[slot].
  // Fibonacci hashing: the product's high bits, which depend on all of the row's bits.
  std::uint32_t home(std::uint32_t r) const { return (r * 0x9E3779B1u) >> shift_; }
  std::uint32_t find(std::uint32_t r) const {
    if (keys_.empty()) return kNone;
    for (std::uint32_t p = home(r);; p = (p + 1) & mask_) {
      const std::uint32_t slot = keys_[p];
      if (slot == kNone || touched_[slot] == r) return slot;
    }
  }
  // The key position holding r (r present).
  std::uint32_t position(std::uint32_t r) const {
    for (std::uint32_t p = home(r);; p = (p + 1) & mask_)
      if (touched_[keys_[p]] == r) return p;
  }
  std::uint32_t insert(std::uint32_t r) {
    if (2 * (touched_.size() + 1) > keys_.size()) grow();
    const auto slot = static_cast<std::uint32_t>(touched_.size());
    std::uint32_t p = home(r);
    while (keys_[p] != kNone) p = (p + 1) & mask_;
    keys_[p] = slot;
    touched_.push_back(r);
    if (slot / kBlockRows == blocks_.size()) blocks_.push_back(std::unique_ptr<Block>(new Block));  // uninitialised: each row is filled when inserted
    std::memcpy(q_of(slot), shared_ + std::size_t{r} * kQStride, kQStride * sizeof(double));
    std::memset(visits_of(slot), 0, kQStride * sizeof(std::int32_t));
    return slot;
  }
  void grow() {
    const std::size_t capacity = keys_.empty() ? 1024 : 2 * keys_.size();
    keys_.assign(capacity, kNone);
    mask_ = static_cast<std::uint32_t>(capacity - 1);
    shift_ = 32 - __builtin_ctzll(capacity);
    for (std::size_t slot = 0; slot < touched_.size(); ++slot) {
      std::uint32_t p = home(touched_[slot]);
      while (keys_[p] != kNone) p = (p + 1) & mask_;
      keys_[p] = static_cast<std::uint32_t>(slot);
    }
  }

  const double* shared_ = nullptr;
  std::size_t rows_ = 0;
  std::vector<std::uint32_t> keys_;
  std::uint32_t mask_ = 0;
  int shift_ = 32;
  std::vector<std::uint32_t> touched_;
  std::vector<std::uint32_t> positions_;  // scratch of clear()
  // The copies and their visits in fixed blocks, never moved: a growing vector's doubling
  // copied them and left its old halves in the heap (with 256 workers, tens of MB).
  struct Block {
    alignas(64) double q[kBlockRows * kQStride];
    std::int32_t visits[kBlockRows * kQStride];
  };
  std::vector<std::unique_ptr<Block>> blocks_;
  double* q_of(std::size_t slot) const { return blocks_[slot / kBlockRows]->q + slot % kBlockRows * kQStride; }
  std::int32_t* visits_of(std::size_t slot) const {
    return blocks_[slot / kBlockRows]->visits + slot % kBlockRows * kQStride;
  }
};

}  // namespace reinforcer
