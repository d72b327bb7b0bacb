#pragma once
// What every subcommand shares: positional INPUT, -o/--output, --config FILE.ini (a section
// per command), --help; options parsed by Boost.Program_options; errors as exit codes.
#include <boost/program_options.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "reinforcer/parallel/communicator.hpp"

namespace reinforcer {

namespace po = boost::program_options;

struct Invocation {
  std::string command;
  po::variables_map options;
  std::string input;         // positional INPUT ("" when the command takes none)
  std::string output;        // -o/--output
  std::string command_line;  // as typed, for provenance
  std::string config_text;   // the effective options, "key = value" lines under [command]
  std::map<std::string, std::string> option_origin;  // options that --config set: "FILE line N"
};

// A usage error about an option that --config set ("--horizon: ...") names the file and line
// first, so the fix is found where the value was written.
std::string with_config_origin(const Invocation& inv, const std::string& message);

struct CommandSpec {
  std::string name;
  std::string summary;      // one line, for `reinforcer --help`
  std::string synopsis;     // usage line
  std::string description;  // paragraphs for `reinforcer NAME --help`
  bool takes_input = true;
  bool input_optional = false;
  bool output_required = true;
  // Runs under mpirun through run_with_communicator, so it takes the launcher's options (--watchdog).
  bool runs_under_mpi = false;
  std::string output_help = "output file (required)";
  // Non-empty: --config names this command's own input file (its help text), read by `run`,
  // not an INI file of options.
  std::string own_config_help;
  std::function<void(po::options_description&)> add_options;
  std::function<int(const Invocation&)> run;
  // A clearer message for an unknown config key (e.g. an unknown action in cost.X); "" if none.
  std::function<std::string(const std::string& key)> explain_unknown;
};

// Parses args (after the command name); returns nullopt-like false when help was printed.
bool parse_invocation(const CommandSpec& spec, const std::vector<std::string>& args, Invocation& inv);
void print_command_help(const CommandSpec& spec);

// Range and format checks that name the option in the error.
std::int64_t int_option(const Invocation& inv, const std::string& name, std::int64_t lo, std::int64_t hi);

// --progress, declared and checked once for every long-running command: auto | plain | none.
void add_progress_option(po::options_description& d);
std::string progress_option(const Invocation& inv);

CommandSpec prepare_command();
CommandSpec synth_command();
CommandSpec train_command();
CommandSpec bench_command();
CommandSpec sweep_command();
CommandSpec merge_command();
CommandSpec evaluate_command();
CommandSpec report_command();
CommandSpec recommend_command();
CommandSpec select_features_command();
CommandSpec engagement_command();

// Runs body on MPI_COMM_WORLD when started by mpirun, else on the single-process
// communicator. Under MPI: Interrupted and CollectiveError (collective decisions) end every
// rank with their code, the root saying why; any other exception may have struck one rank while
// the others wait in a collective, so it is printed with its rank and the job aborted (an Error
// with its code, anything else with 1); a rank that makes no progress for --watchdog seconds is
// named by another, which aborts the job (exit 1).
int run_with_communicator(const Invocation& inv, const std::function<int(const Communicator&)>& body);

// Every command's name: the sections an INI file may hold.
std::vector<std::string> command_names();

int run_cli(int argc, char** argv);

}  // namespace reinforcer
