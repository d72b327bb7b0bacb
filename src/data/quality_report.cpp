#include "reinforcer/data/quality_report.hpp"

#include <stdexcept>

#include "reinforcer/data/customer_table.hpp"

namespace reinforcer {

void ColumnQuality::count_rejection(const std::string& reason) {
  for (auto& [r, n] : rejected_by_reason)
    if (r == reason) {
      ++n;
      return;
    }
  rejected_by_reason.emplace_back(reason, 1);
}

std::int64_t ColumnQuality::rejected(const std::string& reason) const {
  for (const auto& [r, n] : rejected_by_reason)
    if (r == reason) return n;
  return 0;
}

const ColumnQuality& QualityReport::column(const std::string& name) const {
  for (const auto& c : columns)
    if (c.column == name) return c;
  throw std::out_of_range("no column " + name + " in the quality report");
}

const RowWarning& QualityReport::warning(const std::string& kind) const {
  for (const auto& w : warnings)
    if (w.kind == kind) return w;
  throw std::out_of_range("no row warning " + kind);
}

std::vector<std::string> attribute_names(const CustomerTable& table) {
  std::vector<std::string> names;
  for (const Attribute& a : table.attributes) names.push_back(a.name);
  return names;
}

std::string education_name(std::uint8_t code) { return code == 0 ? std::string() : "B" + std::to_string(code); }

}  // namespace reinforcer
