#include <fstream>
#include <catch2/catch.hpp>

#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "test_support.hpp"

using namespace reinforcer;

TEST_CASE("CSV: RFC 4180 quoting, embedded commas, quotes and newlines, BOM", "[csv]") {
  test::TempDir dir;
  const auto path = dir.write("a.csv", "\xEF\xBB\xBF" "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",\n\n3,,z");
  auto r = open_raw_table(path);
  REQUIRE(r->header() == std::vector<std::string>{"a", "b", "c"});
  CHECK(r->dates_are_text());
  RawRow row;
  REQUIRE(r->next(row));
  CHECK(row.sheet_row == 2);
  CHECK(row.cells[1].text == "x, y");
  CHECK(row.cells[2].text == "say \"hi\"");
  REQUIRE(r->next(row));
  CHECK(row.cells[1].text == "two\nlines");
  CHECK(row.cells[2].kind == RawKind::empty);
  REQUIRE(r->next(row));  // the blank line is a row of empty cells, for ingest to count
  CHECK(row.cells[0].kind == RawKind::empty);
  REQUIRE(r->next(row));
  CHECK(row.sheet_row == 5);
  CHECK(row.cells[0].text == "3");
  CHECK(row.cells[2].text == "z");
  CHECK_FALSE(r->next(row));
}

TEST_CASE("CSV: a row with more fields than the header is refused, naming row and line", "[csv]") {
  test::TempDir dir;
  auto r = open_raw_table(dir.write("r.csv", "a,b\n1,2\n3,4,5\n"));
  RawRow row;
  REQUIRE(r->next(row));
  try {
    r->next(row);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("row 3 (line 3) has 3 fields, the header has 2"));
  }
}

TEST_CASE("CSV: a short row is padded with empty cells and flagged", "[csv]") {
  test::TempDir dir;
  auto r = open_raw_table(dir.write("s.csv", "a,b,c\n1,2\n"));
  RawRow row;
  REQUIRE(r->next(row));
  CHECK(row.padded);
  CHECK(row.cells[2].kind == RawKind::empty);
}

TEST_CASE("CSV: bytes that are not UTF-8 are refused with their line", "[csv]") {
  test::TempDir dir;
  const auto path = dir.write("l1.csv", "a,b\n1,ok\n2,caf\xE9\n");
  CHECK_THROWS_WITH(open_raw_table(path), Catch::Contains("line 3: byte 0xE9 is not UTF-8"));
}

TEST_CASE("CSV: an unclosed quote is refused", "[csv]") {
  test::TempDir dir;
  auto r = open_raw_table(dir.write("q.csv", "a,b\n1,\"open\n"));
  RawRow row;
  CHECK_THROWS_WITH(r->next(row), Catch::Contains("line 2: a quoted field is never closed"));
}

TEST_CASE("input paths: missing file and directory are path errors", "[csv]") {
  test::TempDir dir;
  CHECK_THROWS_AS(open_raw_table(dir.file("missing.csv")), PathError);
  CHECK_THROWS_AS(open_raw_table(dir.file("")), PathError);
  CHECK_THROWS_AS(open_raw_table(dir.write("x.json", "{}")), InputError);
}

namespace {
// How many mappings of `path` this process holds (/proc/self/maps).
int mappings_of(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  int n = 0;
  for (std::string line; std::getline(maps, line);) n += line.find(path) != std::string::npos;
  return n;
}
}  // namespace

TEST_CASE("csv: a file refused while opening is unmapped (the fuzzer found every refusal leaked its mapping)", "[csv]") {
  test::TempDir dir;
  const std::string bad = dir.write("latin1.csv", "ID,Country\n1,M\xFCnchen\n");
  const std::string empty_header = dir.write("empty.csv", "\n\n1,2\n");
  for (int i = 0; i < 3; ++i) {
    CHECK_THROWS_AS(open_raw_table(bad), InputError);
    CHECK_THROWS_AS(open_raw_table(empty_header), InputError);
  }
  CHECK(mappings_of(bad) == 0);
  CHECK(mappings_of(empty_header) == 0);
  {
    auto ok = open_raw_table(dir.write("ok.csv", "ID,Country\n1,USA\n"));
    CHECK(mappings_of(dir.file("ok.csv")) == 1);  // the check sees mappings: it can fail
  }
  CHECK(mappings_of(dir.file("ok.csv")) == 0);
}
