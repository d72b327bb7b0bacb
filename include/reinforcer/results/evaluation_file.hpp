#pragma once
// evaluated.h5: the run file's contents plus /evaluation (schema: docs/HDF5_SCHEMA.md).
#include <string>

#include "reinforcer/eval/evaluation.hpp"
#include "reinforcer/h5/hdf5.hpp"
#include "reinforcer/results/provenance.hpp"

namespace reinforcer {

inline const std::string kEvaluatedFormat = "reinforcer-evaluated";
// 2: calibration as observed/expected; break-even tables. 3: the targeting score (status quo),
// fold-stratified AUC and paired differences; the call list at the export date, with its refits.
inline constexpr std::int64_t kEvaluatedFormatVersion = 3;

// The break-even table (run.h5 /quality/break_even, evaluated.h5 /evaluation/break_even).
void write_break_even_table(const h5::Group& g, const std::vector<BreakEvenRow>& rows);

// Creates the group "descriptive" in evaluation_group and writes the five descriptive tables
// into it (layouts: docs/HDF5_SCHEMA.md, /evaluation/descriptive/*).
void write_descriptive(const h5::Group& evaluation_group, const DescriptiveTables& t);

// The call list (/evaluation/call_list) and its refits' scores (/evaluation/call_list_refits).
void write_call_list(const h5::Group& g, const CallListColumns& rows, const RefitScoreColumns& refits, std::int64_t widened);
struct CallList {
  CallListColumns rows;  // texts as codes: a million leads in about 0.14 GB, not 0.5 GB of strings
  RefitScores refits;
  std::int64_t widened = 0;    // rows whose interval was widened to hold the estimate
  std::int64_t bootstrap = 0;  // the evaluation's refits
};
// InputError naming the file and how to make one when it has no call list.
CallList read_call_list(const h5::File& f, const std::string& path);

void write_evaluated_file(const std::string& path, const std::string& run_path, const EvaluationResult& result,
                          const EvaluationSettings& settings, const Provenance& provenance);

}  // namespace reinforcer
