#include "reinforcer/data/country_aliases.hpp"

#include <cctype>
#include <cstdio>

#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"

namespace reinforcer {

extern const char* const kShippedCountryAliasesCsv;  // generated from configs/country_aliases.csv

std::string clean_spacing(const std::string& s, bool fold) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (unsigned char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(fold ? std::tolower(c) : c);
  }
  return out;
}

CountryAliases CountryAliases::shipped() { return from_csv_text(kShippedCountryAliasesCsv, "shipped country aliases"); }

CountryAliases CountryAliases::from_file(const std::string& path) {
  require_readable_file(path);
  std::string data;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw PathError(path + ": cannot open the alias table");
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  std::fclose(f);
  return from_csv_text(data, path);
}

CountryAliases CountryAliases::from_csv_text(const std::string& text, const std::string& origin) {
  CountryAliases a;
  try {
    auto reader = open_csv_text(text, origin);
    const auto& h = reader->header();
    if (h.size() != 2 || clean_spacing(h[0], true) != "raw" || clean_spacing(h[1], true) != "country")
      throw UsageError(origin + ": the alias table's header must be 'raw,country'");
    RawRow row;
    while (reader->next(row)) {
      const std::string raw = clean_spacing(row.cells[0].text, true);
      const std::string country = clean_spacing(row.cells[1].text, false);
      if (raw.empty() && country.empty()) continue;
      if (raw.empty() || country.empty() || country == "!")
        throw UsageError(origin + ": row " + std::to_string(row.sheet_row) +
                         ": both 'raw' and 'country' must be given (country '!reason' rejects)");
      CountryAlias alias;
      alias.rejected = country[0] == '!';
      alias.value = alias.rejected ? clean_spacing(country.substr(1), false) : country;
      if (!a.table_.emplace(raw, alias).second)
        throw UsageError(origin + ": row " + std::to_string(row.sheet_row) + ": '" + raw + "' is listed twice");
    }
  } catch (const InputError& e) {
    throw UsageError(e.what());
  }
  return a;
}

const CountryAlias* CountryAliases::find(const std::string& folded_key) const {
  auto it = table_.find(folded_key);
  return it == table_.end() ? nullptr : &it->second;
}

}  // namespace reinforcer
