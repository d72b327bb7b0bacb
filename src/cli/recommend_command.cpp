// `reinforcer recommend`: the call list as CSV or xlsx.
#include <xlsxwriter.h>

#include <algorithm>
#include <iostream>

#include "reinforcer/cli/command.hpp"
#include "reinforcer/data/raw_table.hpp"
#include "reinforcer/errors.hpp"
#include "reinforcer/io/atomic_output.hpp"
#include "reinforcer/io/evaluation_file.hpp"
#include "reinforcer/io/frame.hpp"

namespace reinforcer {
namespace {

const std::vector<std::string> kColumns = {"id", "cohort", "segment", "stage", "flag", "p_subscribe", "low95",
                                           "high95", "expected_value", "next_action"};

void write_xlsx(const Frame& f, std::size_t rows, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) throw PathError(path + ": cannot create the xlsx");
  lxw_worksheet* ws = workbook_add_worksheet(wb, "Call list");
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  for (std::size_t c = 0; c < kColumns.size(); ++c)
    worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), kColumns[c].c_str(), bold);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < kColumns.size(); ++c) {
      const auto row = static_cast<lxw_row_t>(r + 1);
      const auto col = static_cast<lxw_col_t>(c);
      if (auto it = f.number.find(kColumns[c]); it != f.number.end()) worksheet_write_number(ws, row, col, it->second[r], nullptr);
      else worksheet_write_string(ws, row, col, f.s(kColumns[c])[r].c_str(), nullptr);
    }
  worksheet_freeze_panes(ws, 1, 0);
  if (workbook_close(wb) != LXW_NO_ERROR) throw PathError(path + ": cannot write the xlsx");
}

int run_recommend(const Invocation& inv) {
  require_readable_file(inv.input);
  const h5::File f = h5::File::open_read(inv.input);
  require_format(f, inv.input, kEvaluatedFormat, kEvaluatedFormatVersion);
  const Frame calls = read_frame(f.open_group("evaluation"), "call_list", inv.input);
  const auto top = int_option(inv, "top", 0, INT64_C(1) << 40);
  const std::size_t rows = top == 0 ? calls.rows : std::min<std::size_t>(calls.rows, static_cast<std::size_t>(top));
  std::string ext = inv.output.substr(inv.output.find_last_of('.') == std::string::npos ? inv.output.size() : inv.output.find_last_of('.'));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext != ".csv" && ext != ".xlsx") throw UsageError("-o: '" + inv.output + "' must end in .csv or .xlsx");
  AtomicOutput out(inv.output);
  if (ext == ".csv") write_frame_csv(calls, kColumns, rows, out.temp_path());
  else write_xlsx(calls, rows, out.temp_path());
  out.commit();
  std::cout << "wrote " << inv.output << ": " << rows << " of " << calls.rows
            << " open leads, ranked by out-of-sample P(subscribe)" << std::endl;
  return 0;
}

}  // namespace

CommandSpec recommend_command() {
  CommandSpec s;
  s.name = "recommend";
  s.summary = "the call list: open leads ranked by out-of-sample P(subscribe), with the next best action";
  s.synopsis = "reinforcer recommend evaluated.h5 -o call-list.csv|call-list.xlsx [--top N]";
  s.description =
      "Writes the open leads (not subscribed, Stage not 'do not contact'; 'not interested' flagged)\n"
      "with their out-of-sample subscription probability and its 95% interval, expected value,\n"
      "cohort, segment and the next best action, best first. Undated customers cannot be scored\n"
      "and are not listed.";
  s.add_options = [](po::options_description& d) {
    d.add_options()("top", po::value<std::int64_t>()->default_value(0), "only the first N leads (0: all)");
  };
  s.run = run_recommend;
  return s;
}

}  // namespace reinforcer
