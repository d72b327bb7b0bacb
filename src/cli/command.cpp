#include "reinforcer/cli/command.hpp"

#include <algorithm>
#include <iostream>
#include <new>
#include <sstream>

#include "reinforcer/core/config_file.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/parallel/mpi_guard.hpp"
#include "reinforcer/rl/trainer.hpp"

namespace reinforcer {
namespace {

po::options_description all_options(const CommandSpec& spec) {
  po::options_description d("Options");
  d.add_options()("help,h", "print this help and exit");
  const std::string config_help = spec.own_config_help.empty()
                                      ? "read options from section [" + spec.name + "] of an INI file; the command line wins"
                                      : spec.own_config_help;
  d.add_options()("config", po::value<std::string>()->value_name("FILE.ini"), config_help.c_str());
  d.add_options()("output,o", po::value<std::string>()->value_name("PATH"), spec.output_help.c_str());
  if (spec.runs_under_mpi)
    d.add_options()("watchdog", po::value<std::int64_t>()->default_value(600)->value_name("SECONDS"),
                    "under mpirun: end the job when a rank makes no progress (no collective) for this long; 0: never");
  spec.add_options(d);
  return d;
}

std::string value_text(const po::variable_value& v) {
  const boost::any& a = v.value();
  if (auto p = boost::any_cast<std::string>(&a)) return *p;
  if (auto p = boost::any_cast<int>(&a)) return std::to_string(*p);
  if (auto p = boost::any_cast<std::int64_t>(&a)) return std::to_string(*p);
  if (auto p = boost::any_cast<std::uint64_t>(&a)) return std::to_string(*p);
  if (auto p = boost::any_cast<double>(&a)) {
    std::ostringstream s;
    s << *p;
    return s.str();
  }
  if (auto p = boost::any_cast<bool>(&a)) return *p ? "true" : "false";
  return "?";
}

// Boost's messages name the option; ours add where to look.
[[noreturn]] void rethrow_as_usage(const CommandSpec& spec, const std::exception& e, const std::string& where) {
  throw UsageError(where + e.what() + " (see 'reinforcer " + spec.name + " --help')");
}

}  // namespace

void print_command_help(const CommandSpec& spec) {
  std::cout << "Usage: " << spec.synopsis << "\n\n" << spec.description << "\n\n" << all_options(spec)
            << "\nExit codes: 0 success, 1 internal error, 2 usage or configuration error, 3 invalid input "
               "content,\n4 a path that cannot be opened or written, 5 some sweep trials failed, 75 interrupted after a checkpoint.\n";
}

namespace {
// An output that is one of the run's own files (the input, a config, a checkpoint, a run
// named in a list) would be replaced by it: compared by device and inode, so no other name
// (a link, "./x") gets past.
void refuse_output_over_an_input(const Invocation& inv) {
  for (const auto& [key, value] : inv.options) {
    const auto* text = boost::any_cast<std::string>(&value.value());
    if (key == "output" || !text) continue;
    std::stringstream items(*text);
    for (std::string item; std::getline(items, item, ',');)
      if (!item.empty() && same_file(item, inv.output))
        throw UsageError("-o " + inv.output + " is the same file as " +
                         (key == "input" ? std::string("the INPUT ") : "--" + key + " ") + item +
                         ", which it would replace; name another output");
  }
}

// A checkpoint is written over and deleted when the run finishes: naming the input, the output
// or another file of the run would destroy it (evaluate --checkpoint run.h5 deleted run.h5).
void refuse_checkpoint_over_a_file_of_the_run(const Invocation& inv) {
  const auto given = inv.options.find("checkpoint");
  if (given == inv.options.end() || given->second.empty()) return;
  const auto* checkpoint = boost::any_cast<std::string>(&given->second.value());
  if (!checkpoint || checkpoint->empty()) return;
  auto refuse = [&](const std::string& what) {
    throw UsageError("--checkpoint " + *checkpoint + " is " + what +
                     "; name another file (a finished run deletes its checkpoint)");
  };
  if (!inv.output.empty() && same_file(*checkpoint, inv.output)) refuse("the output");
  for (const auto& [key, value] : inv.options) {
    const auto* text = boost::any_cast<std::string>(&value.value());
    if (key == "checkpoint" || key == "output" || !text) continue;
    std::stringstream items(*text);
    for (std::string item; std::getline(items, item, ',');)
      if (!item.empty() && same_file(item, *checkpoint)) refuse(key == "input" ? "the input" : "--" + key + " " + item);
  }
}
}  // namespace

bool parse_invocation(const CommandSpec& spec, const std::vector<std::string>& args, Invocation& inv) {
  const po::options_description desc = all_options(spec);
  po::positional_options_description pos;
  if (spec.takes_input) pos.add("input", 1);
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::string>());
  po::options_description cmdline;
  cmdline.add(desc).add(hidden);
  inv.command = spec.name;
  try {
    po::store(po::command_line_parser(args).options(cmdline).positional(pos).run(), inv.options);
  } catch (const po::unknown_option& e) {
    std::string key = e.get_option_name();
    key.erase(0, key.find_first_not_of('-'));
    const std::string why = spec.explain_unknown ? spec.explain_unknown(key) : "";
    if (why.empty()) rethrow_as_usage(spec, e, "");
    throw UsageError(why + " (see 'reinforcer " + spec.name + " --help')");
  } catch (const po::too_many_positional_options_error&) {
    throw UsageError(spec.takes_input ? "give one INPUT file; found more than one positional argument"
                                      : "'reinforcer " + spec.name + "' takes no positional argument");
  } catch (const po::error& e) {
    rethrow_as_usage(spec, e, "");
  }
  if (inv.options.count("help")) {
    print_command_help(spec);
    return false;
  }
  if (inv.options.count("config") && spec.own_config_help.empty()) {
    const std::string path = inv.options["config"].as<std::string>();
    std::vector<ConfigEntry> entries;
    const std::vector<std::string> names = command_names();
    for (const ConfigSection& section : read_config_file(path)) {
      if (std::find(names.begin(), names.end(), section.name) == names.end()) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        throw UsageError(path + " line " + std::to_string(section.line) + ": unknown section [" + section.name +
                         "]; a section is named after a command (" + list + ")");
      }
      if (section.name == spec.name) entries.insert(entries.end(), section.entries.begin(), section.entries.end());
    }
    for (const ConfigEntry& entry : entries) {
      const std::string where = path + " line " + std::to_string(entry.line) + ": ";
      if (!desc.find_nothrow(entry.key, false) || entry.key == "config" || entry.key == "help") {
        const std::string why = spec.explain_unknown ? spec.explain_unknown(entry.key) : "";
        throw UsageError(where + (why.empty() ? "unknown option '" + entry.key + "'" : why) + " in section [" +
                         spec.name + "]");
      }
      // A value wholly in double quotes ("a, b # c") is the text between them.
      const bool quoted = entry.value.size() >= 2 && entry.value.front() == '"' && entry.value.back() == '"' &&
                          std::count(entry.value.begin(), entry.value.end(), '"') == 2;
      const std::vector<std::string> one = {"--" + entry.key + "=" + (quoted ? entry.value.substr(1, entry.value.size() - 2) : entry.value)};
      const bool from_command_line = inv.options.count(entry.key) && !inv.options[entry.key].defaulted();
      if (!from_command_line) inv.option_origin[entry.key] = path + " line " + std::to_string(entry.line);
      try {
        po::store(po::command_line_parser(one).options(desc).run(), inv.options);
      } catch (const po::error& e) {
        rethrow_as_usage(spec, e, where);
      }
    }
  }
  try {
    po::notify(inv.options);
  } catch (const po::error& e) {
    rethrow_as_usage(spec, e, "");
  }
  if (spec.takes_input) {
    if (inv.options.count("input")) inv.input = inv.options["input"].as<std::string>();
    else if (!spec.input_optional) throw UsageError("an INPUT file is required (usage: " + spec.synopsis + ")");
  }
  if (inv.options.count("output")) inv.output = inv.options["output"].as<std::string>();
  if (spec.output_required && inv.output.empty())
    throw UsageError("-o/--output is required (usage: " + spec.synopsis + ")");
  if (!inv.output.empty()) refuse_output_over_an_input(inv);
  refuse_checkpoint_over_a_file_of_the_run(inv);
  std::ostringstream cfg;
  cfg << "[" << spec.name << "]\n";
  for (const auto& [key, value] : inv.options)
    if (key != "config" && key != "help" && key != "input" && !value.empty()) cfg << key << " = " << value_text(value) << "\n";
  inv.config_text = cfg.str();
  return true;
}

std::string with_config_origin(const Invocation& inv, const std::string& message) {
  if (message.rfind("--", 0) != 0) return message;
  const std::size_t end = message.find_first_of(": ,", 2);
  const auto it = inv.option_origin.find(message.substr(2, end == std::string::npos ? std::string::npos : end - 2));
  return it == inv.option_origin.end() ? message : it->second + ": " + message;
}

std::int64_t int_option(const Invocation& inv, const std::string& name, std::int64_t lo, std::int64_t hi) {
  const auto& v = inv.options[name];
  std::int64_t x;
  if (auto p = boost::any_cast<int>(&v.value())) x = *p;
  else if (auto q = boost::any_cast<std::int64_t>(&v.value())) x = *q;
  else x = static_cast<std::int64_t>(boost::any_cast<std::uint64_t>(v.value()));
  if (x < lo || x > hi)
    throw UsageError("--" + name + ": " + std::to_string(x) + " is out of range; give a value from " +
                     std::to_string(lo) + " to " + std::to_string(hi));
  return x;
}

void add_progress_option(po::options_description& d) {
  d.add_options()("progress", po::value<std::string>()->default_value("auto"),
                  "progress display: auto (live line on a terminal, a line every few seconds otherwise), plain, none");
}

std::string progress_option(const Invocation& inv) {
  const std::string mode = inv.options["progress"].as<std::string>();
  if (mode != "auto" && mode != "plain" && mode != "none")
    throw UsageError("--progress: '" + mode + "' is not auto, plain or none");
  return mode;
}

namespace {

// The one line a rank prints when an exception ends its part of an MPI job; a rank other than
// the root says which it is.
void print_rank_error(const std::string& command, const Communicator& comm, const std::string& kind,
                      const std::string& message) {
  // One write, so that mpirun's own report of the abort cannot cut the line.
  std::cerr << ("reinforcer " + command + ": " + kind + (comm.is_root() ? "" : " (rank " + std::to_string(comm.rank()) + ")") +
                ": " + with_output_names(message) + "\n")
            << std::flush;
}

}  // namespace

int run_with_communicator(const Invocation& inv, const std::function<int(const Communicator&)>& body) {
  const std::string& command = inv.command;
  const std::int64_t watchdog = int_option(inv, "watchdog", 0, INT64_C(1) << 31);  // checked without mpirun too
  if (!launched_under_mpi()) {
    try {
      return body(local_communicator());
    } catch (const Interrupted& e) {  // not an error: the work is saved
      std::cerr << "reinforcer " << command << ": " << e.what() << std::endl;
      return static_cast<int>(e.code());
    }
  }
  int argc = 0;
  char** argv = nullptr;
  MpiGuard guard(argc, argv);
  Watchdog w;
  w.seconds = static_cast<double>(watchdog);
  w.on_silent_ranks = [command, watchdog](const std::string& message) {
    std::cerr << ("reinforcer " + command + ": error: " + message + "; ending the job (--watchdog " +
                  std::to_string(watchdog) + ")\n")
              << std::flush;
    MpiGuard::abort(static_cast<int>(ExitCode::internal));
  };
  const Communicator comm = mpi_world_communicator(w);
  // Under MPI every exception ends the job: one rank leaving would leave the others waiting.
  // A single rank rethrows, and run_cli reports it as it would without mpirun.
  int code = 0;
  try {
    code = body(comm);
  } catch (const Interrupted& e) {
    if (comm.is_root()) std::cerr << "reinforcer " << command << ": " << e.what() << std::endl;
    code = static_cast<int>(e.code());
  } catch (const CollectiveError& e) {  // every rank is here: no one is left waiting
    if (comm.size() == 1) throw;
    if (comm.is_root()) std::cerr << "reinforcer " << command << ": error: " << with_output_names(e.what()) << std::endl;
    code = static_cast<int>(e.code());
  } catch (const Error& e) {
    if (comm.size() == 1) throw;
    print_rank_error(command, comm, "error", e.what());
    MpiGuard::abort(static_cast<int>(e.code()));
  } catch (const std::bad_alloc&) {
    if (comm.size() == 1) throw;
    print_rank_error(command, comm, "error", "out of memory");
    MpiGuard::abort(static_cast<int>(ExitCode::internal));
  } catch (const std::exception& e) {
    if (comm.size() == 1) throw;
    print_rank_error(command, comm, "internal error", e.what());
    MpiGuard::abort(static_cast<int>(ExitCode::internal));
  } catch (...) {
    if (comm.size() == 1) throw;
    print_rank_error(command, comm, "internal error", "an exception of unknown type");
    MpiGuard::abort(static_cast<int>(ExitCode::internal));
  }
  // Ranks that finish first (all but the root, which writes the output) wait here under the
  // watchdog, without spinning, rather than in MPI_Finalize.
  comm.barrier();
  return code;
}

}  // namespace reinforcer
