#include <algorithm>
#include <iostream>
#include <new>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {

std::vector<CommandSpec> commands() { return {synth_command(), prepare_command(), train_command(), evaluate_command(), report_command(),
          recommend_command(), sweep_command(), merge_command(), bench_command(), select_features_command(),
          engagement_command()}; }

void print_main_help() {
  std::cout << "reinforcer " << REINFORCER_VERSION
            << " -- learns from a CRM export whom a sales team should contact and which actions lead\n"
               "to subscriptions; trains distributed Q-learning agents under mpirun and writes HDF5.\n\n"
               "Usage: reinforcer <command> [INPUT] [-o OUTPUT] [--config FILE.ini] [options]\n\n"
               "Commands:\n";
  std::size_t width = 0;
  for (const auto& c : commands()) width = std::max(width, c.name.size());
  for (const auto& c : commands()) std::cout << "  " << c.name << std::string(width + 2 - c.name.size(), ' ') << c.summary << "\n";
  std::cout << "\n'reinforcer <command> --help' explains a command's options and their defaults.\n"
               "Every option can also be set in an INI file given with --config (section = command name).\n"
               "Exit codes: 0 success, 1 internal error, 2 usage or configuration error, 3 invalid input content,\n"
               "4 a path that cannot be opened or written, 5 some sweep trials failed, 75 interrupted after writing a checkpoint.\n";
}

std::string joined(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

}  // namespace

std::vector<std::string> command_names() {
  std::vector<std::string> out;
  for (const auto& c : commands()) out.push_back(c.name);
  return out;
}

int run_cli(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  install_temp_file_cleanup();
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    if (argc >= 3 && std::string(argv[1]) == "help") {
      for (const auto& c : commands())
        if (c.name == argv[2]) return print_command_help(c), 0;
    }
    print_main_help();
    return argc < 2 ? static_cast<int>(ExitCode::usage) : 0;
  }
  const std::string name = argv[1];
  if (name == "--version") return std::cout << "reinforcer " << REINFORCER_VERSION << "\n", 0;
  std::string prefix = "reinforcer: ";
  try {
    for (const auto& spec : commands()) {
      if (spec.name != name) continue;
      prefix = "reinforcer " + name + ": ";
      Invocation inv;
      inv.command_line = joined(argc, argv);
      if (!parse_invocation(spec, std::vector<std::string>(argv + 2, argv + argc), inv)) return 0;
      try {
        return spec.run(inv);
      } catch (const UsageError& e) {
        throw UsageError(with_config_origin(inv, e.what()));
      }
    }
    throw UsageError("unknown command '" + name + "' (see 'reinforcer --help')");
  } catch (const Error& e) {
    std::cerr << prefix << "error: " << with_output_names(e.what()) << std::endl;
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << prefix << "error: out of memory" << std::endl;
    return static_cast<int>(ExitCode::internal);
  } catch (const std::exception& e) {
    std::cerr << prefix << "internal error: " << e.what() << std::endl;
    return static_cast<int>(ExitCode::internal);
  }
}

}  // namespace reinforcer
