#include <mpi.h>

#include <algorithm>
#include <stdexcept>

#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"

namespace reinforcer {
namespace {

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

// The counter lives in a one-sided window on rank 0; MPI_Fetch_and_op under a shared lock
// makes each increment atomic without rank 0 taking part.
class MpiCounter final : public SharedCounterImpl {
 public:
  MpiCounter(MPI_Comm comm, int rank, std::int64_t start) {
    const MPI_Aint bytes = rank == 0 ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0;
    check(MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, comm, &base_, &win_), "window allocate");
    if (rank == 0) {
      check(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_), "window lock");
      *base_ = start;
      check(MPI_Win_unlock(0, win_), "window unlock");
    }
    check(MPI_Barrier(comm), "barrier");
  }
  ~MpiCounter() override {
    if (MpiGuard::active()) MPI_Win_free(&win_);
  }
  std::int64_t fetch_add(std::int64_t n) override {
    std::int64_t before = 0;
    check(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_), "window lock");
    check(MPI_Fetch_and_op(&n, &before, MPI_INT64_T, 0, 0, MPI_SUM, win_), "fetch and op");
    check(MPI_Win_unlock(0, win_), "window unlock");
    return before;
  }

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  std::int64_t* base_ = nullptr;
};

class MpiCommunicator final : public CommunicatorImpl {
 public:
  MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    if (owned_ && MpiGuard::active()) MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }
  void sum_in_place(std::int64_t* d, std::size_t n) const override {
    check(MPI_Allreduce(MPI_IN_PLACE, d, static_cast<int>(n), MPI_INT64_T, MPI_SUM, comm_), "allreduce");
  }
  void sum_in_place(double* d, std::size_t n) const override {
    check(MPI_Allreduce(MPI_IN_PLACE, d, static_cast<int>(n), MPI_DOUBLE, MPI_SUM, comm_), "allreduce");
  }
  void max_in_place(std::int64_t* d, std::size_t n) const override {
    check(MPI_Allreduce(MPI_IN_PLACE, d, static_cast<int>(n), MPI_INT64_T, MPI_MAX, comm_), "allreduce");
  }
  void or_in_place(std::uint64_t* d, std::size_t n) const override {
    check(MPI_Allreduce(MPI_IN_PLACE, d, static_cast<int>(n), MPI_UINT64_T, MPI_BOR, comm_), "allreduce");
  }
  void broadcast(std::string& bytes, int root) const override {
    std::int64_t n = static_cast<std::int64_t>(bytes.size());
    check(MPI_Bcast(&n, 1, MPI_INT64_T, root, comm_), "broadcast");
    bytes.resize(static_cast<std::size_t>(n));
    // MPI counts are ints: a large message (a big customer table) goes in pieces.
    constexpr std::int64_t kPiece = std::int64_t{1} << 30;
    for (std::int64_t at = 0; at < n; at += kPiece)
      check(MPI_Bcast(bytes.data() + at, static_cast<int>(std::min(kPiece, n - at)), MPI_CHAR, root, comm_), "broadcast");
  }
  std::vector<std::string> gather(const std::string& bytes, int root) const override {
    int n = static_cast<int>(bytes.size());
    std::vector<int> sizes(static_cast<std::size_t>(size_));
    check(MPI_Gather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, root, comm_), "gather");
    std::vector<int> offsets(static_cast<std::size_t>(size_), 0);
    int total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) offsets[r] = total, total += sizes[r];
    std::string all(rank_ == root ? static_cast<std::size_t>(total) : 0, '\0');
    check(MPI_Gatherv(bytes.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, root, comm_),
          "gather");
    std::vector<std::string> out;
    if (rank_ == root)
      for (std::size_t r = 0; r < sizes.size(); ++r)
        out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(sizes[r])));
    return out;
  }
  void barrier() const override { check(MPI_Barrier(comm_), "barrier"); }
  std::shared_ptr<const CommunicatorImpl> split(int color) const override {
    MPI_Comm sub;
    check(MPI_Comm_split(comm_, color, rank_, &sub), "comm split");
    return std::make_shared<MpiCommunicator>(sub, true);
  }
  std::shared_ptr<SharedCounterImpl> shared_counter(std::int64_t start) const override {
    return std::make_shared<MpiCounter>(comm_, rank_, start);
  }

 private:
  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

Communicator mpi_world_communicator() {
  if (!MpiGuard::active()) throw std::logic_error("mpi_world_communicator() needs a live MpiGuard");
  return Communicator(std::make_shared<MpiCommunicator>(MPI_COMM_WORLD, false));
}

}  // namespace reinforcer
