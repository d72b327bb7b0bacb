// Date text as the contract reads it. Besides not crashing: a text read as a real date
// names a day whose own spelling reads back as the same day.
#include <cstdlib>
#include <string_view>

#include "reinforcer/data/civil_date.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const reinforcer::ParsedDateText p = reinforcer::parse_date_text(text);
  if (p.shape != reinforcer::DateTextShape::not_a_date && p.real) {
    const reinforcer::Day day = reinforcer::days_from_civil(p.year, p.month, p.day);
    const reinforcer::ParsedDateText back = reinforcer::parse_date_text(reinforcer::format_day(day));
    if (!back.real || reinforcer::days_from_civil(back.year, back.month, back.day) != day) std::abort();
  }
  return 0;
}
