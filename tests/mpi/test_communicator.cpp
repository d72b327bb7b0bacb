// Built twice: with the single-process communicator (no mpirun) and, with
// REINFORCER_TEST_WITH_MPI, under mpiexec -n 2 and -n 4. The expectations are written for
// any number of ranks, so the same assertions hold in both builds.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "reinforcer/env/funnel_env.hpp"
#include "reinforcer/parallel/communicator.hpp"
#include "test_communicator_choice.hpp"
#include "reinforcer/rl/trainer.hpp"

using namespace reinforcer;
using reinforcer::test::test_communicator;

TEST_CASE("communicator: rank and size describe the job", "[communicator]") {
  const Communicator c = test_communicator();
  REQUIRE(c.size() >= 1);
  REQUIRE(c.rank() >= 0);
  REQUIRE(c.rank() < c.size());
#ifdef REINFORCER_TEST_WITH_MPI
  CHECK(c.name() == "mpi");
  CHECK(c.size() > 1);  // the MPI build is only ever run under mpiexec -n 2 or 4
#else
  CHECK(c.name() == "local");
#endif
}

TEST_CASE("communicator: element-wise sums reach every rank", "[communicator]") {
  const Communicator c = test_communicator();
  const std::int64_t r = c.rank(), n = c.size();
  std::vector<std::int64_t> v = {r + 1, 10 * (r + 1), -r, INT64_C(1) << 40};
  c.sum_in_place(v);
  CHECK(v[0] == n * (n + 1) / 2);
  CHECK(v[1] == 10 * n * (n + 1) / 2);
  CHECK(v[2] == -n * (n - 1) / 2);
  CHECK(v[3] == n * (INT64_C(1) << 40));
  std::vector<double> d = {0.5 * static_cast<double>(r), 1.0};
  c.sum_in_place(d);
  CHECK(d[0] == Approx(0.25 * static_cast<double>(n * (n - 1))));
  CHECK(d[1] == static_cast<double>(n));
  CHECK(c.sum(std::int64_t{2}) == 2 * n);
}

TEST_CASE("communicator: maximum over ranks", "[communicator]") {
  const Communicator c = test_communicator();
  CHECK(c.max(static_cast<std::int64_t>(c.rank()) * 7) == 7 * (c.size() - 1));
}

TEST_CASE("communicator: broadcast replaces every rank's bytes with the root's", "[communicator]") {
  const Communicator c = test_communicator();
  std::string s = c.is_root() ? std::string("from root\0with a NUL", 20) : "other rank " + std::to_string(c.rank());
  c.broadcast(s, 0);
  CHECK(s == std::string("from root\0with a NUL", 20));
  std::string empty = c.is_root() ? "" : "not empty";
  c.broadcast(empty, 0);
  CHECK(empty.empty());
}

TEST_CASE("communicator: gather collects every rank's bytes in rank order on the root", "[communicator]") {
  const Communicator c = test_communicator();
  const std::string mine = "rank-" + std::to_string(c.rank()) + std::string(static_cast<std::size_t>(c.rank()), 'x');
  const auto all = c.gather(mine, 0);
  if (c.is_root()) {
    REQUIRE(all.size() == static_cast<std::size_t>(c.size()));
    for (int r = 0; r < c.size(); ++r)
      CHECK(all[static_cast<std::size_t>(r)] == "rank-" + std::to_string(r) + std::string(static_cast<std::size_t>(r), 'x'));
  } else {
    CHECK(all.empty());
  }
}

TEST_CASE("communicator: gather_each hands the root one rank's bytes at a time, in rank order", "[communicator]") {
  const Communicator c = test_communicator();
  // Rank 1 sends nothing; the others a part whose length and bytes say whose it is.
  const std::string mine = c.rank() == 1 ? std::string() : std::string(1000 * static_cast<std::size_t>(c.rank() + 1), static_cast<char>('a' + c.rank()));
  std::vector<int> order;
  c.gather_each(mine, 0, [&](int rank, std::string& part) {
    order.push_back(rank);
    CHECK(part == (rank == 1 ? std::string() : std::string(1000 * static_cast<std::size_t>(rank + 1), static_cast<char>('a' + rank))));
    std::string().swap(part);  // the root may free a part as it goes
  });
  std::vector<int> expected;
  for (int r = 0; c.is_root() && r < c.size(); ++r) expected.push_back(r);
  CHECK(order == expected);  // nothing handed to the other ranks
  c.barrier();
}

TEST_CASE("communicator: split forms groups of ranks with the same color", "[communicator]") {
  const Communicator c = test_communicator();
  const int color = c.rank() % 2;
  const Communicator g = c.split(color);
  const int expected_size = (c.size() + 1 - color) / 2;  // evens: ceil(n/2); odds: floor(n/2)
  CHECK(g.size() == expected_size);
  CHECK(g.rank() == c.rank() / 2);
  CHECK(g.sum(std::int64_t{1}) == expected_size);
  c.barrier();
}

// A sweep's groups take trials from it as they finish: every value goes to exactly one rank,
// however the ranks interleave (rank 0 takes part in the work too).
TEST_CASE("communicator: a shared counter deals each value to exactly one rank", "[communicator]") {
  const Communicator c = test_communicator();
  std::vector<std::int64_t> mine;
  {
    Communicator::Counter counter = c.shared_counter(5);
    for (;;) {
      const std::int64_t v = counter.next();
      if (v >= 5 + 200) break;
      mine.push_back(v);
      if (c.rank() == 1) std::this_thread::sleep_for(std::chrono::microseconds(50));  // a slower rank
    }
    c.barrier();  // the counter is let go at the same point on every rank
  }
  std::vector<std::int64_t> seen(205, 0);
  for (std::int64_t v : mine) seen[static_cast<std::size_t>(v)] += 1;
  c.sum_in_place(seen);
  for (std::int64_t v = 0; v < 205; ++v) CHECK(seen[static_cast<std::size_t>(v)] == (v >= 5 ? 1 : 0));
}

// The trainer's sync: a barrier, then the averaging. A rank that arrives late (here: every
// rank but the root sleeps in its progress hook, i.e. before its next round's episodes) makes
// the others wait; that time must be booked as waiting, not as the cost of a sync.
TEST_CASE("training: waiting for a slower rank is counted apart from the sync", "[communicator][trainer]") {
  const Communicator c = test_communicator();
  std::vector<double> rates(kProgressStates * kEvents, 0.0);
  rates[static_cast<std::size_t>(Milestone::first_call)] = 0.5;
  FunnelConfig fc;
  fc.horizon_weeks = 4;
  const FunnelModel m(1, rates, fc);
  const FunnelEnvironment env(m, {StartState{0, 0}});
  TrainSchedule s;
  s.episodes_per_worker = 3000;
  s.sync_every = 1000;
  TrainState st;
  TrainHooks hooks;
  constexpr double kLate = 0.2;  // seconds
  hooks.progress = [&](const LearningCurveRow&, std::int64_t) {
    if (!c.is_root()) std::this_thread::sleep_for(std::chrono::duration<double>(kLate));
  };
  train_distributed(c, env, std::vector<FunnelShard>{FunnelShard{{0}, {}, 0}}, s, st, hooks);
  REQUIRE(st.curve.size() == 3);
  for (const LearningCurveRow& r : st.curve) {
    CHECK(r.wait_seconds >= 0);
    CHECK(r.sync_seconds >= 0);
    CHECK(r.sync_seconds < kLate / 2);  // the late rank's delay is not in the sync
  }
  if (c.size() > 1 && c.is_root()) {
    CHECK(st.curve[0].wait_seconds < kLate / 2);  // nobody was late yet
    CHECK(st.curve[1].wait_seconds >= kLate * 0.9);
    CHECK(st.curve[2].wait_seconds >= kLate * 0.9);
  }
}

// The rows updated in a round travel as lists when they are few and as a bit set of the
// table otherwise: both must give every rank the same union, ascending.
TEST_CASE("training: the union of updated rows is the same sparse or dense", "[communicator][trainer]") {
  const Communicator c = test_communicator();
  constexpr std::size_t kRows = 10000;
  const std::vector<double> shared(kRows * kQStride, 0.0);
  std::vector<WorkerTable> tables(2);
  std::vector<std::uint32_t> expected;
  // rank k's thread t updates the rows r with r % 7 == t and r / 7 % size == k, and row 5:
  // together every row with r % 7 < 2, and row 5
  for (std::uint32_t r = 0; r < kRows; ++r)
    if (r % 7 < 2 || r == 5) expected.push_back(r);
  std::vector<std::uint64_t> bits((kRows + 63) / 64);
  for (const std::int64_t reported : {std::int64_t{1}, std::int64_t{1} << 40}) {  // few: lists; many: bit sets
    for (std::size_t t = 0; t < tables.size(); ++t) {
      tables[t].attach(shared.data(), kRows);
      for (std::uint32_t r = 0; r < kRows; ++r)
        if (r == 5 || (r % 7 == t && r / 7 % static_cast<std::uint32_t>(c.size()) == static_cast<std::uint32_t>(c.rank())))
          tables[t].update(r);
    }
    const std::vector<std::uint32_t> got = rows_updated_anywhere(c, tables, bits, reported);
    CHECK(got == expected);
    CHECK(std::all_of(bits.begin(), bits.end(), [](std::uint64_t w) { return w == 0; }));
  }
}
