#include "reinforcer/data/civil_date.hpp"

#include <cstdio>

namespace reinforcer {

// Howard Hinnant's days_from_civil / civil_from_days algorithms.
Day days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = static_cast<unsigned>((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<Day>(era * 146097 + static_cast<int>(doe) - 719468);
}

CivilDate civil_from_days(Day z0) {
  const long long z = static_cast<long long>(z0) + 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long y = static_cast<long long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

bool is_real_date(int y, int m, int d) {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int limit = (m == 2 && leap) ? 29 : kDays[m - 1];
  return d <= limit;
}

void format_day_to(Day d, char* out) {
  const CivilDate c = civil_from_days(d);
  int y = c.year < 0 ? 0 : (c.year > 9999 ? 9999 : c.year);
  out[0] = static_cast<char>('0' + y / 1000);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[4] = '-';
  out[5] = static_cast<char>('0' + c.month / 10);
  out[6] = static_cast<char>('0' + c.month % 10);
  out[7] = '-';
  out[8] = static_cast<char>('0' + c.day / 10);
  out[9] = static_cast<char>('0' + c.day % 10);
}

std::string format_day(Day d) {
  if (d == kNoDay) return {};
  const CivilDate c = civil_from_days(d);
  if (c.year < 0 || c.year > 9999) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%d-%02d-%02d", c.year, c.month, c.day);
    return buf;
  }
  std::string s(10, ' ');
  format_day_to(d, s.data());
  return s;
}

namespace {
// Reads 1..max_digits digits; returns the count read (0 if none).
std::size_t read_digits(std::string_view s, std::size_t pos, std::size_t max_digits, int& value) {
  std::size_t n = 0;
  value = 0;
  while (pos + n < s.size() && n < max_digits && s[pos + n] >= '0' && s[pos + n] <= '9') {
    value = value * 10 + (s[pos + n] - '0');
    ++n;
  }
  return n;
}
}  // namespace

ParsedDateText parse_date_text(std::string_view s) {
  ParsedDateText r;
  int a = 0, b = 0, c = 0;
  const std::size_t na = read_digits(s, 0, 4, a);
  if (na == 0 || na >= s.size()) return r;
  const char sep = s[na];
  if (sep == '.' && na <= 2) {  // d.m.yyyy
    const std::size_t nb = read_digits(s, na + 1, 2, b);
    if (nb == 0 || na + 1 + nb >= s.size() || s[na + 1 + nb] != '.') return r;
    const std::size_t nc = read_digits(s, na + 2 + nb, 4, c);
    if (nc != 4 || na + 2 + nb + nc != s.size()) return r;
    r.shape = DateTextShape::day_first;
    r.day = a, r.month = b, r.year = c;
  } else if (sep == '-' && na == 4) {  // yyyy-m-d
    const std::size_t nb = read_digits(s, 5, 2, b);
    if (nb == 0 || 5 + nb >= s.size() || s[5 + nb] != '-') return r;
    const std::size_t nc = read_digits(s, 6 + nb, 2, c);
    if (nc == 0 || 6 + nb + nc != s.size()) return r;
    r.shape = (nb == 2 && nc == 2) ? DateTextShape::iso_padded : DateTextShape::iso_unpadded;
    r.year = a, r.month = b, r.day = c;
  } else {
    return r;
  }
  r.real = is_real_date(r.year, r.month, r.day);
  return r;
}

std::optional<Day> parse_iso_day(std::string_view text) {
  const ParsedDateText p = parse_date_text(text);
  if (p.shape != DateTextShape::iso_padded || !p.real) return std::nullopt;
  return days_from_civil(p.year, p.month, p.day);
}

}  // namespace reinforcer
