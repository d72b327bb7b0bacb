#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <list>
#include <stdexcept>
#include <thread>

#include "reinforcer/parallel/communicator.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"

namespace reinforcer {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

// Every collective is nonblocking, waited for by polling: the first moments spinning (in a
// balanced sync every rank arrives together, and each step of a nonblocking collective
// advances only when tested), then in sleeps that grow to kLongestPause, so a rank waiting
// for a slow or stopped one costs a few percent of a core, not all of it.
constexpr auto kArrivalSpin = std::chrono::microseconds(200);
constexpr auto kFirstPause = std::chrono::microseconds(10);
constexpr auto kLongestPause = std::chrono::microseconds(1000);
// Once every rank has arrived (a barrier before the data), moving the data spins this long
// before pausing: a large reduction then runs at full speed, and a rank stopped mid-transfer
// costs the others a core for no longer than that.
constexpr auto kTransferSpin = std::chrono::milliseconds(20);

// The watchdog's side of the job, shared by MPI_COMM_WORLD's communicator and every
// communicator split from it. Questions and answers travel point to point on a duplicate of
// MPI_COMM_WORLD, so they never match the algorithms' own messages.
class Liveness {
 public:
  explicit Liveness(Watchdog watchdog) : watchdog_(std::move(watchdog)) {
    check(MPI_Comm_dup(MPI_COMM_WORLD, &alarm_), "comm dup");
    MPI_Comm_rank(alarm_, &rank_);
    MPI_Comm_size(alarm_, &size_);
    answered_.assign(static_cast<std::size_t>(size_), 0);
    // Where each rank runs, for the message that names a silent one.
    char mine[kPlaceBytes] = {0};
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    std::snprintf(mine, sizeof mine, "host %s, pid %ld", host, static_cast<long>(::getpid()));
    std::vector<char> all(static_cast<std::size_t>(size_) * kPlaceBytes);
    check(MPI_Allgather(mine, kPlaceBytes, MPI_CHAR, all.data(), kPlaceBytes, MPI_CHAR, alarm_), "allgather");
    for (int r = 0; r < size_; ++r) place_.emplace_back(all.data() + static_cast<std::size_t>(r) * kPlaceBytes);
  }
  ~Liveness() {
    if (!MpiGuard::active()) return;
    for (Pending& p : pending_) MPI_Request_free(&p.request);  // answers to ranks that gave up waiting
    MPI_Comm_free(&alarm_);
  }
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // Waits for a nonblocking operation of a communicator whose ranks are `members` (world
  // ranks), answering other ranks' questions meanwhile; spins for `spin` first.
  void wait(MPI_Request& request, const std::vector<int>& members, Clock::duration spin) {
    const Clock::time_point start = Clock::now();
    Clock::time_point window = start;  // the watchdog's clock: restarted when every rank answered
    Clock::time_point asked{};
    std::int64_t question = 0;  // the epoch of the question out, 0 if none
    auto pause = std::chrono::duration_cast<Clock::duration>(kFirstPause);
    for (;;) {
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "test");
      if (done) return;
      const Clock::time_point now = Clock::now();
      if (now - start < spin) continue;
      answer();
      if (watchdog_.seconds > 0) {
        if (question == 0 && Seconds(now - window).count() >= watchdog_.seconds) {
          question = ask(members);
          asked = now;
        } else if (question != 0 && Seconds(now - asked).count() >= grace()) {
          std::vector<int> silent;
          int reporter = rank_;
          for (int r : members) {
            if (r == rank_) continue;
            if (answered_[static_cast<std::size_t>(r)] >= question) reporter = std::min(reporter, r);
            else silent.push_back(r);
          }
          if (silent.empty()) {
            question = 0;
            window = now;
          } else if (reporter == rank_ || Seconds(now - asked).count() >= 3 * grace()) {
            // The lowest rank that answered reports; another reports only if it did not.
            report(silent, Seconds(now - start).count());
          }
        }
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(2 * pause, std::chrono::duration_cast<Clock::duration>(kLongestPause));
    }
  }

  // Answers questions that arrived, and books answers to this rank's own questions.
  void answer() {
    for (;;) {
      int flag = 0;
      MPI_Status status;
      check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, alarm_, &flag, &status), "probe");
      if (!flag) break;
      std::int64_t epoch = 0;
      check(MPI_Recv(&epoch, 1, MPI_INT64_T, status.MPI_SOURCE, status.MPI_TAG, alarm_, MPI_STATUS_IGNORE), "receive");
      if (status.MPI_TAG == kQuestion) send(status.MPI_SOURCE, kAnswer, epoch);
      else {
        std::int64_t& a = answered_[static_cast<std::size_t>(status.MPI_SOURCE)];
        a = std::max(a, epoch);
      }
    }
    for (auto p = pending_.begin(); p != pending_.end();) {
      int done = 0;
      check(MPI_Test(&p->request, &done, MPI_STATUS_IGNORE), "test");
      p = done ? pending_.erase(p) : std::next(p);
    }
  }

 private:
  static constexpr int kPlaceBytes = 320;
  static constexpr int kQuestion = 1, kAnswer = 2;
  struct Pending {
    MPI_Request request = MPI_REQUEST_NULL;
    std::int64_t value = 0;  // the message, alive until the send completes
  };

  double grace() const { return std::clamp(watchdog_.seconds / 4, 1.0, 10.0); }

  void send(int to, int tag, std::int64_t value) {
    pending_.push_back(Pending{MPI_REQUEST_NULL, value});
    check(MPI_Isend(&pending_.back().value, 1, MPI_INT64_T, to, tag, alarm_, &pending_.back().request), "send");
  }

  std::int64_t ask(const std::vector<int>& members) {
    ++epoch_;
    for (int r : members)
      if (r != rank_) send(r, kQuestion, epoch_);
    return epoch_;
  }

  [[noreturn]] void report(const std::vector<int>& silent, double waited) {
    std::string who;
    for (int r : silent)
      who += (who.empty() ? "" : ", ") + std::to_string(r) + " (" + place_[static_cast<std::size_t>(r)] + ")";
    const std::string message = std::string(silent.size() == 1 ? "rank " : "ranks ") + who +
                                " made no progress for " + std::to_string(static_cast<long>(waited)) + " s";
    if (watchdog_.on_silent_ranks) watchdog_.on_silent_ranks(message);
    std::terminate();  // the handler must not return: every other rank still waits
  }

  Watchdog watchdog_;
  MPI_Comm alarm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<std::string> place_;
  std::vector<std::int64_t> answered_;  // per world rank: the latest question of ours it answered
  std::int64_t epoch_ = 0;
  std::list<Pending> pending_;  // a list: the messages must not move while in flight
};

// A barrier, waited for gently: where ranks wait for one another.
void arrive(MPI_Comm comm, int size, const std::vector<int>& members, Liveness& liveness) {
  liveness.answer();
  if (size == 1) return;
  MPI_Request r;
  check(MPI_Ibarrier(comm, &r), "barrier");
  liveness.wait(r, members, kArrivalSpin);
}

// The counter lives in a one-sided window on rank 0; MPI_Fetch_and_op under a shared lock
// makes each increment atomic without rank 0 taking part.
class MpiCounter final : public SharedCounterImpl {
 public:
  MpiCounter(MPI_Comm comm, int rank, int size, std::vector<int> members, std::int64_t start,
             std::shared_ptr<Liveness> liveness)
      : comm_(comm), size_(size), members_(std::move(members)), liveness_(std::move(liveness)) {
    barrier();  // MPI_Win_allocate and MPI_Win_free block: enter them together
    const MPI_Aint bytes = rank == 0 ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0;
    check(MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, comm, &base_, &win_), "window allocate");
    if (rank == 0) {
      check(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_), "window lock");
      *base_ = start;
      check(MPI_Win_unlock(0, win_), "window unlock");
    }
    barrier();
  }
  MpiCounter(const MpiCounter&) = delete;
  MpiCounter& operator=(const MpiCounter&) = delete;
  ~MpiCounter() override {
    // Unwinding on one rank, the others are not coming: the error path aborts the job.
    if (!MpiGuard::active() || std::uncaught_exceptions() > 0) return;
    barrier();
    MPI_Win_free(&win_);
  }
  std::int64_t fetch_add(std::int64_t n) override {
    liveness_->answer();  // a rank taking work answers the watchdog's questions too
    std::int64_t before = 0;
    check(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_), "window lock");
    check(MPI_Fetch_and_op(&n, &before, MPI_INT64_T, 0, 0, MPI_SUM, win_), "fetch and op");
    check(MPI_Win_unlock(0, win_), "window unlock");
    return before;
  }

 private:
  void barrier() { arrive(comm_, size_, members_, *liveness_); }

  MPI_Comm comm_;
  int size_;
  std::vector<int> members_;
  std::shared_ptr<Liveness> liveness_;
  MPI_Win win_ = MPI_WIN_NULL;
  std::int64_t* base_ = nullptr;
};

class MpiCommunicator final : public CommunicatorImpl {
 public:
  MpiCommunicator(MPI_Comm comm, bool owned, std::shared_ptr<Liveness> liveness)
      : comm_(comm), owned_(owned), liveness_(std::move(liveness)) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Group mine, world;
    check(MPI_Comm_group(comm_, &mine), "comm group");
    check(MPI_Comm_group(MPI_COMM_WORLD, &world), "comm group");
    std::vector<int> ranks(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) ranks[static_cast<std::size_t>(r)] = r;
    members_.resize(ranks.size());
    check(MPI_Group_translate_ranks(mine, size_, ranks.data(), world, members_.data()), "translate ranks");
    MPI_Group_free(&mine);
    MPI_Group_free(&world);
  }
  ~MpiCommunicator() override {
    if (owned_ && MpiGuard::active()) MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }
  void sum_in_place(std::int64_t* d, std::size_t n) const override { allreduce(d, n, MPI_INT64_T, MPI_SUM); }
  void sum_in_place(double* d, std::size_t n) const override { allreduce(d, n, MPI_DOUBLE, MPI_SUM); }
  void max_in_place(std::int64_t* d, std::size_t n) const override { allreduce(d, n, MPI_INT64_T, MPI_MAX); }
  void or_in_place(std::uint64_t* d, std::size_t n) const override { allreduce(d, n, MPI_UINT64_T, MPI_BOR); }
  void broadcast(std::string& bytes, int root) const override {
    arrive();
    std::int64_t n = static_cast<std::int64_t>(bytes.size());
    MPI_Request r;
    check(MPI_Ibcast(&n, 1, MPI_INT64_T, root, comm_, &r), "broadcast");
    transfer(r);
    bytes.resize(static_cast<std::size_t>(n));
    // MPI counts are ints: a large message (a big customer table) goes in pieces.
    constexpr std::int64_t kPiece = std::int64_t{1} << 30;
    for (std::int64_t at = 0; at < n; at += kPiece) {
      check(MPI_Ibcast(bytes.data() + at, static_cast<int>(std::min(kPiece, n - at)), MPI_CHAR, root, comm_, &r),
            "broadcast");
      transfer(r);
    }
  }
  void gather_each(const std::string& bytes, int root, const std::function<void(int, std::string&)>& take) const override {
    arrive();
    const auto n = static_cast<std::int64_t>(bytes.size());
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(size_));
    MPI_Request r;
    check(MPI_Igather(&n, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, root, comm_, &r), "gather");
    transfer(r);
    // Point to point, one rank after another: root receives a part only once it has taken the
    // one before. MPI counts are ints: a large part goes in pieces (in order: same source, tag
    // and communicator never overtake).
    constexpr std::int64_t kPiece = std::int64_t{1} << 30;
    if (rank_ != root) {
      for (std::int64_t at = 0; at < n; at += kPiece) {
        check(MPI_Isend(bytes.data() + at, static_cast<int>(std::min(kPiece, n - at)), MPI_CHAR, root, kGatherTag, comm_, &r),
              "gather");
        transfer(r);
      }
      return;
    }
    for (int from = 0; from < size_; ++from) {
      std::string part;
      if (from == root) {
        part = bytes;
      } else {
        const std::int64_t m = sizes[static_cast<std::size_t>(from)];
        part.resize(static_cast<std::size_t>(m));
        for (std::int64_t at = 0; at < m; at += kPiece) {
          check(MPI_Irecv(part.data() + at, static_cast<int>(std::min(kPiece, m - at)), MPI_CHAR, from, kGatherTag, comm_, &r),
                "gather");
          transfer(r);
        }
      }
      take(from, part);
    }
  }
  void barrier() const override { arrive(); }
  std::shared_ptr<const CommunicatorImpl> split(int color) const override {
    arrive();  // MPI_Comm_split blocks: enter it together
    MPI_Comm sub;
    check(MPI_Comm_split(comm_, color, rank_, &sub), "comm split");
    return std::make_shared<MpiCommunicator>(sub, true, liveness_);
  }
  std::shared_ptr<SharedCounterImpl> shared_counter(std::int64_t start) const override {
    return std::make_shared<MpiCounter>(comm_, rank_, size_, members_, start, liveness_);
  }

 private:
  static constexpr int kGatherTag = 7;  // the only point-to-point messages on comm_
  static constexpr std::size_t kPieceValues = std::size_t{1} << 30;  // values per allreduce call
  void arrive() const { reinforcer::arrive(comm_, size_, members_, *liveness_); }
  void transfer(MPI_Request& r) const { liveness_->wait(r, members_, kTransferSpin); }
  void allreduce(void* d, std::size_t n, MPI_Datatype type, MPI_Op op) const {
    arrive();
    if (size_ == 1) return;
    int value_bytes = 0;
    check(MPI_Type_size(type, &value_bytes), "allreduce");
    // MPI counts are ints: a long vector goes in pieces (each value is reduced on its own, so
    // the pieces give the same result).
    for (std::size_t at = 0; at < n; at += kPieceValues) {
      MPI_Request r;
      check(MPI_Iallreduce(MPI_IN_PLACE, static_cast<char*>(d) + at * static_cast<std::size_t>(value_bytes),
                           static_cast<int>(std::min(kPieceValues, n - at)), type, op, comm_, &r),
            "allreduce");
      transfer(r);
    }
  }

  MPI_Comm comm_;
  bool owned_;
  std::shared_ptr<Liveness> liveness_;
  std::vector<int> members_;  // world rank of each rank
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

Communicator mpi_world_communicator(Watchdog watchdog) {
  if (!MpiGuard::active()) throw std::logic_error("mpi_world_communicator() needs a live MpiGuard");
  if (watchdog.seconds > 0 && !watchdog.on_silent_ranks)
    throw std::logic_error("mpi_world_communicator(): a watchdog needs on_silent_ranks");
  return Communicator(
      std::make_shared<MpiCommunicator>(MPI_COMM_WORLD, false, std::make_shared<Liveness>(std::move(watchdog))));
}

}  // namespace reinforcer
