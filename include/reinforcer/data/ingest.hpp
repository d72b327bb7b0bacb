#pragma once
// Reads a CRM export (xlsx or CSV) by the rules of CONTRACT.md into customers and a
// quality report.
#include <optional>
#include <string>
#include <vector>

#include "reinforcer/data/country_aliases.hpp"
#include "reinforcer/data/customer_table.hpp"
#include "reinforcer/data/quality_report.hpp"

namespace reinforcer {

struct IngestOptions {
  std::optional<Day> export_date;                  // inferred from the data when absent
  Day earliest_date = days_from_civil(2000, 1, 1);
  CountryAliases aliases = CountryAliases::shipped();
  std::vector<std::string> attributes;             // extra columns kept as decision-time attributes
  std::string attributes_option = "--attributes";  // names them in messages
};

struct IngestResult {
  CustomerTable table;
  QualityReport report;
};

IngestResult ingest_crm(const std::string& path, const IngestOptions& options);

}  // namespace reinforcer
