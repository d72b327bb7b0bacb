#include <catch2/catch.hpp>

#include <set>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/pipeline/sweep.hpp"
#include "reinforcer/pipeline/sweep_grid.hpp"

using namespace reinforcer;

TEST_CASE("sweep grid: trials are numbered with the last key varying fastest") {
  const SweepGrid g = SweepGrid::of({{"omega", {"0.5", "0.9"}, 1}, {"alpha", {"0.1", "0.2", "0.3"}, 2}, {"seed", {"4"}, 3}});
  REQUIRE(g.trials() == 6);
  CHECK(g.values(0) == OptionValues{{"omega", "0.5"}, {"alpha", "0.1"}, {"seed", "4"}});
  CHECK(g.values(4) == OptionValues{{"omega", "0.9"}, {"alpha", "0.2"}, {"seed", "4"}});
  CHECK(g.varied() == std::vector<std::string>{"omega", "alpha"});
  CHECK_THROWS_WITH(g.values(6), "trial 6 is out of range; this grid has trials 0..5");
}

TEST_CASE("sweep grid: a random sample is distinct, in grid order, and fixed by its seed") {
  const std::vector<SweepParameter> p = {{"omega", {"0.5", "0.6", "0.7", "0.8", "0.9"}, 1},
                                         {"alpha", {"0.1", "0.2", "0.3", "0.4"}, 2}};
  const SweepGrid a = SweepGrid::of(p, 7, 3), b = SweepGrid::of(p, 7, 3), c = SweepGrid::of(p, 7, 4);
  REQUIRE(a.trials() == 7);
  std::set<OptionValues> seen;
  bool same = true, differs = false;
  for (std::int64_t t = 0; t < 7; ++t) {
    seen.insert(a.values(t));
    same = same && a.values(t) == b.values(t);
    differs = differs || a.values(t) != c.values(t);
  }
  CHECK(seen.size() == 7);
  CHECK(same);
  CHECK(differs);
  CHECK(a.identity() != SweepGrid::of(p).identity());
  CHECK_THROWS_AS(SweepGrid::of(p, 21, 3), UsageError);
}

TEST_CASE("sweep grid: a value is checked where it is written") {
  CHECK_THROWS_WITH(SweepGrid::of({{"omega", {"0.6", "2"}, 4}}, 0, 1, "g.ini"),
                    "g.ini line 4: omega = 2: 2 is out of range; give a value from 0.5 to 1");
  CHECK_THROWS_WITH(SweepGrid::of({{"omega", {"0.6", "0.6"}, 4}}, 0, 1, "g.ini"),
                    "g.ini line 4: omega: the value 0.6 is listed twice");
  // Two options checked together, per trial.
  CHECK_THROWS_WITH(SweepGrid::of({{"epsilon-start", {"0.1"}, 1}, {"epsilon-end", {"0.05", "0.5"}, 2}}, 0, 1, "g.ini"),
                    "g.ini: trial 1, epsilon-end: 0.5 is above epsilon-start 0.1");
}

TEST_CASE("sweep: indices in SLURM array syntax") {
  CHECK(index_ranges({}) == "");
  CHECK(index_ranges({7}) == "7");
  CHECK(index_ranges({15, 3, 12, 13, 14, 7, 3}) == "3,7,12-15");
  CHECK(index_ranges({0, 1, 2, 4}) == "0-2,4");
}

TEST_CASE("sweep: halving budgets end at the grid's episodes, a factor eta apart") {
  CHECK(halving_budgets(81, 20000, 3) == std::vector<std::int64_t>{741, 2222, 6667, 20000});
  CHECK(halving_budgets(1, 500, 3) == std::vector<std::int64_t>{500});
  CHECK(halving_budgets(10, 900, 3) == std::vector<std::int64_t>{100, 300, 900});
  CHECK(halving_budgets(16, 1600, 2) == std::vector<std::int64_t>{200, 400, 800, 1600});
}
