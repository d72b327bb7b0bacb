#pragma once
// prepared.h5: the cleaned customers with their splits and folds, the quality report and
// the split summaries (schema: docs/HDF5_SCHEMA.md).
#include <string>
#include <string_view>
#include <vector>

#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/split.hpp"
#include "reinforcer/results/provenance.hpp"

namespace reinforcer {

inline const std::string kPreparedFormat = "reinforcer-prepared";
inline constexpr std::int64_t kPreparedFormatVersion = 1;

struct PreparedData {
  IngestResult ingest;
  SplitOptions split_options;
  TemporalCutoffs cutoffs;
  // What the data cannot support (data_support_warnings), kept in the file as /warnings so
  // that whoever reads it later sees them too.
  std::vector<std::string> warnings;
};

// Writes the whole file to `path` (callers pass an AtomicOutput's temporary path).
void write_prepared_file(const std::string& path, const PreparedData& data, const Provenance& provenance);

// The customer table as stored, for the C++ side of later commands and tests.
CustomerTable read_prepared_customers(const std::string& path);
// The /customers table of any file that carries one (prepared, run, evaluated), with its
// /customer_attributes when present; `path` names the file in messages.
CustomerTable read_customer_table(const h5::Group& root, const std::string& path);
// The table as compact bytes, 64 per customer plus 4 per attribute (what rank 0 broadcasts to the others after
// reading the file once), and back; std::invalid_argument if the bytes are not such a table.
std::string customer_table_bytes(const CustomerTable& table);
CustomerTable customer_table_from_bytes(std::string_view bytes);
// The export date the customers were censored at (checks the format first).
Day read_prepared_export_date(const std::string& path);

}  // namespace reinforcer
