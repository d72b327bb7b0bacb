#include <cctype>
#include <fstream>
#include <iostream>
#include <memory>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/data/quality_report_text.hpp"
#include "reinforcer/data/synth.hpp"
#include "reinforcer/core/atomic_output.hpp"
#include "reinforcer/core/errors.hpp"

namespace reinforcer {
namespace {

int run_synth(const Invocation& inv) {
  SynthOptions opt;
  opt.customers = int_option(inv, "customers", 1, 1'000'000'000);
  opt.seed = inv.options["seed"].as<std::uint64_t>();
  opt.dirty = inv.options["dirty"].as<bool>();
  opt.extra_attributes = static_cast<int>(int_option(inv, "extra-attributes", 0, 1000));
  std::string lower = inv.output;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const auto ends_with = [&](const std::string& ext) {
    return lower.size() >= ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0;
  };
  // Checked on the name the user gave: the writer sees only the temporary's name.
  if (!ends_with(".csv") && !ends_with(".xlsx"))
    throw UsageError("-o " + inv.output + ": must end in .csv or .xlsx (the format is chosen by the extension)");
  AtomicOutput out(inv.output);
  // A CSV has no document properties: the extra attributes' truth goes beside it.
  const bool sidecar = opt.extra_attributes > 0 && lower.size() >= 4 && lower.substr(lower.size() - 4) == ".csv";
  std::unique_ptr<AtomicOutput> truth_out;
  if (sidecar) truth_out = std::make_unique<AtomicOutput>(inv.output + ".attributes.json");
  const SynthTruth t = write_synthetic_crm(opt, out.temp_path());
  if (sidecar) {
    std::ofstream f(truth_out->temp_path(), std::ios::binary);
    f << synthetic_attribute_json(opt);
    if (!f.flush()) throw PathError(truth_out->final_path() + ": cannot write the attributes' truth");
  }
  out.commit();
  if (truth_out) truth_out->commit();
  std::cout << "wrote " << inv.output << ": " << with_thousands(t.customers) << " customers, "
            << with_thousands(t.subscribed) << " subscribed; cohorts outbound " << with_thousands(t.outbound)
            << ", inbound " << with_thousands(t.inbound) << ", undated " << with_thousands(t.undated)
            << "; blank rows " << with_thousands(t.blank_rows) << std::endl;
  return 0;
}

}  // namespace

CommandSpec synth_command() {
  CommandSpec s;
  s.name = "synth";
  s.summary = "write synthetic CRM data with the export's schema (.csv or .xlsx), optionally dirty";
  s.synopsis = "reinforcer synth -n N --seed S -o synth.csv|synth.xlsx [--dirty] [--extra-attributes K]";
  s.description =
      "Writes a synthetic CRM export with the real schema and structure: country and education mix,\n"
      "outbound and inbound cohorts with their very different conversion rates, message statuses,\n"
      "milestone sequences and delays, ~0.45% subscriptions. The same seed gives the same bytes.\n"
      "--dirty adds every kind of dirt the data contract describes. The format follows the output's\n"
      "extension: CSV at any size, xlsx up to Excel's 1,048,575 data rows.";
  s.takes_input = false;
  s.add_options = [](po::options_description& d) {
    d.add_options()("customers,n", po::value<std::int64_t>()->default_value(10000), "customers to generate")(
        "seed", po::value<std::uint64_t>()->default_value(1), "random seed")(
        "dirty", po::bool_switch(), "inject the export's kinds of dirt")(
        "extra-attributes", po::value<int>()->default_value(0),
        "extra attribute columns 'Attribute 1'..'Attribute K', levels A..D: the first ceil(K/2) multiply the chance "
        "of subscribing by 0.2/0.4/1.0/2.4, the rest are noise; the truth is in the xlsx's custom properties "
        "or, for a CSV, in OUTPUT.attributes.json");
  };
  s.run = run_synth;
  return s;
}

}  // namespace reinforcer
