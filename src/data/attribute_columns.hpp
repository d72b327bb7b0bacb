#pragma once
// Ingest's part for declared attributes: resolving the names against the header, keeping
// each row's raw cell, then classifying, counting and pooling once the customers are built.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/data/quality_report.hpp"
#include "reinforcer/data/raw_table.hpp"

namespace reinforcer {

class AttributeColumns {
 public:
  // UsageError naming `option` when a declared name is not an extra column of `header` (listing
  // those available) or is a contract column; `contract` marks the header's contract columns.
  AttributeColumns(const std::vector<std::string>& declared, const std::vector<std::string>& header,
                   const std::vector<bool>& contract, const std::string& option, const std::string& path);
  bool empty() const { return at_.empty(); }
  // Whether header column h is a declared attribute.
  bool declared(std::size_t h) const;
  void read_row(const RawRow& row);
  // Counts every kept cell in `rep` (one column each, after the contract's), pools rare levels
  // and sets table.attributes; customers are the rows read, in order.
  void finish(CustomerTable& table, QualityReport& rep);

 private:
  struct Column {
    std::string name;
    std::size_t header_at = 0;
    std::unordered_map<std::string, std::int32_t> raw_id;
    std::vector<std::string> raw;              // distinct raw texts, in order of first appearance
    std::vector<std::int64_t> raw_count;
    std::vector<bool> raw_error;               // the text came from an error cell
    std::vector<std::int32_t> cell;            // per row: index into raw, -1 blank
  };
  void finish_column(Column& col, CustomerTable& table, QualityReport& rep) const;
  std::vector<Column> at_;
};

}  // namespace reinforcer
