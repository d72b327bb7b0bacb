#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <filesystem>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "test_support.hpp"

using namespace reinforcer;

TEST_CASE("hdf5: a compound table and attributes round-trip", "[hdf5]") {
  test::TempDir dir;
  const std::string path = dir.file("t.h5");
  {
    const h5::File f = h5::File::create(path);
    const h5::Group g = f.create_group("g");
    g.write_table("t", h5::Table(3)
                           .add("id", std::vector<std::int64_t>{1, 2, 3})
                           .add("name", std::vector<std::string>{"a", "", "longer name"})
                           .add("x", std::vector<double>{0.5, -1, 2})
                           .add("small", std::vector<std::int8_t>{-1, 0, 1}));
    f.set_attribute("format", std::string("test-format"));
    f.set_attribute("version", std::int64_t{7});
  }
  const h5::File f = h5::File::open_read(path);
  const h5::Group g = f.open_group("g");
  CHECK(g.table_rows("t") == 3);
  CHECK(g.read_int_column("t", "id") == std::vector<std::int64_t>{1, 2, 3});
  CHECK(g.read_int_column("t", "small") == std::vector<std::int64_t>{-1, 0, 1});
  CHECK(g.read_string_column("t", "name") == std::vector<std::string>{"a", "", "longer name"});
  CHECK(g.read_double_column("t", "x") == std::vector<double>{0.5, -1, 2});
  CHECK(f.string_attribute("format") == "test-format");
  CHECK(f.int_attribute("version") == 7);
  CHECK_THROWS_AS(g.read_int_column("t", "nope"), InputError);
  CHECK_THROWS_AS(f.open_group("missing"), InputError);
}

// Text columns read while the table is written (add_text_view) store what materialised ones
// store: over several chunks, where a chunk's shorter values follow longer ones in the reused
// buffer, fixed and variable-length alike.
TEST_CASE("hdf5: text columns viewed at write time equal materialised ones", "[hdf5]") {
  test::TempDir dir;
  const std::size_t rows = 40000;  // two whole chunks and an edge chunk
  std::vector<std::string> short_text(rows), long_text(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    short_text[i] = std::string(i % 7 == 0 ? 0 : 1 + (rows - i) % 13, static_cast<char>('a' + i % 26));
    long_text[i] = "lead " + std::to_string(i) + std::string(i % 3 == 0 ? h5::kFixedTextLimit + 26 : i % 40, 'x');  // some past kFixedTextLimit
  }
  std::vector<std::int64_t> id(rows);
  for (std::size_t i = 0; i < rows; ++i) id[i] = static_cast<std::int64_t>(i);
  for (const bool viewed : {false, true}) {
    const std::string path = dir.file(viewed ? "viewed.h5" : "materialised.h5");
    const h5::File f = h5::File::create(path);
    h5::Table t(rows);
    t.add("id", id);
    if (viewed) {
      t.add_text_view("short", [&](std::size_t i) { return std::string_view(short_text[i]); });
      t.add_text_view("long", [&](std::size_t i) { return std::string_view(long_text[i]); });
    } else {
      t.add("short", short_text).add("long", long_text);
    }
    f.write_table("t", t);
  }
  const h5::File a = h5::File::open_read(dir.file("materialised.h5")), b = h5::File::open_read(dir.file("viewed.h5"));
  CHECK(b.read_string_column("t", "short") == short_text);
  CHECK(b.read_string_column("t", "long") == long_text);
  CHECK(b.table_columns("t").size() == a.table_columns("t").size());
  CHECK(b.read_int_column("t", "id") == id);
}

// Number columns read in place from the rows' members (add_member) store what copied ones store,
// byte for byte, over whole chunks and an edge chunk, and in a small unchunked table.
TEST_CASE("hdf5: member columns read at write time equal copied ones", "[hdf5]") {
  struct Row {
    std::int8_t flag;
    double score;
    std::int32_t week;
    std::int64_t id;
  };
  test::TempDir dir;
  for (const std::size_t rows : {std::size_t{40000}, std::size_t{7}}) {
    std::vector<Row> data(rows);
    for (std::size_t i = 0; i < rows; ++i)
      data[i] = Row{static_cast<std::int8_t>(i % 3 - 1), 0.5 + static_cast<double>(i) / 7.0, static_cast<std::int32_t>(i % 52),
                    static_cast<std::int64_t>(i) * 1000003};
    for (const bool in_place : {false, true}) {
      const h5::File f = h5::File::create(dir.file((in_place ? "in_place" : "copied") + std::to_string(rows) + ".h5"));
      h5::Table t(rows);
      if (in_place)
        t.add_member("flag", data, &Row::flag).add_member("score", data, &Row::score).add_member("week", data, &Row::week)
            .add_member("id", data, &Row::id);
      else
        t.add("flag", h5::column(data, &Row::flag)).add("score", h5::column(data, &Row::score))
            .add("week", h5::column(data, &Row::week)).add("id", h5::column(data, &Row::id));
      f.write_table("t", t);
    }
    const h5::File a = h5::File::open_read(dir.file("copied" + std::to_string(rows) + ".h5"));
    const h5::File b = h5::File::open_read(dir.file("in_place" + std::to_string(rows) + ".h5"));
    const h5::Compound layout = a.table_layout("t", {{"flag", h5::MemberKind::int8}, {"score", h5::MemberKind::float64},
                                                     {"week", h5::MemberKind::int32}, {"id", h5::MemberKind::int64}});
    CHECK(a.read_rows("t", layout) == b.read_rows("t", layout));
    CHECK(b.read_double_column("t", "score")[rows - 1] == data[rows - 1].score);
    CHECK(b.read_int_column("t", "id")[rows / 2] == data[rows / 2].id);
  }
  std::vector<Row> two(2);
  CHECK_THROWS_AS(h5::Table(3).add_member("id", two, &Row::id), std::logic_error);  // one value a row
}

TEST_CASE("hdf5: a table read in one pass as declared rows, whole or in blocks", "[hdf5]") {
  test::TempDir dir;
  const std::string path = dir.file("t.h5");
  std::vector<std::int64_t> id(40000);
  std::vector<std::string> name(id.size());
  for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<std::int64_t>(i * 3), name[i] = "n" + std::to_string(i % 97);
  h5::File::create(path).write_table("t", h5::Table(id.size()).add("id", id).add("name", name));  // chunked: > 16,384 rows
  const h5::File f = h5::File::open_read(path);
  // Declared in another order than stored: members are matched by name; text keeps its stored width.
  const h5::Compound layout = f.table_layout("t", {{"name", h5::MemberKind::text}, {"id", h5::MemberKind::int64}});
  REQUIRE(layout.members()[0].width == 3);
  const std::vector<char> whole = f.read_rows("t", layout);
  REQUIRE(whole.size() == id.size() * layout.row_size());
  std::vector<char> blocks, block;
  for (std::size_t first = 0; first < id.size(); first += 16384) {  // the loader's blocks are whole chunks too
    f.read_rows("t", layout, first, std::min<std::size_t>(16384, id.size() - first), block);
    blocks.insert(blocks.end(), block.begin(), block.end());
  }
  CHECK(blocks == whole);
  for (std::size_t i : {std::size_t{0}, std::size_t{16384}, id.size() - 1}) {
    const char* row = whole.data() + i * layout.row_size();
    std::int64_t v = 0;
    std::memcpy(&v, row + layout.offset(1), sizeof v);
    CHECK(v == id[i]);
    CHECK(std::string(row, strnlen(row, 3)) == name[i]);
  }
  CHECK_THROWS_WITH(f.table_layout("t", {{"nope", h5::MemberKind::int64}}), Catch::Contains("has no column 'nope'"));
  CHECK_THROWS_WITH(f.table_layout("t", {{"id", h5::MemberKind::text}}), Catch::Contains("column 'id'"));
}

TEST_CASE("hdf5: a file that is not HDF5, or of another format or version, is refused", "[hdf5]") {
  test::TempDir dir;
  CHECK_THROWS_AS(h5::File::open_read(dir.write("x.h5", "not hdf5")), InputError);
  {
    const h5::File f = h5::File::create(dir.file("other.h5"));
    f.set_attribute("format", std::string("reinforcer-run"));
    f.set_attribute("format_version", std::int64_t{1});
  }
  CHECK_THROWS_WITH(read_prepared_customers(dir.file("other.h5")),
                    Catch::Contains("is not a reinforcer-prepared file (its format attribute is 'reinforcer-run')"));
  {
    const h5::File f = h5::File::create(dir.file("old.h5"));
    f.set_attribute("format", kPreparedFormat);
    f.set_attribute("format_version", std::int64_t{99});
  }
  CHECK_THROWS_WITH(read_prepared_customers(dir.file("old.h5")), Catch::Contains("format version 99"));
}

TEST_CASE("prepared file: the customer table written is the table read back", "[hdf5]") {
  test::TempDir dir;
  PreparedData d;
  d.ingest = ingest_crm(dir.write("crm.csv", test::kCrmHeader +
                                                 "1,USA,B27,2021-03-01,2021-03-05,1st message,,2021-03-10,,,No,,\n"
                                                 "2,France,,,,,subscribed already,2021-04-02,,,,,2021-04-20\n"
                                                 "3,,,,,,,,,,,,\n"),
                        IngestOptions{});
  d.cutoffs = assign_temporal_split(d.ingest.table, {70, 15, 15});
  assign_folds(d.ingest.table, 2, 1);
  {
    AtomicOutput out(dir.file("p.h5"));
    write_prepared_file(out.temp_path(), d, Provenance{"cmd", "[prepare]\n", "crm.csv", "abc", "now"});
    out.commit();
  }
  const CustomerTable back = read_prepared_customers(dir.file("p.h5"));
  REQUIRE(back.customers.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const Customer &a = d.ingest.table.customers[i], &b = back.customers[i];
    CHECK(a.id == b.id);
    CHECK(a.sheet_row == b.sheet_row);
    CHECK((a.country < 0) == (b.country < 0));
    CHECK(a.education == b.education);
    CHECK(a.status == b.status);
    CHECK(a.stage == b.stage);
    CHECK(a.first_contact == b.first_contact);
    CHECK(a.last_contact == b.last_contact);
    CHECK(a.milestone == b.milestone);
    CHECK(a.platform_signup_declined == b.platform_signup_declined);
    CHECK(a.subscribed == b.subscribed);
    CHECK(a.cohort == b.cohort);
    CHECK(a.t0 == b.t0);
    CHECK(a.split == b.split);
    CHECK(a.fold == b.fold);
  }
  CHECK(back.countries[static_cast<std::size_t>(back.customers[1].country)] == "France");
  CHECK(dir.entries() == 2);  // crm.csv and p.h5: no temporary file left
}

TEST_CASE("atomic output: nothing is left when the result is not committed", "[hdf5]") {
  test::TempDir dir;
  {
    AtomicOutput out(dir.file("r.h5"));
    h5::File::create(out.temp_path());
    CHECK(dir.entries() == 2);  // the temporary and the output's lock
  }
  CHECK(dir.entries() == 0);
  CHECK_THROWS_AS(AtomicOutput(dir.file("no/such/dir/r.h5")), PathError);
  CHECK_THROWS_AS(AtomicOutput(dir.file("")), PathError);  // a directory
}

TEST_CASE("atomic output: a killed run's temporary is removed by the next writer of that output only", "[hdf5]") {
  test::TempDir dir;
  // A pid that is certainly no live process: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  ::waitpid(child, nullptr, 0);
  const std::string dead = std::to_string(child), alive = std::to_string(::getppid());
  const std::string stale = dir.write(".r.h5." + dead + ".0.tmp.h5", "half");
  const std::string live = dir.write(".r.h5." + alive + ".3.tmp.h5", "a live run's");
  const std::string other = dir.write(".q.h5." + dead + ".0.tmp.h5", "another output's");
  const std::string not_ours = dir.write(".r.h5." + dead + ".x.tmp.h5", "not our pattern");
  const std::string user_file = dir.write("r.h5." + dead + ".0.tmp.h5", "the user's");
  {
    AtomicOutput out(dir.file("r.h5"));
    CHECK_FALSE(std::filesystem::exists(stale));
    for (const std::string& kept : {live, other, not_ours, user_file}) CHECK(std::filesystem::exists(kept));
  }
  CHECK(dir.entries() == 4);
}

namespace {

// Every field of two customers (country by name), as "field: a vs b" for the first that differs.
std::string first_difference(const Customer& a, const CustomerTable& ta, const Customer& b, const CustomerTable& tb) {
  auto country = [](const Customer& c, const CustomerTable& t) {
    return c.country < 0 ? std::string("(unknown)") : t.countries.at(static_cast<std::size_t>(c.country));
  };
  auto differs = [](const char* field, auto x, auto y) {
    return x == y ? std::string() : std::string(field) + ": " + std::to_string(x) + " vs " + std::to_string(y);
  };
  if (country(a, ta) != country(b, tb)) return "country: " + country(a, ta) + " vs " + country(b, tb);
  for (const std::string& d :
       {differs("id", a.id, b.id), differs("sheet_row", a.sheet_row, b.sheet_row), differs("education", a.education, b.education),
        differs("status", a.status, b.status), differs("stage", a.stage, b.stage),
        differs("declined", a.platform_signup_declined, b.platform_signup_declined),
        differs("first_contact", a.first_contact, b.first_contact), differs("last_contact", a.last_contact, b.last_contact),
        differs("first_call", a.milestone[0], b.milestone[0]), differs("demo", a.milestone[1], b.milestone[1]),
        differs("survey", a.milestone[2], b.milestone[2]), differs("signup", a.milestone[3], b.milestone[3]),
        differs("account_manager", a.milestone[4], b.milestone[4]), differs("subscribed_day", a.milestone[5], b.milestone[5]),
        differs("subscribed", a.subscribed, b.subscribed), differs("cohort", static_cast<int>(a.cohort), static_cast<int>(b.cohort)),
        differs("t0", a.t0, b.t0), differs("split", static_cast<int>(a.split), static_cast<int>(b.split)),
        differs("fold", a.fold, b.fold)})
    if (!d.empty()) return d;
  return "";
}

// The loader before the one-read one: each column read on its own (one pass over the
// compressed table per column) and decoded by name.
CustomerTable read_column_by_column(const h5::Group& f) {
  const std::string tab = "customers";
  const auto id = f.read_int_column(tab, "id");
  auto code = [](const auto& domain, const std::string& v) {
    for (std::size_t k = 0; k < domain.size(); ++k)
      if (domain[k] == v) return k;
    throw std::logic_error("unknown value " + v);
  };
  const auto row = f.read_int_column(tab, "sheet_row");
  const auto country = f.read_string_column(tab, "country"), education = f.read_string_column(tab, "education");
  const auto status = f.read_string_column(tab, "status"), stage = f.read_string_column(tab, "stage");
  const auto cohort = f.read_string_column(tab, "cohort"), split = f.read_string_column(tab, "split");
  const std::array<const char*, 8> date_names = {"first_contact_day", "last_contact_day", "first_call_day", "demo_day",
                                                 "survey_day", "platform_signup_day", "account_manager_day", "subscribed_day"};
  std::array<std::vector<std::int64_t>, 8> dates;
  for (std::size_t k = 0; k < dates.size(); ++k) dates[k] = f.read_int_column(tab, date_names[k]);
  const auto declined = f.read_int_column(tab, "platform_signup_declined"), label = f.read_int_column(tab, "subscribed");
  const auto t0 = f.read_int_column(tab, "t0_day"), fold = f.read_int_column(tab, "fold");
  CustomerTable t;
  t.customers.resize(id.size());
  for (std::size_t i = 0; i < id.size(); ++i) {
    Customer& c = t.customers[i];
    c.id = id[i], c.sheet_row = row[i];
    if (!country[i].empty()) {
      auto at = std::find(t.countries.begin(), t.countries.end(), country[i]);
      if (at == t.countries.end()) at = t.countries.insert(t.countries.end(), country[i]);
      c.country = static_cast<std::int32_t>(at - t.countries.begin());
    }
    c.education = education[i].empty() ? 0 : static_cast<std::uint8_t>(std::stoi(education[i].substr(1)));
    c.status = static_cast<std::uint8_t>(code(kStatusValues, status[i]));
    c.stage = static_cast<std::uint8_t>(code(kStageValues, stage[i]));
    c.first_contact = static_cast<Day>(dates[0][i]), c.last_contact = static_cast<Day>(dates[1][i]);
    for (std::size_t m = 0; m < kMilestones; ++m) c.milestone[m] = static_cast<Day>(dates[m + 2][i]);
    c.platform_signup_declined = declined[i] != 0, c.subscribed = label[i] != 0;
    c.cohort = static_cast<Cohort>(code(kCohortNames, cohort[i]));
    c.t0 = static_cast<Day>(t0[i]);
    c.split = static_cast<Split>(code(kSplitNames, split[i]));
    c.fold = static_cast<std::int8_t>(fold[i]);
  }
  return t;
}

}  // namespace

TEST_CASE("prepared file: the one-read loader gives every column of every customer as read column by column",
          "[hdf5][prepared]") {
  test::TempDir dir;
  PreparedData d;
  d.ingest = test::synthetic_ingest(20000, 5);  // more than one compressed chunk of 16,384 rows
  d.cutoffs = assign_temporal_split(d.ingest.table, {70, 15, 15});
  assign_folds(d.ingest.table, 5, 1);
  const std::string path = dir.file("p.h5");
  write_prepared_file(path, d, Provenance{"cmd", "[prepare]\n", "crm.csv", "abc", "now"});
  const CustomerTable one_read = read_prepared_customers(path);
  const CustomerTable by_column = read_column_by_column(h5::File::open_read(path));
  const CustomerTable& written = d.ingest.table;
  REQUIRE(one_read.customers.size() == written.customers.size());
  REQUIRE(by_column.customers.size() == written.customers.size());
  CHECK(one_read.countries == by_column.countries);  // the same codes, in order of first appearance
  std::size_t unknown_country = 0, educated = 0, undated = 0, folds = 0;
  for (std::size_t i = 0; i < written.customers.size(); ++i) {
    const Customer& c = one_read.customers[i];
    INFO("customer " << i);
    REQUIRE(first_difference(c, one_read, by_column.customers[i], by_column) == "");
    REQUIRE(first_difference(c, one_read, written.customers[i], written) == "");
    unknown_country += c.country < 0, educated += c.education > 0, undated += c.cohort == Cohort::undated;
    folds = std::max<std::size_t>(folds, static_cast<std::size_t>(c.fold + 1));
  }
  // The synthetic file exercises what the decoding distinguishes.
  CHECK(unknown_country > 0);
  CHECK(educated > 0);
  CHECK(undated > 0);
  CHECK(folds == 5);
}

TEST_CASE("prepared file: the table's broadcast bytes give the same table back", "[hdf5][prepared]") {
  const CustomerTable t = test::synthetic_ingest(3000, 8).table;
  const std::string bytes = customer_table_bytes(t);
  const CustomerTable back = customer_table_from_bytes(bytes);
  REQUIRE(back.customers.size() == t.customers.size());
  CHECK(back.countries == t.countries);
  for (std::size_t i = 0; i < t.customers.size(); ++i) {
    INFO("customer " << i);
    REQUIRE(first_difference(back.customers[i], back, t.customers[i], t) == "");
  }
  CHECK_THROWS_AS(customer_table_from_bytes(std::string_view(bytes).substr(0, bytes.size() - 1)), std::invalid_argument);
}

TEST_CASE("hdf5: a text column with a value past the fixed limit is variable-length, not sized by it", "[hdf5]") {
  test::TempDir dir;
  const std::string path = dir.file("t.h5");
  // Chunked (> 16,384 rows), one long value among short ones.
  const std::size_t rows = 20000;
  std::vector<std::int64_t> id(rows);
  std::vector<std::string> name(rows), level(rows);
  for (std::size_t i = 0; i < rows; ++i) id[i] = static_cast<std::int64_t>(i), name[i] = "n" + std::to_string(i % 13), level[i] = "B1";
  name[17001] = std::string(h5::kFixedTextLimit + 1, 'x') + "\xc3\xa9";  // past the limit, UTF-8
  name[5] = "";
  h5::File::create(path).write_table("t", h5::Table(rows).add("id", id).add("name", name).add("level", level));
  const h5::File f = h5::File::open_read(path);
  const h5::Compound layout =
      f.table_layout("t", {{"name", h5::MemberKind::text}, {"level", h5::MemberKind::text}, {"id", h5::MemberKind::int64}});
  REQUIRE(layout.members()[0].variable);
  REQUIRE_FALSE(layout.members()[1].variable);  // short values stay fixed-length (2 bytes)
  CHECK(layout.members()[1].width == 2);
  CHECK(f.read_string_column("t", "name") == name);
  CHECK(f.read_string_column("t", "level") == level);
  const std::vector<char> whole = f.read_rows("t", layout);
  std::vector<char> block;
  for (std::size_t first : {std::size_t{0}, std::size_t{16384}}) {
    f.read_rows("t", layout, first, std::min<std::size_t>(16384, rows - first), block);
    for (std::size_t r = 0; r < std::min<std::size_t>(16384, rows - first); ++r) {
      const std::size_t i = first + r;
      CHECK(h5::text_member(block.data() + r * layout.row_size() + layout.offset(0), layout.members()[0]) == name[i]);
      CHECK(h5::text_member(whole.data() + i * layout.row_size() + layout.offset(0), layout.members()[0]) == name[i]);
      CHECK(h5::text_member(whole.data() + i * layout.row_size() + layout.offset(1), layout.members()[1]) == "B1");
      std::int64_t v = -1;
      std::memcpy(&v, block.data() + r * layout.row_size() + layout.offset(2), sizeof v);
      if (v != id[i]) FAIL("row " << i << " id " << v);
    }
  }
}

TEST_CASE("hdf5: a written file is sealed; a truncated or altered one is refused before HDF5 reads it", "[hdf5]") {
  test::TempDir dir;
  const std::string path = dir.file("sealed.h5");
  {
    h5::File f = h5::File::create(path);
    f.write_table("t", h5::Table(3).add("x", std::vector<double>{1, 2, 3}));
    f.close();
  }
  const std::string bytes = dir.read("sealed.h5");
  REQUIRE(bytes.rfind("reinforcer-seal crc32=", 0) == 0);
  CHECK(h5::File::open_read(path).read_double_column("t", "x") == std::vector<double>{1, 2, 3});
  // One bit changed anywhere after the seal (here in the middle), or one byte missing.
  std::string altered = bytes;
  altered[altered.size() / 2] = static_cast<char>(altered[altered.size() / 2] ^ 1);
  const std::string bad = dir.write("altered.h5", altered);
  CHECK_THROWS_WITH(h5::File::open_read(bad), Catch::Contains("altered.h5: the file changed after it was written"));
  const std::string cut = dir.write("cut.h5", bytes.substr(0, bytes.size() - 1));
  CHECK_THROWS_WITH(h5::File::open_read(cut), Catch::Contains("cut.h5: the file holds"));
  // Without its seal (written before seals, or by another tool) it is read unchecked.
  std::string unsealed = bytes;
  std::fill(unsealed.begin(), unsealed.begin() + 64, '\0');
  CHECK(h5::File::open_read(dir.write("unsealed.h5", unsealed)).read_double_column("t", "x") == std::vector<double>{1, 2, 3});
}

TEST_CASE("hdf5: a matrix of several chunks, shuffled and deflated before HDF5 sees it, reads back exactly", "[hdf5]") {
  test::TempDir dir;
  const std::string path = dir.file("m.h5");
  // Two whole chunks of 16,384 rows and an edge chunk; values with every byte varying.
  const std::size_t rows = 40000, cols = 3;
  std::vector<double> x(rows * cols);
  std::vector<std::int64_t> k(rows * cols);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = std::sin(static_cast<double>(i)) * 1e3 + static_cast<double>(i % 7);
    k[i] = static_cast<std::int64_t>(i * 2654435761u) - 5;
  }
  const std::vector<double> small = {1, 2, 3, 4};  // below a chunk: written whole
  {
    const h5::File f = h5::File::create(path);
    f.write_matrix("x", x, rows, cols);
    f.write_matrix("k", k, rows, cols);
    f.write_matrix("small", small, 2, 2);
    // The same matrices with their rows handed over a block at a time, never whole.
    std::size_t largest_block = 0, rows_given = 0;
    f.write_matrix_rows("x_rows", rows, cols, [&](std::size_t first, std::size_t count, double* out) {
      CHECK(first == rows_given);
      rows_given += count, largest_block = std::max(largest_block, count);
      std::copy(x.begin() + static_cast<std::ptrdiff_t>(first * cols),
                x.begin() + static_cast<std::ptrdiff_t>((first + count) * cols), out);
    });
    CHECK(rows_given == rows);
    CHECK(largest_block == std::size_t{1} << 14);
    f.write_matrix_rows("small_rows", 2, 2, [&](std::size_t first, std::size_t count, double* out) {
      std::copy(small.begin() + static_cast<std::ptrdiff_t>(first * 2),
                small.begin() + static_cast<std::ptrdiff_t>((first + count) * 2), out);
    });
  }
  const h5::File f = h5::File::open_read(path);
  std::size_t r = 0, c = 0;
  CHECK(f.read_matrix("x", r, c) == x);
  CHECK((r == rows && c == cols));
  CHECK(f.read_matrix("x_rows", r, c) == x);
  CHECK((r == rows && c == cols));
  CHECK(f.read_matrix("small_rows", r, c) == small);
  CHECK(f.read_int_matrix("k", r, c) == k);
  CHECK(f.read_matrix("small", r, c) == small);
  std::vector<double> edge;
  f.read_matrix_rows("x", rows - 10, 10, cols, edge);  // inside the edge chunk
  CHECK(std::equal(edge.begin(), edge.end(), x.end() - 30));
  // Stored compressed: the repeating integer lanes shrink well below their raw bytes.
  CHECK(std::filesystem::file_size(path) < (x.size() + k.size()) * 8);
}
