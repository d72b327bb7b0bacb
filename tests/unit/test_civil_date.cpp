#include <catch2/catch.hpp>

#include "reinforcer/data/civil_date.hpp"

using namespace reinforcer;

TEST_CASE("civil dates round-trip through day numbers", "[date]") {
  CHECK(days_from_civil(1970, 1, 1) == 0);
  CHECK(days_from_civil(2000, 3, 1) == 11017);
  CHECK(days_from_civil(2022, 4, 28) == 19110);
  for (Day d = -800000; d < 800000; d += 997) {
    const CivilDate c = civil_from_days(d);
    REQUIRE(days_from_civil(c.year, c.month, c.day) == d);
  }
  CHECK(format_day(19110) == "2022-04-28");
  CHECK(format_day(kNoDay).empty());
}

TEST_CASE("Excel serials: day 0 is 1899-12-30, fractions truncated", "[date]") {
  CHECK(format_day(day_from_excel_serial(44678.0)) == "2022-04-27");
  CHECK(format_day(day_from_excel_serial(44678.99)) == "2022-04-27");
  CHECK(format_day(day_from_excel_serial(44679.0)) == "2022-04-28");
  CHECK(format_day(day_from_excel_serial(1.0)) == "1899-12-31");
  CHECK(format_day(day_from_excel_serial(61.0)) == "1900-03-01");
}

TEST_CASE("date text: the contract's shapes and impossible dates", "[date]") {
  auto p = parse_date_text("27.12.2021");
  CHECK(p.shape == DateTextShape::day_first);
  CHECK((p.real && p.year == 2021 && p.month == 12 && p.day == 27));
  p = parse_date_text("6.1.2022");
  CHECK((p.shape == DateTextShape::day_first && p.day == 6 && p.month == 1));
  CHECK(parse_date_text("2021-12-27").shape == DateTextShape::iso_padded);
  CHECK(parse_date_text("2021-1-7").shape == DateTextShape::iso_unpadded);
  p = parse_date_text("2021-13-12");
  CHECK((p.shape == DateTextShape::iso_padded && !p.real));
  p = parse_date_text("0000-00-00");
  CHECK((p.shape == DateTextShape::iso_padded && !p.real));
  CHECK(!parse_date_text("2021-02-29").real);
  CHECK(parse_date_text("2024-02-29").real);
  CHECK(!parse_date_text("31.04.2021").real);
  for (const char* bad : {"", "No", "44678", "2021-12-27 10:00", "27/12/2021", "2021-12", "27.12.21", "tbd"})
    CHECK(parse_date_text(bad).shape == DateTextShape::not_a_date);
  CHECK(parse_iso_day("2022-04-28") == 19110);
  CHECK(!parse_iso_day("28.04.2022"));
  CHECK(!parse_iso_day("2022-02-30"));
}
