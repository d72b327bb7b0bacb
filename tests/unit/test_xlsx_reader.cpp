#include <catch2/catch.hpp>
#include <xlsxwriter.h>
#include <zip.h>

#include <filesystem>

#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {
// A workbook whose first sheet holds a header and `rows` rows of (number, text, date serial).
std::string make_xlsx(const test::TempDir& dir, const std::string& name, int rows, bool constant_memory) {
  const std::string path = dir.file(name);
  lxw_workbook_options opt{};
  opt.constant_memory = constant_memory ? LXW_TRUE : LXW_FALSE;  // inline strings when on
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &opt);
  lxw_worksheet* ws = workbook_add_worksheet(wb, "CRM");
  worksheet_write_string(ws, 0, 0, "ID", nullptr);
  worksheet_write_string(ws, 0, 1, "Name & <Co>", nullptr);
  worksheet_write_string(ws, 0, 2, "Date", nullptr);
  for (int r = 1; r <= rows; ++r) {
    worksheet_write_number(ws, static_cast<lxw_row_t>(r), 0, r, nullptr);
    if (r % 3 != 0)
      worksheet_write_string(ws, static_cast<lxw_row_t>(r), 1, ("text \"" + std::to_string(r) + "\" & more").c_str(), nullptr);
    worksheet_write_number(ws, static_cast<lxw_row_t>(r), 2, 44000.0 + r, nullptr);
  }
  REQUIRE(workbook_close(wb) == LXW_NO_ERROR);
  return path;
}

void check_rows(const std::string& path, int rows) {
  auto reader = open_raw_table(path);
  REQUIRE(reader->header() == std::vector<std::string>{"ID", "Name & <Co>", "Date"});
  CHECK_FALSE(reader->dates_are_text());
  RawRow row;
  int n = 0;
  while (reader->next(row)) {
    ++n;
    REQUIRE(row.sheet_row == n + 1);
    REQUIRE(row.cells[0].kind == RawKind::number);
    REQUIRE(row.cells[0].number == n);
    if (n % 3 != 0) {
      REQUIRE(row.cells[1].kind == RawKind::text);
      REQUIRE(row.cells[1].text == "text \"" + std::to_string(n) + "\" & more");
    } else {
      REQUIRE(row.cells[1].kind == RawKind::empty);
    }
    REQUIRE(row.cells[2].number == 44000.0 + n);
  }
  CHECK(n == rows);
}

void make_zip(const std::string& path, const std::string& member, const std::string& content) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(z);
  zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
  REQUIRE(zip_file_add(z, member.c_str(), src, 0) >= 0);
  REQUIRE(zip_close(z) == 0);
}
}  // namespace

TEST_CASE("xlsx: shared strings, entities and numbers are read in sheet order", "[xlsx]") {
  test::TempDir dir;
  check_rows(make_xlsx(dir, "shared.xlsx", 50, false), 50);
}

TEST_CASE("xlsx: inline strings (constant-memory writers) are read too", "[xlsx]") {
  test::TempDir dir;
  check_rows(make_xlsx(dir, "inline.xlsx", 50, true), 50);
}

TEST_CASE("xlsx: a sheet larger than the inflate chunk is read whole across chunk boundaries", "[xlsx]") {
  test::TempDir dir;
  check_rows(make_xlsx(dir, "big.xlsx", 40000, true), 40000);  // ~4 MB of sheet XML
}

TEST_CASE("xlsx: a file that is not a zip is refused", "[xlsx]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(open_raw_table(dir.write("plain.xlsx", "ID,Country\n1,USA\n")),
                    Catch::Contains("not a valid xlsx file"));
}

TEST_CASE("xlsx: a zip without a worksheet is refused", "[xlsx]") {
  test::TempDir dir;
  make_zip(dir.file("empty.xlsx"), "hello.txt", "not a workbook");
  CHECK_THROWS_WITH(open_raw_table(dir.file("empty.xlsx")), Catch::Contains("holds no worksheet"));
}

TEST_CASE("xlsx: a truncated file is refused", "[xlsx]") {
  test::TempDir dir;
  const std::string path = make_xlsx(dir, "t.xlsx", 2000, false);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  CHECK_THROWS_AS(open_raw_table(path), InputError);
}

namespace {
// A worksheet whose header row is fine and whose second row is `row_xml`; every row read.
void read_sheet_with_row(const test::TempDir& dir, const std::string& row_xml) {
  const std::string sheet =
      "<?xml version=\"1.0\"?><worksheet><sheetData>"
      "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>ID</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t>Date</t></is></c></row>" +
      row_xml + "</sheetData></worksheet>";
  make_zip(dir.file("x.xlsx"), "xl/worksheets/sheet1.xml", sheet);
  auto reader = open_raw_table(dir.file("x.xlsx"));
  RawRow row;
  while (reader->next(row)) {
  }
}
}  // namespace

TEST_CASE("xlsx: references beyond Excel's grid and unclosed cells are corrupt, not wrapped", "[xlsx]") {
  test::TempDir dir;
  // Within the grid: the last column and row read.
  CHECK_NOTHROW(read_sheet_with_row(dir, "<row r=\"1048576\"><c r=\"XFD1048576\"><v>1</v></c></row>"));
  CHECK_THROWS_WITH(read_sheet_with_row(dir, "<row r=\"2\"><c r=\"XFE2\"><v>1</v></c></row>"),
                    Catch::Contains("x.xlsx: the worksheet") && Catch::Contains("beyond Excel's last column XFD"));
  CHECK_THROWS_WITH(read_sheet_with_row(dir, "<row r=\"2\"><c r=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2\"><v>1</v></c></row>"),
                    Catch::Contains("beyond Excel's last column XFD"));
  CHECK_THROWS_WITH(read_sheet_with_row(dir, "<row r=\"99999999999999999999999\"><c r=\"A2\"><v>1</v></c></row>"),
                    Catch::Contains("outside Excel's rows 1 to 1,048,576"));
  CHECK_THROWS_WITH(read_sheet_with_row(dir, "<row r=\"1048577\"><c r=\"A2\"><v>1</v></c></row>"),
                    Catch::Contains("outside Excel's rows"));
  CHECK_THROWS_WITH(read_sheet_with_row(dir, "<row r=\"2\"><c r=\"A2\"><v>1</v></row>"), Catch::Contains("without its '</c>'"));
}
