#pragma once
// The synthetic CRM export: the project's built-in data set, with the real export's schema
// (CONTRACT.md), its structure (country mix, cohorts, a rare label, a funnel of dated
// milestones) and, on request, every kind of dirt the contract describes.
#include <cstdint>
#include <string>
#include <vector>

namespace reinforcer {

struct SynthOptions {
  std::int64_t customers = 10000;
  std::uint64_t seed = 1;
  bool dirty = false;        // inject every kind of dirt CONTRACT.md describes
  int extra_attributes = 0;  // extra columns "Attribute 1".."Attribute N" (values A..D); the
                             // first ceil(N/2) are informative (they shift the subscription
                             // odds), the rest are noise
};

// What the generator put in, stated as ingest_crm derives it from the written file (after
// dirt), so `prepare` can be checked against it exactly.
struct SynthTruth {
  std::int64_t customers = 0, subscribed = 0, outbound = 0, inbound = 0, undated = 0, blank_rows = 0;
};

// What an extra attribute does, as the generator applies it: each level multiplies the
// customer's chance of subscribing (odds factor; 1 for every level of a noise attribute).
struct SynthAttributeTruth {
  std::string column;                // "Attribute 3"
  bool informative = false;
  std::vector<std::string> levels;   // "A".."D", drawn uniformly and independently of everything else
  std::vector<double> factor;        // per level
};
std::vector<SynthAttributeTruth> synthetic_attribute_truth(const SynthOptions& options);
// The same as JSON (written beside a CSV as <file>.attributes.json; an xlsx carries it in its
// custom document properties): {"effect": "...", "attributes": [{"column": ..., ...}]}.
std::string synthetic_attribute_json(const SynthOptions& options);

// The maximum number of customers an xlsx can hold: Excel's 1,048,576 rows minus the header.
inline constexpr std::int64_t kXlsxMaxCustomers = 1048575;
// Upper bound on extra_attributes (keeps xlsx under Excel's 16,384 columns with room to spare).
inline constexpr int kMaxExtraAttributes = 1000;

// Writes CSV or xlsx, chosen by the path's extension (.csv / .xlsx, any case), to exactly
// `path` (the caller handles temp file + rename). The same options give identical bytes.
// Throws UsageError for customers < 1, for more than kXlsxMaxCustomers in an xlsx, for
// extra_attributes outside [0, kMaxExtraAttributes] or another extension; PathError if the
// file cannot be written.
SynthTruth write_synthetic_crm(const SynthOptions& options, const std::string& path);

}  // namespace reinforcer
