#include <catch2/catch.hpp>

#include "reinforcer/data/ingest.hpp"
#include "reinforcer/core/errors.hpp"
#include "test_support.hpp"

using namespace reinforcer;

namespace {
std::int64_t n(const IngestResult& r, const std::string& col, CellClass c) {
  return r.report.column(col).counts[static_cast<std::size_t>(c)];
}
// ID,Country,Education,First Contact,Last Contact,Status,Stage,First Call,Demo,Survey,Signup,AM,Subscribed
const std::string kRows =
    "1,USA,B27,2021-03-01,2021-03-05,1st message,,2021-03-10,,,,,\n"
    "2,usa,b3,2021-04-01,31.03.2021,2nd message,interested,,,,No,,\n"
    "3, USA ,,2021-05-01,,,,,,,,,\n"
    "4,California,B1,2021-06-01,2021-06-02,,,2021-05-20,,,,,\n"
    "5,CA,B2,13.13.2021,,,,2021-06-10,,,2021-06-20,2021-07-01,2021-06-30\n"
    "6,Canada,B40,2021-07-01,2031-01-01,3rd message,subscribed already,,,,,,\n"
    "7,,,,,,,,,,,,\n"
    "8,Germany,,,,,,2021-08-01,,,,,\n"
    ",,,,,,,,,,,,\n";
}  // namespace

TEST_CASE("ingest: every cell class by the contract's rules (CSV)", "[ingest]") {
  test::TempDir dir;
  const auto r = ingest_crm(dir.write("crm.csv", test::kCrmHeader + kRows), IngestOptions{});
  CHECK(r.report.customers == 8);
  CHECK(r.report.blank_rows == 1);
  // Export date: latest First Contact stored as a date (2021-07-01) + 365 bounds the latest step.
  CHECK(format_day(r.report.export_date) == "2021-08-01");
  CHECK(n(r, "Country", CellClass::ok) == 3);          // USA, Canada, Germany
  CHECK(n(r, "Country", CellClass::normalised) == 2);  // usa, " USA "
  CHECK(n(r, "Country", CellClass::aliased) == 1);     // California -> USA
  CHECK(n(r, "Country", CellClass::rejected) == 1);    // CA
  CHECK(r.report.column("Country").rejected("ambiguous (Canada or California)") == 1);
  CHECK(n(r, "Country", CellClass::empty) == 1);
  CHECK(n(r, "Education", CellClass::normalised) == 1);  // b3
  CHECK(r.report.column("Education").rejected("unknown value") == 1);  // B40
  CHECK(n(r, "Last Contact", CellClass::repaired) == 1);  // 31.03.2021
  CHECK(r.report.column("Last Contact").rejected("out of range") == 1);  // 2031
  CHECK(r.report.column("First Contact").rejected("impossible date") == 1);
  CHECK(n(r, "Did sign up to the platform", CellClass::negative) == 1);
  CHECK(r.report.distinct_countries == 3);
  const auto& cs = r.table.customers;
  CHECK(r.table.countries[static_cast<std::size_t>(cs[3].country)] == "USA");
  CHECK(cs[4].country == -1);
  CHECK(cs[1].platform_signup_declined);
  CHECK(cs[1].education == 3);
  // Label: a Subscribed date or Stage "subscribed already".
  CHECK(cs[4].subscribed);
  CHECK(cs[5].subscribed);
  CHECK_FALSE(cs[0].subscribed);
  // Cohorts and decision time.
  CHECK(cs[0].cohort == Cohort::outbound);
  CHECK(cs[0].t0 == days_from_civil(2021, 3, 1));
  CHECK(cs[4].cohort == Cohort::inbound);  // First Contact impossible: t0 is its earliest step
  CHECK(cs[4].t0 == days_from_civil(2021, 6, 10));
  CHECK(cs[6].cohort == Cohort::undated);
  CHECK(cs[6].t0 == kNoDay);
  // Row warnings: a step before First Contact (row 5); Account Manager after subscribing (row 6).
  CHECK(r.report.warning("pipeline step dated before first contact").count == 1);
  CHECK(r.report.warning("pipeline step dated before first contact").examples.at(0).sheet_row == 5);
  CHECK(r.report.warning("account manager assigned on or after subscription").count == 1);
  CHECK(r.report.warning("last contact before first contact").count == 1);  // row 3: 31.03 < 04-01
  // Examples keep sheet row and raw text.
  const auto& ex = r.report.column("Country").examples[static_cast<std::size_t>(CellClass::normalised)];
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].sheet_row == 3);
  CHECK(ex[0].raw == "usa");
  CHECK(ex[0].outcome == "USA");
}

TEST_CASE("ingest: the export date option overrides inference; earliest date rejects", "[ingest]") {
  test::TempDir dir;
  IngestOptions o;
  o.export_date = days_from_civil(2021, 5, 15);
  o.earliest_date = days_from_civil(2021, 3, 2);
  const auto r = ingest_crm(dir.write("crm.csv", test::kCrmHeader + kRows), o);
  CHECK_FALSE(r.report.export_date_inferred);
  // 2021-03-01 is before the earliest date; June/July dates are after the export date.
  CHECK(r.report.column("First Contact").rejected("out of range") == 3);
}

TEST_CASE("ingest: headers match ignoring case and spaces", "[ingest]") {
  test::TempDir dir;
  const std::string header =
      "id,  COUNTRY ,Education,First  Contact,Last Contact,Status,Stage,First Call,Signed up for a Demo,"
      "Filled in customer survey,Did sign up to the platform,Account Manager assigned,Subscribed,Notes\n";
  const auto r = ingest_crm(dir.write("h.csv", header + "1,USA,B1,2021-01-01,,,,2021-01-05,2021-01-06,,,,,hello\n"),
                            IngestOptions{});
  CHECK(r.table.customers.at(0).milestone[static_cast<std::size_t>(Milestone::demo)] == days_from_civil(2021, 1, 6));
  CHECK(r.report.extra_columns == std::vector<std::string>{"Notes"});
}

TEST_CASE("ingest: bad content is refused with one line naming where", "[ingest]") {
  test::TempDir dir;
  CHECK_THROWS_WITH(ingest_crm(dir.write("m.csv", "ID,Country,Education\n1,USA,B1\n"), IngestOptions{}),
                    Catch::Contains("missing required column 'First Contact'"));
  CHECK_THROWS_WITH(ingest_crm(dir.write("d.csv", test::kCrmHeader + "7,USA,,2021-01-01,,,,,,,,,\n" +
                                                      "7,UK,,2021-01-02,,,,,,,,,\n"),
                               IngestOptions{}),
                    Catch::Contains("ID 7 appears twice, in rows 2 and 3"));
  CHECK_THROWS_WITH(ingest_crm(dir.write("f.csv", test::kCrmHeader + "1.5,USA,,2021-01-01,,,,,,,,,\n"), IngestOptions{}),
                    Catch::Contains("row 2, column ID: '1.5' is not a whole number"));
  CHECK_THROWS_WITH(ingest_crm(dir.write("h.csv", test::kCrmHeader), IngestOptions{}),
                    Catch::Contains("no customer rows"));
  CHECK_THROWS_WITH(ingest_crm(dir.write("e.csv", ""), IngestOptions{}), Catch::Contains("empty"));
}

TEST_CASE("ingest: a user alias table replaces the shipped one", "[ingest]") {
  test::TempDir dir;
  IngestOptions o;
  o.aliases = CountryAliases::from_csv_text("raw,country\nCA,Canada\nUSA,!not allowed here\n", "test aliases");
  const auto r = ingest_crm(dir.write("crm.csv", test::kCrmHeader + kRows), o);
  CHECK(r.report.column("Country").rejected("not allowed here") == 3);  // USA, usa, " USA "
  CHECK(n(r, "Country", CellClass::aliased) == 1);  // CA -> Canada; California is no alias now
  CHECK_THROWS_AS(CountryAliases::from_csv_text("from,to\nx,y\n", "bad"), UsageError);
}

TEST_CASE("ingest: a cell longer than the limit is rejected as too long, and only an excerpt is kept", "[ingest]") {
  test::TempDir dir;
  const std::string huge(2'000'000, 'x');
  const std::string limit(kMaxCellChars, 'y');  // at the limit: kept
  const IngestResult r = ingest_crm(dir.write("l.csv", test::kCrmHeader +
                                                          "1," + huge + ",B1,2021-03-01,,," + huge + ",,,,,,\n" +
                                                          "2," + limit + ",B2,2021-03-02,,,," + huge + ",,,,,\n" +
                                                          "3,USA,B3,2021-03-03,,,,2021-03-04,,,,,\n"),
                                    IngestOptions{});
  REQUIRE(r.table.customers.size() == 3);
  CHECK(n(r, "Country", CellClass::rejected) == 1);
  CHECK(n(r, "Stage", CellClass::rejected) == 1);
  CHECK(n(r, "First Call", CellClass::rejected) == 1);
  CHECK(r.report.column("Country").rejected_by_reason == std::vector<std::pair<std::string, std::int64_t>>{{"too long", 1}});
  CHECK(r.report.column("First Call").rejected_by_reason == std::vector<std::pair<std::string, std::int64_t>>{{"too long", 1}});
  // The long country is no country; the one at the limit is.
  CHECK(r.table.countries.size() == 2);
  CHECK(r.table.customers[0].country < 0);
  for (const auto& c : r.report.columns)
    for (const auto& examples : c.examples)
      for (const auto& e : examples) CHECK(e.raw.size() < 100 + 40);
  CHECK(cell_excerpt(huge) == std::string(40, 'x') + "... (2,000,000 characters)");
  CHECK(cell_excerpt(limit) == limit);
  CHECK_THROWS_WITH(ingest_crm(dir.write("i.csv", test::kCrmHeader + huge + ",USA,,2021-01-01,,,,,,,,,\n"), IngestOptions{}),
                    Catch::Contains("column ID: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (2,000,000 characters)' is not"));
}
