#pragma once
// A scratch directory per test, removed afterwards; small file helpers.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include "reinforcer/data/ingest.hpp"
#include "reinforcer/data/split.hpp"
#include "reinforcer/data/synth.hpp"
#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/env/feature_mask.hpp"
#include "reinforcer/rl/funnel_fit.hpp"

namespace reinforcer::test {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("reinforcer-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(file(name), std::ios::binary) << content;
    return file(name);
  }
  std::string read(const std::string& name) const {
    std::ifstream in(file(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path_), {}));
  }

 private:
  std::filesystem::path path_;
};

// Removes the seal of a file this tool wrote (zeroes the start of its HDF5 user block), so a
// test may change the file and still reach the reader's own checks: an unsealed file is read
// unchecked, an edited sealed one refused as damaged.
inline void unseal(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  const std::string zeros(64, '\0');
  f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
}

inline std::string kCrmHeader =
    "ID,Country,Education,First Contact,Last Contact,Status,Stage,First Call,Signed up for a demo,"
    "Filled in customer survey,Did sign up to the platform,Account Manager assigned,Subscribed\n";

// A synthetic export of `customers` customers (the generator's defaults, this seed), read as
// `prepare` reads it.
inline IngestResult synthetic_ingest(std::int64_t customers, std::uint64_t seed) {
  TempDir dir;
  SynthOptions so;
  so.customers = customers;
  so.seed = seed;
  write_synthetic_crm(so, dir.file("s.csv"));
  return ingest_crm(dir.file("s.csv"), IngestOptions{});
}

// The funnel fitted on all of such an export's customers over `features` (default config).
inline FunnelFit synthetic_fit(std::int64_t customers, std::uint64_t seed, const std::string& features) {
  const IngestResult r = synthetic_ingest(customers, seed);
  HazardOptions h;
  h.export_date = r.report.export_date;
  return fit_funnel(r.table, select_fitting(r.table, "all"), parse_feature_mask(features), h, FunnelConfig{}, 1.0);
}

// A synthetic export made ready for evaluation as `prepare` makes it (a temporal split 70/15/15,
// five folds), and evaluation settings over `features` at its export date.
struct EvaluableTable {
  CustomerTable table;
  EvaluationSettings settings;
  EvaluableTable(std::int64_t customers, std::uint64_t seed, const std::string& features) {
    IngestResult r = synthetic_ingest(customers, seed);
    table = std::move(r.table);
    assign_temporal_split(table, {70, 15, 15});
    assign_folds(table, 5, 1);
    settings.features = parse_feature_mask(features);
    settings.hazards.export_date = r.report.export_date;
  }
};

}  // namespace reinforcer::test
