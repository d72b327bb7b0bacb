#include <iostream>
#include <sstream>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/data/attributes.hpp"
#include "reinforcer/data/data_support.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/results/prepared_file.hpp"
#include "reinforcer/core/sha256.hpp"

namespace reinforcer {
namespace {

Day date_option(const Invocation& inv, const std::string& name) {
  const std::string text = inv.options[name].as<std::string>();
  if (auto d = parse_iso_day(text)) return *d;
  throw UsageError("--" + name + ": '" + text + "' is not a date; give yyyy-mm-dd, e.g. 2022-04-28");
}

std::array<int, 3> shares_option(const Invocation& inv) {
  const std::string text = inv.options["split-shares"].as<std::string>();
  std::array<int, 3> s{};
  std::istringstream in(text);
  char c1 = 0, c2 = 0;
  if (!(in >> s[0] >> c1 >> s[1] >> c2 >> s[2]) || c1 != ',' || c2 != ',' || !(in >> std::ws).eof() || s[0] <= 0 ||
      s[1] < 0 || s[2] < 0 || s[0] + s[1] + s[2] != 100)
    throw UsageError("--split-shares: '" + text +
                     "' is not three non-negative whole percentages summing to 100 (train > 0), e.g. 70,15,15");
  return s;
}

int run_prepare(const Invocation& inv) {
  Provenance prov;
  prov.started_at = utc_now_iso8601();
  IngestOptions opt;
  PreparedData data;
  data.split_options.folds = static_cast<int>(int_option(inv, "folds", 2, 100));
  data.split_options.seed = inv.options["seed"].as<std::uint64_t>();
  data.split_options.shares = shares_option(inv);
  if (inv.options.count("export-date")) opt.export_date = date_option(inv, "export-date");
  opt.earliest_date = date_option(inv, "earliest-date");
  if (opt.export_date && *opt.export_date < opt.earliest_date)
    throw UsageError("--export-date is before --earliest-date");
  const std::string aliases = inv.options["aliases"].as<std::string>();
  if (aliases != "shipped") opt.aliases = CountryAliases::from_file(aliases);
  if (inv.options.count("attributes"))
    opt.attributes = parse_attribute_list(inv.options["attributes"].as<std::string>(), "--attributes");
  const bool quiet = inv.options["quiet"].as<bool>();

  AtomicOutput out(inv.output);  // fails now, not after the work, if it cannot be written
  require_readable_file(inv.input);
  if (!quiet) std::cerr << "reading " << inv.input << " ..." << std::endl;
  data.ingest = ingest_crm(inv.input, opt);
  data.cutoffs = assign_temporal_split(data.ingest.table, data.split_options.shares);
  assign_folds(data.ingest.table, data.split_options.folds, data.split_options.seed);
  data.warnings = data_support_warnings(data.ingest.table, data.split_options.folds, inv.output);
  if (!quiet) {
    print_quality_report(std::cout, data.ingest.report);
    print_split_summary(std::cout, data.ingest.table, data.split_options, data.cutoffs);
  }
  // The file is still written: its quality report stands whatever the data lack.
  for (const std::string& w : data.warnings) std::cerr << "reinforcer prepare: warning: " << w << std::endl;
  prov.command_line = inv.command_line;
  prov.config_text = inv.config_text;
  prov.input_path = inv.input;
  prov.input_sha256 = sha256_of_file(inv.input);
  write_prepared_file(out.temp_path(), data, prov);
  out.commit();
  std::cout << "wrote " << inv.output << " (" << with_thousands(data.ingest.report.customers) << " customers)"
            << std::endl;
  return 0;
}

}  // namespace

CommandSpec prepare_command() {
  CommandSpec s;
  s.name = "prepare";
  s.summary = "read a CRM export (.xlsx or .csv), classify every cell, derive labels, cohorts, splits";
  s.synopsis = "reinforcer prepare INPUT.xlsx|INPUT.csv -o prepared.h5 [options]";
  s.description =
      "Reads the CRM export by the data contract: every cell is classified (empty, ok, normalised,\n"
      "aliased, repaired, negative, rejected with a reason) and counted; the label (subscribed),\n"
      "milestones, cohort (outbound/inbound/undated), decision time t0, the temporal split and the\n"
      "stratified cross-validation folds are derived. Prints the quality report and writes an HDF5\n"
      "file (written to a temporary file and renamed; schema in docs/HDF5_SCHEMA.md).";
  s.add_options = [](po::options_description& d) {
    d.add_options()("folds", po::value<int>()->default_value(5), "cross-validation folds (2..100)")(
        "seed", po::value<std::uint64_t>()->default_value(1), "seed of the fold assignment")(
        "split-shares", po::value<std::string>()->default_value("70,15,15")->value_name("A,B,C"),
        "temporal split percentages train,val,test")(
        "export-date", po::value<std::string>()->value_name("YYYY-MM-DD"),
        "date of the export; later dates are rejected (default: inferred from the data)")(
        "earliest-date", po::value<std::string>()->default_value("2000-01-01")->value_name("YYYY-MM-DD"),
        "earlier dates are rejected as out of range")(
        "aliases", po::value<std::string>()->default_value("shipped")->value_name("FILE.csv"),
        "country alias table (raw,country; '!reason' rejects); default: configs/country_aliases.csv as shipped")(
        "attributes", po::value<std::string>()->value_name("\"COL A,COL B\""),
        "extra columns known at decision time, kept as categorical attributes (features for train); rare "
        "levels pooled into 'other' (docs/DATA.md)")(
        "quiet,q", po::bool_switch(), "do not print the quality report");
  };
  s.run = run_prepare;
  return s;
}

}  // namespace reinforcer
