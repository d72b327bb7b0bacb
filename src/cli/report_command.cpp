// `reinforcer report`: the answers first, every figure with its n and interval.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/cli/evaluated_report.hpp"
#include "reinforcer/cli/learned_report.hpp"
#include "reinforcer/cli/selection_report.hpp"
#include "reinforcer/cli/text_writer.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/results/evaluation_file.hpp"
#include "reinforcer/results/engagement_file.hpp"
#include "reinforcer/results/frame.hpp"
#include "reinforcer/results/run_file.hpp"
#include "reinforcer/results/selection_file.hpp"

namespace reinforcer {
namespace {

void write_csvs(const h5::File& f, const std::string& path, const std::string& dir) {
  if (!std::filesystem::is_directory(dir)) throw PathError(dir + ": not a directory (with --format csv, -o names a directory)");
  const h5::Group ev = f.open_group("evaluation");
  std::vector<std::pair<const h5::Group*, std::string>> tables;
  const h5::Group desc = ev.open_group("descriptive");
  for (const auto& name : ev.member_names())
    if (name != "descriptive" && name != "call_list_refits" && name != "warnings")  // groups and a list, not tables
      tables.emplace_back(&ev, name);
  for (const auto& name : desc.member_names()) tables.emplace_back(&desc, name);
  for (const auto& [g, name] : tables) {
    const Frame fr = read_frame(*g, name, path);
    AtomicOutput out(dir + "/" + name + ".csv");
    write_frame_csv(fr, {}, fr.rows, out.temp_path());
    out.commit();
    std::cout << "wrote " << dir << "/" << name << ".csv" << std::endl;
  }
}

int run_report(const Invocation& inv) {
  const std::string format = inv.options["format"].as<std::string>();
  if (format != "text" && format != "markdown" && format != "csv")
    throw UsageError("--format: '" + format + "' is not text, markdown or csv");
  require_readable_file(inv.input);
  const std::string selection_path = inv.options.count("selection") ? inv.options["selection"].as<std::string>() : "";
  if (!selection_path.empty()) require_readable_file(selection_path);
  std::vector<std::string> run_paths;
  if (inv.options.count("runs")) {
    std::stringstream list(inv.options["runs"].as<std::string>());
    for (std::string item; std::getline(list, item, ',');)
      if (!item.empty()) run_paths.push_back(item);
    if (run_paths.empty()) throw UsageError("--runs: give run files (train -o), comma-separated");
  }
  for (const std::string& p : run_paths) require_readable_file(p);
  const h5::File f = h5::File::open_read(inv.input);
  // A selection.h5 or a run.h5 alone is reported as its section; anything else must be an evaluated.h5.
  const std::string input_format = f.has_attribute("format") ? f.string_attribute("format") : "";
  const bool selection_only = input_format == kSelectionFormat;
  const bool runs_only = input_format == kRunFormat || input_format == kEngagementFormat;
  if (runs_only) run_paths.insert(run_paths.begin(), inv.input);
  if (!selection_only && !runs_only) {
    if (input_format != kEvaluatedFormat)
      throw InputError(inv.input + ": is not a file report reads (its format attribute is '" +
                       (input_format.empty() ? "missing" : input_format) + "'); give the output of evaluate -o, train -o, engagement -o or select-features -o");
    require_format(f, inv.input, kEvaluatedFormat, kEvaluatedFormatVersion);
  }
  if (format == "csv") {
    if (selection_only || runs_only)
      throw UsageError("--format csv: a selection.h5's or run.h5's tables are read by analysis/reinforcer_analysis.py; use text or markdown");
    if (inv.output.empty()) throw UsageError("--format csv writes one file per table: give -o DIRECTORY");
    write_csvs(f, inv.input, inv.output);
    return 0;
  }
  std::ostringstream text;
  if (!selection_only && !runs_only) write_evaluated_report(f, inv.input, text, format == "markdown");
  if (selection_only || !selection_path.empty()) {
    Writer w(text, format == "markdown");
    write_selection_section(w, read_selection_file(selection_only ? inv.input : selection_path));
  }
  if (!run_paths.empty()) {
    std::vector<StoredQuality> runs;
    for (const std::string& p : run_paths) runs.push_back(read_run_quality(p));
    Writer w(text, format == "markdown");
    write_learned_section(w, runs);
  }
  if (inv.output.empty() || inv.output == "-") {
    std::cout << text.str();
    return 0;
  }
  AtomicOutput out(inv.output, OutputTarget::stream);
  {
    std::ofstream o(out.temp_path());
    o << text.str();
    if (!o) throw PathError(inv.output + ": cannot write");
  }
  out.commit();
  std::cout << "wrote " << inv.output << std::endl;
  return 0;
}

}  // namespace

CommandSpec report_command() {
  CommandSpec s;
  s.name = "report";
  s.summary = "the answers, with n and intervals: whom to contact, which actions pay, how far to trust it";
  s.synopsis = "reinforcer report evaluated.h5 [--selection selection.h5] [--runs run.h5,...] [--format text|markdown|csv] [-o PATH]\n"
               "       reinforcer report selection.h5|run.h5|engagement.h5 [--runs run.h5,engagement.h5,...] [--format text|markdown] [-o PATH]";
  s.description =
      "Reads the output of 'reinforcer evaluate' and writes the answers first: base rates, targeting\n"
      "(AUC, lift) of the learned ranking against its baselines, the best segments, policies against\n"
      "baselines with paired differences, best actions by stage, then the simulator's calibration\n"
      "(observed/expected per cohort and event), the sensitivity verdict and the top of the call\n"
      "list. Every figure carries its n and a 95% interval. --selection (or a selection.h5 as the\n"
      "input) adds the section \"Which attributes and actions matter\" from select-features: the best\n"
      "subset, Shapley values and marginal gains with intervals, the RL search's evaluations and regret.\n"
      "--runs (or a run.h5 as the input) adds \"Learned policies against the DP optimum\": each run's\n"
      "agent (tabular or dqn), its regret per cohort with refit intervals, and its difference to the\n"
      "best constant policy, so agents trained on one funnel compare side by side.\n"
      "Text (default; to the terminal unless -o), Markdown, or one CSV per table (-o DIR).";
  s.output_required = false;
  s.output_help = "output file (default: the terminal); with --format csv, a directory";
  s.add_options = [](po::options_description& d) {
    d.add_options()("format", po::value<std::string>()->default_value("text"), "text, markdown or csv")(
        "selection", po::value<std::string>()->value_name("selection.h5"), "add the section on which attributes and actions matter")(
        "runs", po::value<std::string>()->value_name("run.h5,..."),
        "add the section comparing learned policies (tabular, DQN) against the DP optimum, from run files of train");
  };
  s.run = run_report;
  return s;
}

}  // namespace reinforcer
