#pragma once
// Decision-time attributes: extra columns of the export that the user declares known before
// contact (`prepare --attributes`). Their cells are classified like the contract's columns
// and their rare levels pooled (docs/DATA.md, "Declared attributes").
#include <cstdint>
#include <string>
#include <vector>

#include "reinforcer/data/crm_schema.hpp"

namespace reinforcer {

// Cells longer than this (after trimming) are rejected as "too long": a category, not prose.
inline constexpr std::size_t kMaxAttributeCellChars = kMaxCellChars;
// A level held by fewer than max(kPoolMinCustomers, kPoolShare x dated customers) dated
// customers is pooled into "other".
inline constexpr std::int64_t kPoolMinCustomers = 10;
inline constexpr double kPoolShare = 0.005;
std::int64_t pooling_threshold(std::int64_t dated_customers);

// "Col A, Col B" -> {"Col A", "Col B"} (items trimmed); UsageError naming `option` for an
// empty item or a repeat (compared ignoring case and spacing, as headers are matched).
std::vector<std::string> parse_attribute_list(const std::string& text, const std::string& option = "--attributes");

}  // namespace reinforcer
