#pragma once
// What ingest did to every cell: counts per column and class, with examples, and row-level
// warnings. Nothing is dropped without being counted here.
#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "reinforcer/data/civil_date.hpp"

namespace reinforcer {

enum class CellClass : std::uint8_t { empty, ok, normalised, aliased, repaired, negative, rejected };
inline constexpr std::size_t kCellClasses = 7;
inline constexpr std::array<const char*, kCellClasses> kCellClassNames = {
    "empty", "ok", "normalised", "aliased", "repaired", "negative", "rejected"};

struct CellExample {
  std::int64_t sheet_row = 0;
  std::string raw;
  std::string outcome;
};

struct ColumnQuality {
  std::string column;
  std::array<std::int64_t, kCellClasses> counts{};
  std::vector<std::pair<std::string, std::int64_t>> rejected_by_reason;  // first-seen order
  std::array<std::vector<CellExample>, kCellClasses> examples;           // first five each
  void count_rejection(const std::string& reason);
  std::int64_t rejected(const std::string& reason) const;
};

struct RowWarning {
  std::string kind;
  std::int64_t count = 0;
  std::vector<CellExample> examples;  // raw = what was found; outcome = what was done
};

// How a declared attribute's rare levels were pooled (docs/DATA.md).
struct AttributePooling {
  std::string column;
  std::int64_t levels_kept = 0;       // not counting "other"
  std::int64_t levels_pooled = 0;     // levels held by some dated customer but fewer than the threshold
  std::int64_t customers_pooled = 0;  // dated customers whose level was pooled
  std::int64_t threshold = 0;         // fewest dated customers a kept level holds
};

struct QualityReport {
  std::string input_path;
  bool csv = false;
  std::vector<ColumnQuality> columns;  // in kCrmColumnNames order, then the declared attributes
  std::vector<std::string> extra_columns;  // columns beyond the contract's that are not declared attributes
  std::vector<AttributePooling> attributes;  // one per declared attribute
  std::int64_t blank_rows = 0;
  std::int64_t customers = 0;
  std::vector<RowWarning> warnings;
  Day export_date = kNoDay;
  bool export_date_inferred = true;
  Day earliest_date = kNoDay;
  std::int64_t distinct_countries = 0;

  const ColumnQuality& column(const std::string& name) const;
  const RowWarning& warning(const std::string& kind) const;
};

inline constexpr std::size_t kExamplesPerClass = 5;

}  // namespace reinforcer
