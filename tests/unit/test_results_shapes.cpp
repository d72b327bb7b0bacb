// The results readers on well-formed files whose values their writers never write (found by
// the fuzz_hdf5_tables target): each is refused with a user error naming the file.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cmath>
#include <string>
#include <vector>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/evaluation_checkpoint.hpp"
#include "reinforcer/results/selection_file.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {
// The file at `path` open for writing, to change what a writer wrote.
h5::Group open_to_change(const std::string& path) {
  test::unseal(path);
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(id >= 0);
  return h5::Group(h5::Id(id));
}
}  // namespace

TEST_CASE("evaluation checkpoint: offsets that go back or start past 0 are refused", "[results][fuzz]") {
  test::TempDir dir;
  const std::string path = dir.file("eval.ckpt.h5");
  const Fingerprint fp = {{"input_sha256", "ab12"}};
  FinishedTasks finished;
  finished[0] = {1.0, 2.0, 3.0};
  finished[1] = {4.0};
  write_evaluation_checkpoint(path, finished, 5, fp);
  REQUIRE(read_evaluation_checkpoint(path, fp, 5, true).at(0) == std::vector<double>{1.0, 2.0, 3.0});
  for (const std::vector<std::int64_t>& offset : {std::vector<std::int64_t>{0, 3, 1},    // task 1 ends before it starts
                                                  std::vector<std::int64_t>{2, 3, 4}}) {  // values 0..1 belong to no task
    {
      const h5::Group f = open_to_change(path);
      REQUIRE(H5Ldelete(f.get(), "offset", H5P_DEFAULT) >= 0);
      f.write_matrix("offset", offset, offset.size(), 1);
      if (offset.back() != 4) {
        REQUIRE(H5Ldelete(f.get(), "values", H5P_DEFAULT) >= 0);
        f.write_matrix("values", std::vector<double>(static_cast<std::size_t>(offset.back()), 0.5),
                       static_cast<std::size_t>(offset.back()), 1);
      }
    }
    CHECK_THROWS_WITH(read_evaluation_checkpoint(path, fp, 5, true),
                      path + ": the checkpoint's task values are inconsistent (start afresh without --resume)");
  }
}

TEST_CASE("selection file: a subset size or curve count beyond its integer type is refused", "[results][fuzz]") {
  test::TempDir dir;
  const std::string path = dir.file("selection.h5");
  SelectionSummary s;
  s.objective = "predictive";
  s.subsets.push_back(ScoredSubset{1, "cohort", 1, 0.5, 0.4});
  s.rl_curve.push_back(SearchCurvePoint{0, 1, 0.4});
  write_selection_file(path, s, Provenance{});
  REQUIRE(read_selection_file(path).subsets.at(0).size == 1);
  {
    const h5::Group f = open_to_change(path);
    REQUIRE(H5Ldelete(f.get(), "subsets", H5P_DEFAULT) >= 0);
    f.write_table("subsets", h5::Table(1)
                                 .add("bits", std::vector<std::int64_t>{1}).add("elements", std::vector<std::string>{"cohort"})
                                 .add("size", std::vector<double>{1e10}).add("score", std::vector<double>{0.5})
                                 .add("net", std::vector<double>{0.4}).add("log_likelihood", std::vector<double>{0})
                                 .add("auc", std::vector<double>{0.5}).add("rl_evaluated", std::vector<std::int8_t>{0}));
  }
  CHECK_THROWS_WITH(read_selection_file(path), Catch::Contains(path + ": /subsets row 0: size") &&
                                                  Catch::Contains("is out of range"));
  {
    const h5::Group f = open_to_change(path);
    REQUIRE(H5Ldelete(f.get(), "subsets", H5P_DEFAULT) >= 0);
    REQUIRE(H5Ldelete(f.get(), "rl_curve", H5P_DEFAULT) >= 0);
    f.write_table("subsets", h5::Table(0).add("bits", std::vector<std::int64_t>{}));
    f.write_table("rl_curve", h5::Table(1)
                                  .add("batch", std::vector<double>{std::nan("")})
                                  .add("evaluations", std::vector<double>{1}).add("best_net", std::vector<double>{0.4}));
  }
  CHECK_THROWS_WITH(read_selection_file(path), Catch::Contains(path + ": /rl_curve row 0: batch"));
}
