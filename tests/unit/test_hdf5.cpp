#include <catch2/catch.hpp>

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
    CHECK(dir.entries() == 1);
  }
  CHECK(dir.entries() == 0);
  CHECK_THROWS_AS(AtomicOutput(dir.file("no/such/dir/r.h5")), PathError);
  CHECK_THROWS_AS(AtomicOutput(dir.file("")), PathError);  // a directory
}
