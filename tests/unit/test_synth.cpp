// The synthetic CRM export: reproducible to the byte, clean files pass ingest untouched,
// dirty files show every kind of dirt, and the generator's truth is what ingest derives.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/synth.hpp"
#include "reinforcer/core/errors.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

SynthOptions options(std::int64_t customers, std::uint64_t seed, bool dirty, int extra = 0) {
  SynthOptions o;
  o.customers = customers;
  o.seed = seed;
  o.dirty = dirty;
  o.extra_attributes = extra;
  return o;
}

// The generator's truth against what ingest derives from the file it wrote.
void require_truth_matches(const SynthTruth& truth, const IngestResult& r) {
  SynthTruth seen;
  for (const Customer& c : r.table.customers) {
    ++seen.customers;
    seen.subscribed += c.subscribed ? 1 : 0;
    seen.outbound += c.cohort == Cohort::outbound ? 1 : 0;
    seen.inbound += c.cohort == Cohort::inbound ? 1 : 0;
    seen.undated += c.cohort == Cohort::undated ? 1 : 0;
  }
  seen.blank_rows = r.report.blank_rows;
  CHECK(seen.customers == truth.customers);
  CHECK(r.report.customers == truth.customers);
  CHECK(seen.subscribed == truth.subscribed);
  CHECK(seen.outbound == truth.outbound);
  CHECK(seen.inbound == truth.inbound);
  CHECK(seen.undated == truth.undated);
  CHECK(seen.blank_rows == truth.blank_rows);
}

std::int64_t count(const IngestResult& r, const char* column, CellClass cls) {
  return r.report.column(column).counts[static_cast<std::size_t>(cls)];
}

}  // namespace

TEST_CASE("synthetic export: the same seed gives identical bytes, another seed other bytes", "[synth]") {
  test::TempDir dir;
  for (const char* ext : {".csv", ".xlsx"}) {
    SECTION(std::string("format ") + ext) {
      const std::string a = dir.file(std::string("a") + ext), b = dir.file(std::string("b") + ext),
                        c = dir.file(std::string("c") + ext);
      write_synthetic_crm(options(1500, 42, true, 2), a);
      write_synthetic_crm(options(1500, 42, true, 2), b);
      write_synthetic_crm(options(1500, 43, true, 2), c);
      const std::string bytes_a = bytes_of(a);
      REQUIRE(bytes_a.size() > 10000);
      CHECK(bytes_a == bytes_of(b));
      CHECK(bytes_a != bytes_of(c));
    }
  }
}

TEST_CASE("synthetic export: clean CSV and xlsx pass ingest with nothing rejected", "[synth]") {
  test::TempDir dir;
  for (const char* ext : {".csv", ".xlsx"}) {
    SECTION(std::string("format ") + ext) {
      const std::string path = dir.file(std::string("clean") + ext);
      const SynthTruth truth = write_synthetic_crm(options(3000, 7, false, 3), path);
      const IngestResult r = ingest_crm(path, IngestOptions{});
      require_truth_matches(truth, r);
      CHECK(truth.blank_rows == 0);
      CHECK(r.report.export_date == days_from_civil(2022, 4, 28));
      for (const ColumnQuality& q : r.report.columns) {
        INFO("column " << q.column);
        CHECK(q.counts[static_cast<std::size_t>(CellClass::rejected)] == 0);
        CHECK(q.counts[static_cast<std::size_t>(CellClass::normalised)] == 0);
        CHECK(q.counts[static_cast<std::size_t>(CellClass::aliased)] == 0);
        CHECK(q.counts[static_cast<std::size_t>(CellClass::repaired)] == 0);
        CHECK(q.counts[static_cast<std::size_t>(CellClass::negative)] == 0);
      }
      CHECK(r.report.warning("last contact before first contact").count == 0);
      CHECK(r.report.warning("pipeline step dated before first contact").count == 0);
      CHECK(r.report.extra_columns == std::vector<std::string>{"Attribute 1", "Attribute 2", "Attribute 3"});
      for (std::size_t i = 0; i < r.table.customers.size(); ++i) CHECK(r.table.customers[i].id == static_cast<std::int64_t>(i + 1));
      // The real export's shape: mostly outbound, a small inbound cohort converting far more often.
      CHECK(truth.outbound > 2700);
      CHECK(truth.inbound > 30);
      CHECK(truth.undated > 60);
      CHECK(truth.subscribed > 0);
      CHECK(truth.subscribed < 60);
    }
  }
}

TEST_CASE("synthetic export: dirty files show every kind of dirt, and the truth still holds", "[synth]") {
  test::TempDir dir;
  for (const char* ext : {".csv", ".xlsx"}) {
    SECTION(std::string("format ") + ext) {
      const std::string path = dir.file(std::string("dirty") + ext);
      const SynthTruth truth = write_synthetic_crm(options(2000, 3, true), path);
      const IngestResult r = ingest_crm(path, IngestOptions{});
      require_truth_matches(truth, r);
      CHECK(truth.blank_rows > 0);
      CHECK(r.report.export_date == days_from_civil(2022, 4, 28));  // dirt leaves the inferred export date alone

      const ColumnQuality& country = r.report.column("Country");
      CHECK(count(r, "Country", CellClass::normalised) > 0);
      CHECK(count(r, "Country", CellClass::aliased) > 0);
      CHECK(country.rejected("not a country") > 0);
      CHECK(country.rejected("ambiguous (Canada or California)") > 0);

      const ColumnQuality& last = r.report.column("Last Contact");
      CHECK(count(r, "Last Contact", CellClass::repaired) > 0);
      CHECK(last.rejected("impossible date") > 0);
      CHECK(last.rejected("out of range") > 0);
      CHECK(r.report.column("First Call").rejected("text in a date column") > 0);
      CHECK(r.report.column("Subscribed").rejected("impossible date") > 0);
      CHECK(count(r, "Did sign up to the platform", CellClass::negative) > 0);
      if (std::string(ext) == ".xlsx")  // serial 6,691,845, which Excel shows as #VALUE!
        CHECK(r.report.column("Did sign up to the platform").rejected("out of range") == 1);

      CHECK(r.report.warning("last contact before first contact").count > 0);
      CHECK(r.report.warning("pipeline step dated before first contact").count > 0);
      CHECK(r.report.warning("account manager assigned on or after subscription").count > 0);

      // Dirt stays out of First Contact and the coded columns, which keeps cohorts and labels.
      for (const char* clean : {"ID", "Education", "Status", "Stage", "First Contact"}) {
        INFO("column " << clean);
        CHECK(count(r, clean, CellClass::rejected) == 0);
      }
    }
  }
}

TEST_CASE("synthetic export: dirt leaves every label and cohort as the clean file has them", "[synth]") {
  test::TempDir dir;
  const SynthTruth clean = write_synthetic_crm(options(2500, 9, false), dir.file("clean.csv"));
  const SynthTruth dirty = write_synthetic_crm(options(2500, 9, true), dir.file("dirty.csv"));
  CHECK(dirty.subscribed == clean.subscribed);
  CHECK(dirty.outbound == clean.outbound);
  CHECK(dirty.inbound == clean.inbound);
  CHECK(dirty.undated == clean.undated);
}

TEST_CASE("synthetic export: impossible requests are refused", "[synth]") {
  test::TempDir dir;
  CHECK_THROWS_AS(write_synthetic_crm(options(0, 1, false), dir.file("none.csv")), UsageError);
  CHECK_THROWS_AS(write_synthetic_crm(options(-5, 1, false), dir.file("none.xlsx")), UsageError);
  CHECK_THROWS_AS(write_synthetic_crm(options(10, 1, false, -1), dir.file("attrs.csv")), UsageError);
  CHECK_THROWS_AS(write_synthetic_crm(options(10, 1, false), dir.file("data.txt")), UsageError);
  try {
    write_synthetic_crm(options(kXlsxMaxCustomers + 1, 1, false), dir.file("big.xlsx"));
    FAIL("an xlsx beyond Excel's row limit was accepted");
  } catch (const UsageError& e) {
    CHECK_THAT(e.what(), Catch::Contains("1048575") && Catch::Contains("1,048,576 rows"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.file("big.xlsx")));
  CHECK_THROWS_AS(write_synthetic_crm(options(10, 1, false), dir.file("no/such/dir/x.csv")), PathError);
  CHECK_THROWS_AS(write_synthetic_crm(options(10, 1, false), dir.file("no/such/dir/x.xlsx")), PathError);
  CHECK(dir.entries() == 0);
}
