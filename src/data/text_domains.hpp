#pragma once
// Classification of the text columns (Country, Education, Status, Stage), done once per
// distinct raw spelling rather than once per cell.
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/data/country_aliases.hpp"
#include "reinforcer/data/crm_schema.hpp"
#include "reinforcer/data/quality_report.hpp"

namespace reinforcer {

struct TextOutcome {
  CellClass cls = CellClass::empty;
  std::int32_t code = -1;  // country index or domain code; -1 when rejected
  std::string outcome;     // what the report shows
  std::string reason;      // for rejected cells
};

// raw: distinct raw spellings in order of first appearance; counts: how often each occurs.
// Fills `countries` with the cleaned names the outcomes' codes index.
std::vector<TextOutcome> classify_countries(const std::vector<std::string>& raw,
                                            const std::vector<std::int64_t>& counts,
                                            const CountryAliases& aliases, std::vector<std::string>& countries);

// Education (B1..B30), Status or Stage.
std::vector<TextOutcome> classify_domain(CrmColumn column, const std::vector<std::string>& raw);

}  // namespace reinforcer
