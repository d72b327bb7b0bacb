#pragma once
// The collective operations the algorithms need, behind a small value type with a
// single-process and an MPI implementation, so every algorithm runs (and is tested)
// without mpirun and unchanged under it.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace reinforcer {

// A counter held by rank 0 that any rank advances on its own (one-sided), so ranks can take
// work as they become free without the others taking part.
class SharedCounterImpl {
 public:
  virtual ~SharedCounterImpl() = default;
  virtual std::int64_t fetch_add(std::int64_t n) = 0;
};

class CommunicatorImpl {
 public:
  virtual ~CommunicatorImpl() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;
  virtual void sum_in_place(std::int64_t* data, std::size_t n) const = 0;
  virtual void sum_in_place(double* data, std::size_t n) const = 0;
  virtual void max_in_place(std::int64_t* data, std::size_t n) const = 0;
  virtual void or_in_place(std::uint64_t* data, std::size_t n) const = 0;
  virtual void broadcast(std::string& bytes, int root) const = 0;
  // Root calls take(rank, part) for every rank in rank order (its own part a copy of bytes).
  virtual void gather_each(const std::string& bytes, int root,
                           const std::function<void(int rank, std::string& part)>& take) const = 0;
  virtual void barrier() const = 0;
  virtual std::shared_ptr<const CommunicatorImpl> split(int color) const = 0;
  virtual std::shared_ptr<SharedCounterImpl> shared_counter(std::int64_t start) const = 0;
};

class Communicator {
 public:
  explicit Communicator(std::shared_ptr<const CommunicatorImpl> impl) : impl_(std::move(impl)) {}

  int rank() const { return impl_->rank(); }
  int size() const { return impl_->size(); }
  bool is_root() const { return rank() == 0; }
  std::string name() const { return impl_->name(); }

  // Element-wise sums and maxima over all ranks, the result on every rank.
  void sum_in_place(std::vector<std::int64_t>& v) const { impl_->sum_in_place(v.data(), v.size()); }
  void sum_in_place(std::vector<double>& v) const { impl_->sum_in_place(v.data(), v.size()); }
  std::int64_t sum(std::int64_t v) const { impl_->sum_in_place(&v, 1); return v; }
  double sum(double v) const { impl_->sum_in_place(&v, 1); return v; }
  std::int64_t max(std::int64_t v) const { impl_->max_in_place(&v, 1); return v; }
  void max_in_place(std::vector<std::int64_t>& v) const { impl_->max_in_place(v.data(), v.size()); }
  // Bitwise OR of bit sets over all ranks.
  void or_in_place(std::vector<std::uint64_t>& v) const { impl_->or_in_place(v.data(), v.size()); }

  // Root's bytes replace every other rank's.
  void broadcast(std::string& bytes, int root = 0) const { impl_->broadcast(bytes, root); }
  // Every rank's bytes, in rank order, on root; empty elsewhere.
  std::vector<std::string> gather(const std::string& bytes, int root = 0) const {
    std::vector<std::string> parts;
    gather_each(bytes, root, [&](int, std::string& part) { parts.push_back(std::move(part)); });
    return parts;
  }
  // The same, one part at a time: root is handed each rank's bytes in rank order (to use, move
  // or free) before the next arrives, so it never holds them all at once. Parts of any size.
  void gather_each(const std::string& bytes, int root, const std::function<void(int rank, std::string& part)>& take) const {
    impl_->gather_each(bytes, root, take);
  }
  void barrier() const { impl_->barrier(); }
  // Ranks with the same color form a new communicator (trial groups).
  Communicator split(int color) const { return Communicator(impl_->split(color)); }
  // Collective: every rank creates it (and lets it go) at the same point; then next() on any
  // rank returns start, start + 1, ... each value to exactly one caller.
  class Counter {
   public:
    explicit Counter(std::shared_ptr<SharedCounterImpl> impl) : impl_(std::move(impl)) {}
    std::int64_t next() { return impl_->fetch_add(1); }

   private:
    std::shared_ptr<SharedCounterImpl> impl_;
  };
  Counter shared_counter(std::int64_t start = 0) const { return Counter(impl_->shared_counter(start)); }

 private:
  std::shared_ptr<const CommunicatorImpl> impl_;
};

Communicator local_communicator();

// What an MPI job does about a rank that stops answering (a hung node, a stopped process).
// Ranks wait in collectives without burning a core; a wait longer than `seconds` asks the
// communicator's ranks whether they are alive -- a rank answers whenever it is in, or enters,
// a collective or takes a shared-counter value -- and after a short grace (a quarter of
// `seconds`, 1 to 10 s) the lowest rank that answered calls on_silent_ranks with a message
// naming those that did not, e.g. "rank 1 (host h, pid 1234) made no progress for 31 s".
// So `seconds` must exceed the longest stretch a rank computes between collectives.
struct Watchdog {
  double seconds = 0;  // 0: wait for ever
  // Must end the job (MpiGuard::abort); if it returns, the process terminates.
  std::function<void(const std::string& message)> on_silent_ranks;
};

// MPI_COMM_WORLD; requires a live MpiGuard; collective (every rank calls it at the same point).
// Communicators split from it share its watchdog.
Communicator mpi_world_communicator(Watchdog watchdog = {});

}  // namespace reinforcer
