#include <catch2/catch.hpp>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/core/errors.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {
// Throws what parse_invocation throws (no REQUIRE inside: errors are what is tested).
Invocation parse(const std::vector<std::string>& args) {
  Invocation inv;
  if (!parse_invocation(prepare_command(), args, inv)) throw std::logic_error("help was printed");
  return inv;
}
}  // namespace

TEST_CASE("command line: positional input, -o, defaults", "[cli]") {
  const Invocation inv = parse({"crm.xlsx", "-o", "p.h5"});
  CHECK(inv.input == "crm.xlsx");
  CHECK(inv.output == "p.h5");
  CHECK(inv.options["folds"].as<int>() == 5);
  CHECK(inv.options["split-shares"].as<std::string>() == "70,15,15");
  CHECK_THAT(inv.config_text, Catch::Contains("folds = 5"));
}

TEST_CASE("command line: unknown options and bad values name the option", "[cli]") {
  CHECK_THROWS_WITH(parse({"x.csv", "-o", "p.h5", "--bogus"}), Catch::Contains("--bogus"));
  CHECK_THROWS_WITH(parse({"x.csv", "-o", "p.h5", "--folds", "many"}), Catch::Contains("--folds"));
  CHECK_THROWS_AS(parse({"x.csv"}), UsageError);  // no -o
  CHECK_THROWS_AS(parse({"-o", "p.h5"}), UsageError);  // no input
  const Invocation inv = parse({"x.csv", "-o", "p.h5", "--folds", "1"});
  CHECK_THROWS_WITH(int_option(inv, "folds", 2, 100), Catch::Contains("--folds: 1 is out of range"));
}

TEST_CASE("config file: a section per command; the command line wins", "[cli]") {
  test::TempDir dir;
  const std::string ini = dir.write("r.ini", "# comment\n[synth]\nseed = 9\n[prepare]\nfolds = 7\nseed = 3\n");
  const Invocation inv = parse({"x.csv", "-o", "p.h5", "--config", ini, "--seed", "11"});
  CHECK(inv.options["folds"].as<int>() == 7);
  CHECK(inv.options["seed"].as<std::uint64_t>() == 11);
  const std::string bad = dir.write("bad.ini", "[prepare]\nfold = 7\n");
  CHECK_THROWS_WITH(parse({"x.csv", "-o", "p.h5", "--config", bad}),
                    Catch::Contains("bad.ini line 2: unknown option 'fold' in section [prepare]"));
  const std::string junk = dir.write("junk.ini", "[prepare]\nfolds\n");
  CHECK_THROWS_WITH(parse({"x.csv", "-o", "p.h5", "--config", junk}), Catch::Contains("line 2: expected 'key = value'"));
  CHECK_THROWS_AS(parse({"x.csv", "-o", "p.h5", "--config", dir.file("none.ini")}), PathError);
}
