#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "reinforcer/core/column_store.hpp"
#include "reinforcer/core/errors.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {
double value(std::size_t row, std::size_t column) { return std::sin(static_cast<double>(row * 131 + column)) * 1e3; }
}  // namespace

TEST_CASE("column store: columns put, blocks of rows read back, in memory and in a scratch file alike", "[column_store]") {
  test::TempDir dir;
  // More rows than one read piece (65,536), so blocks cross piece boundaries.
  const std::size_t rows = 70001, columns = 5;
  for (const bool spill : {false, true}) {
    INFO((spill ? "in a scratch file" : "in memory"));
    ColumnStore store(rows, columns, spill ? dir.file("") : std::string());
    CHECK(store.spilled() == spill);
    // Nothing is left in the directory: the file is unlinked as soon as it is open.
    CHECK(dir.entries() == 0);
    std::vector<double> column(rows);
    for (std::size_t c : {3u, 0u, 1u, 4u}) {  // column 2 never put
      for (std::size_t i = 0; i < rows; ++i) column[i] = value(i, c);
      store.put_column(c, column.data());
    }
    std::vector<double> back(rows);
    store.get_column(4, back.data());
    for (std::size_t i = 0; i < rows; i += 997) CHECK(back[i] == value(i, 4));
    // Rows [first, first + count) of columns [1, 4): row-major, the column never put as NaN.
    const std::size_t first = 65000, count = 3000;
    std::vector<double> block(count * 3);
    store.get_rows(first, count, 1, 3, block.data());
    for (std::size_t i = 0; i < count; ++i) {
      CHECK(block[i * 3 + 0] == value(first + i, 1));
      CHECK(std::isnan(block[i * 3 + 1]));
      CHECK(block[i * 3 + 2] == value(first + i, 3));
    }
    // Moved, it still reads (the result of evaluate is moved into place).
    ColumnStore moved = std::move(store);
    moved.get_column(0, back.data());
    CHECK(back[rows - 1] == value(rows - 1, 0));
  }
  CHECK(dir.entries() == 0);
}

TEST_CASE("column store: a directory it cannot write in is a path error naming it", "[column_store]") {
  try {
    ColumnStore store(10, 2, "/nonexistent-directory-for-the-test");
    FAIL("a scratch file was created in a missing directory");
  } catch (const PathError& e) {
    CHECK_THAT(e.what(), Catch::Contains("/nonexistent-directory-for-the-test"));
  }
}

TEST_CASE("column store: a scratch directory with less free space than the matrix is refused up front", "[column_store]") {
  test::TempDir dir;
  // 2^40 rows of 4 doubles: 35 TB, more than any disk here holds. Nothing is allocated or written.
  try {
    ColumnStore store(std::size_t{1} << 40, 4, dir.file(""));
    FAIL("a scratch file larger than the free space was accepted");
  } catch (const PathError& e) {
    CHECK_THAT(e.what(), Catch::Contains(dir.file("")));
    CHECK_THAT(e.what(), Catch::Contains("35184.37 GB") && Catch::Contains("are free there"));
  }
  CHECK(dir.entries() == 0);  // the refused file leaves nothing either
  // A matrix that fits is accepted in the same directory.
  CHECK(ColumnStore(1000, 4, dir.file("")).spilled());
}
