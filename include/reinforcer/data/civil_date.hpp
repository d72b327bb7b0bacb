#pragma once
// Calendar dates as whole days since 1970-01-01 (proleptic Gregorian), the unit every
// date in the customer table and the HDF5 files uses.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reinforcer {

using Day = std::int32_t;
inline constexpr Day kNoDay = INT32_MIN;  // a missing date

struct CivilDate {
  int year;
  int month;
  int day;
};

Day days_from_civil(int year, int month, int day);
CivilDate civil_from_days(Day d);
bool is_real_date(int year, int month, int day);

// Excel's serial day 0 is 1899-12-30 (the 1900 leap-year bug absorbed).
inline constexpr Day kExcelEpochOffset = 25569;  // serial of 1970-01-01
inline constexpr double kLastExcelSerial = 2958465;  // 9999-12-31
// serial must lie in [1, kLastExcelSerial + 1): callers check (the cast of a larger one overflows).
inline Day day_from_excel_serial(double serial) {
  return static_cast<Day>(static_cast<std::int64_t>(serial) - kExcelEpochOffset);
}

// "yyyy-mm-dd"; "" for kNoDay.
std::string format_day(Day d);
// Writes exactly 10 characters yyyy-mm-dd (years 0..9999) into out.
void format_day_to(Day d, char* out);

// Date text as the contract reads it: "d.m.yyyy" (day first) or "yyyy-m-d", no time part.
enum class DateTextShape { not_a_date, day_first, iso_padded, iso_unpadded };
struct ParsedDateText {
  DateTextShape shape = DateTextShape::not_a_date;
  int year = 0, month = 0, day = 0;
  bool real = false;  // the fields name a real calendar day
};
ParsedDateText parse_date_text(std::string_view trimmed);

// Parses "yyyy-mm-dd" for options (--export-date); nullopt if malformed or not a real day.
std::optional<Day> parse_iso_day(std::string_view text);

}  // namespace reinforcer
