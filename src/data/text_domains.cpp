#include "text_domains.hpp"

#include <map>
#include <unordered_map>

#include "reinforcer/data/customer_table.hpp"

namespace reinforcer {

std::vector<TextOutcome> classify_countries(const std::vector<std::string>& raw,
                                            const std::vector<std::int64_t>& counts,
                                            const CountryAliases& aliases, std::vector<std::string>& countries) {
  // A name's canonical spelling: its most frequent trimmed spelling, ties to the first seen.
  struct Spelling {
    std::int64_t count = 0;
    std::size_t first = 0;
  };
  std::unordered_map<std::string, std::map<std::string, Spelling>> by_key;  // key -> spelling -> stats
  std::vector<const CountryAlias*> alias_of(raw.size(), nullptr);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::string key = clean_spacing(raw[i], true);
    alias_of[i] = aliases.find(key);
    if (alias_of[i]) continue;
    auto [it, added] = by_key[key].try_emplace(clean_spacing(raw[i], false), Spelling{0, i});
    it->second.count += counts[i];
  }
  std::unordered_map<std::string, std::string> canonical;
  for (const auto& [key, spellings] : by_key) {
    const std::pair<const std::string, Spelling>* best = nullptr;
    for (const auto& s : spellings)
      if (!best || s.second.count > best->second.count ||
          (s.second.count == best->second.count && s.second.first < best->second.first))
        best = &s;
    canonical[key] = best->first;
  }
  std::unordered_map<std::string, std::int32_t> index;
  auto code_of = [&](const std::string& name) {
    auto [it, added] = index.try_emplace(name, static_cast<std::int32_t>(countries.size()));
    if (added) countries.push_back(name);
    return it->second;
  };
  std::vector<TextOutcome> out(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    TextOutcome& o = out[i];
    if (const CountryAlias* a = alias_of[i]) {
      if (a->rejected) {
        o.cls = CellClass::rejected;
        o.reason = a->value;
        o.outcome = "rejected: " + a->value;
        continue;
      }
      // An alias target takes its group's canonical spelling when the file has one.
      auto c = canonical.find(clean_spacing(a->value, true));
      const std::string name = c == canonical.end() ? a->value : c->second;
      o.cls = CellClass::aliased;
      o.code = code_of(name);
      o.outcome = name;
      continue;
    }
    const std::string& name = canonical[clean_spacing(raw[i], true)];
    o.cls = raw[i] == name ? CellClass::ok : CellClass::normalised;
    o.code = code_of(name);
    o.outcome = name;
  }
  return out;
}

std::vector<TextOutcome> classify_domain(CrmColumn column, const std::vector<std::string>& raw) {
  std::vector<std::string> domain;  // index = code
  if (column == CrmColumn::education) {
    domain.push_back("");
    for (int b = 1; b <= kEducationLevels; ++b) domain.push_back(education_name(static_cast<std::uint8_t>(b)));
  } else if (column == CrmColumn::status) {
    domain.assign(kStatusValues.begin(), kStatusValues.end());
  } else {
    domain.assign(kStageValues.begin(), kStageValues.end());
  }
  std::unordered_map<std::string, std::int32_t> by_key;
  for (std::size_t k = 1; k < domain.size(); ++k) by_key[clean_spacing(domain[k], true)] = static_cast<std::int32_t>(k);
  std::vector<TextOutcome> out(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto it = by_key.find(clean_spacing(raw[i], true));
    TextOutcome& o = out[i];
    if (it == by_key.end()) {
      o.cls = CellClass::rejected;
      o.reason = "unknown value";
      o.outcome = "rejected: unknown value";
      continue;
    }
    const std::string& name = domain[static_cast<std::size_t>(it->second)];
    o.cls = raw[i] == name ? CellClass::ok : CellClass::normalised;
    o.code = it->second;
    o.outcome = name;
  }
  return out;
}

}  // namespace reinforcer
