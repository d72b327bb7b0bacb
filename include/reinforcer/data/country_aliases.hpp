#pragma once
// The user-editable country alias table (configs/country_aliases.csv): raw spelling ->
// country, or "!reason" to reject the value with that reason.
#include <string>
#include <unordered_map>

namespace reinforcer {

struct CountryAlias {
  bool rejected = false;
  std::string value;  // the country, or the rejection reason
};

class CountryAliases {
 public:
  // The table shipped with the tool (compiled in from configs/country_aliases.csv).
  static CountryAliases shipped();
  // Throws PathError if the file cannot be read, UsageError if its content is malformed.
  static CountryAliases from_file(const std::string& path);
  static CountryAliases from_csv_text(const std::string& text, const std::string& origin);

  // Looks up a raw spelling, trimmed and compared case-insensitively; nullptr if absent.
  const CountryAlias* find(const std::string& folded_key) const;
  std::size_t size() const { return table_.size(); }

 private:
  std::unordered_map<std::string, CountryAlias> table_;
};

// Trim, collapse inner runs of spaces to one; fold case when `fold` is set.
std::string clean_spacing(const std::string& s, bool fold);

}  // namespace reinforcer
