#include "attribute_columns.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/attributes.hpp"
#include "reinforcer/data/country_aliases.hpp"
#include "text_domains.hpp"

namespace reinforcer {

std::int64_t pooling_threshold(std::int64_t dated_customers) {
  const auto share = static_cast<std::int64_t>(std::ceil(kPoolShare * static_cast<double>(dated_customers)));
  return std::max(kPoolMinCustomers, share);
}

std::vector<std::string> parse_attribute_list(const std::string& text, const std::string& option) {
  std::vector<std::string> names, keys;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    const std::string name = clean_spacing(text.substr(pos, comma - pos), false);
    pos = comma + 1;
    if (name.empty())
      throw UsageError(option + ": item " + std::to_string(names.size() + 1) + " of '" + text +
                       "' is empty; give column names separated by single commas, e.g. \"Col A,Col B\"");
    const std::string key = clean_spacing(name, true);
    if (std::find(keys.begin(), keys.end(), key) != keys.end())
      throw UsageError(option + ": '" + name + "' is given twice; name each attribute once");
    names.push_back(name), keys.push_back(key);
  }
  return names;
}

namespace {
bool blank(const RawCell& c) {
  if (c.kind == RawKind::empty) return true;
  return c.kind == RawKind::text && clean_spacing(c.text, false).empty();
}
}  // namespace

AttributeColumns::AttributeColumns(const std::vector<std::string>& declared, const std::vector<std::string>& header,
                                   const std::vector<bool>& contract, const std::string& option,
                                   const std::string& path) {
  std::string extras;
  for (std::size_t h = 0; h < header.size(); ++h)
    if (!contract[h] && !clean_spacing(header[h], false).empty())
      extras += (extras.empty() ? "'" : ", '") + clean_spacing(header[h], false) + "'";
  for (const std::string& name : declared) {
    const std::string key = clean_spacing(name, true);
    for (std::size_t c = 0; c < kCrmColumns; ++c) {
      if (clean_spacing(std::string(kCrmColumnNames[c]), true) != key) continue;
      const auto col = static_cast<CrmColumn>(c);
      std::string why;
      if (is_date_column(col) || col == CrmColumn::status || col == CrmColumn::stage)
        why = "it is a contract column recorded after the first contact, so it is not known at decision time";
      else if (col == CrmColumn::country || col == CrmColumn::education)
        why = "it is already the built-in feature '" + key + "' (use it in --features)";
      else
        why = "it identifies the customer rather than describing them";
      throw UsageError(option + ": '" + name + "' cannot be an attribute: " + why +
                       "; declare extra columns only" + (extras.empty() ? "" : " (" + extras + ")"));
    }
    std::size_t found = header.size();
    for (std::size_t h = 0; h < header.size() && found == header.size(); ++h)
      if (!contract[h] && clean_spacing(header[h], true) == key) found = h;
    if (found == header.size())
      throw UsageError(option + ": '" + name + "' is not a column of " + path + "; " +
                       (extras.empty() ? std::string("the export has no extra columns")
                                       : "its extra columns are " + extras));
    Column col;
    col.name = clean_spacing(header[found], false);
    col.header_at = found;
    at_.push_back(std::move(col));
  }
}

bool AttributeColumns::declared(std::size_t h) const {
  return std::any_of(at_.begin(), at_.end(), [h](const Column& c) { return c.header_at == h; });
}

void AttributeColumns::read_row(const RawRow& row) {
  for (Column& col : at_) {
    const RawCell& c = row.cells[col.header_at];
    if (blank(c)) {
      col.cell.push_back(-1);
      continue;
    }
    auto [it, added] = col.raw_id.try_emplace(c.text, static_cast<std::int32_t>(col.raw.size()));
    if (added) col.raw.push_back(c.text), col.raw_count.push_back(0), col.raw_error.push_back(c.kind == RawKind::error);
    ++col.raw_count[static_cast<std::size_t>(it->second)];
    col.cell.push_back(it->second);
  }
}

void AttributeColumns::finish(CustomerTable& table, QualityReport& rep) {
  for (Column& col : at_) finish_column(col, table, rep);
}

void AttributeColumns::finish_column(Column& col, CustomerTable& table, QualityReport& rep) const {
  // Spellings grouped like countries (trimmed, inner spaces collapsed, case folded; the most
  // frequent spelling names the group), without an alias table.
  std::vector<std::string> names;
  std::vector<TextOutcome> outcome = classify_countries(col.raw, col.raw_count, CountryAliases(), names);
  for (std::size_t i = 0; i < col.raw.size(); ++i) {
    TextOutcome& o = outcome[i];
    const char* reason = col.raw_error[i] ? "error cell"
                         : clean_spacing(col.raw[i], false).size() > kMaxAttributeCellChars ? "too long"
                                                                                         : nullptr;
    if (!reason) continue;
    o.cls = CellClass::rejected, o.code = -1, o.reason = reason, o.outcome = std::string("rejected: ") + reason;
  }
  // Pooling counts dated customers only: they are the ones segments are fitted on.
  const auto& cs = table.customers;
  std::int64_t dated = 0;
  std::vector<std::int64_t> held(names.size(), 0);
  for (std::size_t r = 0; r < cs.size(); ++r) {
    if (cs[r].t0 == kNoDay) continue;
    ++dated;
    if (col.cell[r] >= 0 && outcome[static_cast<std::size_t>(col.cell[r])].code >= 0)
      ++held[static_cast<std::size_t>(outcome[static_cast<std::size_t>(col.cell[r])].code)];
  }
  const std::int64_t threshold = pooling_threshold(dated);
  std::map<std::string, std::int32_t> final_level;  // the kept names, sorted
  for (std::size_t k = 0; k < names.size(); ++k)
    if (held[k] >= threshold) final_level[names[k]] = 0;
  bool pooled_any = false;
  AttributePooling pooling{col.name, 0, 0, 0, threshold};
  for (std::size_t k = 0; k < names.size(); ++k)
    if (held[k] < threshold && held[k] > 0) pooled_any = true, ++pooling.levels_pooled, pooling.customers_pooled += held[k];
  // Levels seen only among undated customers are pooled too: no fitting customer holds them.
  for (std::size_t r = 0; r < cs.size(); ++r) {
    const std::int32_t id = col.cell[r];
    if (id >= 0 && outcome[static_cast<std::size_t>(id)].code >= 0 &&
        held[static_cast<std::size_t>(outcome[static_cast<std::size_t>(id)].code)] < threshold)
      pooled_any = true;
  }
  if (pooled_any) final_level[kPooledLevel] = 0;
  Attribute attr;
  attr.name = col.name;
  for (auto& [name, code] : final_level) code = static_cast<std::int32_t>(attr.levels.size()), attr.levels.push_back(name);
  std::vector<std::int32_t> level_of(names.size());
  for (std::size_t k = 0; k < names.size(); ++k) {
    auto it = final_level.find(held[k] >= threshold ? names[k] : std::string(kPooledLevel));
    level_of[k] = it == final_level.end() ? -1 : it->second;
  }
  pooling.levels_kept = static_cast<std::int64_t>(final_level.size()) - (pooled_any ? 1 : 0);

  ColumnQuality q{col.name, {}, {}, {}};
  attr.code.resize(cs.size(), -1);
  for (std::size_t r = 0; r < cs.size(); ++r) {
    const std::int32_t id = col.cell[r];
    CellClass cls = CellClass::empty;
    const TextOutcome* o = id >= 0 ? &outcome[static_cast<std::size_t>(id)] : nullptr;
    if (o) {
      cls = o->cls;
      if (o->code >= 0) attr.code[r] = level_of[static_cast<std::size_t>(o->code)];
    }
    const auto k = static_cast<std::size_t>(cls);
    ++q.counts[k];
    if (cls == CellClass::rejected) q.count_rejection(o->reason);
    if (q.examples[k].size() < kExamplesPerClass) {
      std::string shown = o ? o->outcome : "";
      if (o && o->code >= 0 && attr.code[r] >= 0 && attr.levels[static_cast<std::size_t>(attr.code[r])] != o->outcome)
        shown += " (pooled into " + std::string(kPooledLevel) + ")";
      q.examples[k].push_back(CellExample{cs[r].sheet_row, o ? cell_excerpt(col.raw[static_cast<std::size_t>(id)]) : "", shown});
    }
  }
  rep.columns.push_back(std::move(q));
  rep.attributes.push_back(pooling);
  table.attributes.push_back(std::move(attr));
}

}  // namespace reinforcer
