// The synthetic export as xlsx through libxlsxwriter in constant-memory mode (one row in
// memory; strings written inline), sheet "CRM": dates as numeric Excel serials styled
// yyyy-mm-dd, text as strings, the ID as a number.
//
// Identical bytes for identical options: the document's created time is fixed (it also
// stands for the modified time in docProps/core.xml; left at 0 it would be the clock), and
// libxlsxwriter (checked with 1.1.4) stamps every zip entry with the fixed DOS date
// 1980-01-01 whatever the clock says, so nothing else varies.
//
// Error cells (t="e", as Excel's #VALUE!) are not written: libxlsxwriter has no call that
// writes a cell of error type (a formula's cached result is a number or a string), so the
// dirty xlsx carries the contract's other date dirt but no "rejected: error cell".
#include <xlsxwriter.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <utility>
#include <vector>

#include "reinforcer/core/errors.hpp"
#include "synth_internal.hpp"

namespace reinforcer::synth {
namespace {

// 2022-04-28T00:00:00Z, the simulated export day.
constexpr std::time_t kCreated = 1651104000;

struct WorkbookCloser {
  void operator()(lxw_workbook* wb) const { lxw_workbook_free(wb); }
};

}  // namespace

void write_xlsx(RowStream& rows, const SynthOptions& options, const std::string& path) {
  // Fail before generating anything if the path cannot be created (libxlsxwriter itself
  // would only find out when it assembles the file at the end).
  if (std::FILE* probe = std::fopen(path.c_str(), "wb"))
    std::fclose(probe);
  else
    throw PathError(path + ": cannot create the xlsx: " + std::strerror(errno));

  const std::vector<std::string> header = rows.header();
  // ZIP64 only when the sheet may pass 4 GB (about 40 bytes of XML per cell), since some
  // readers still dislike it.
  const double cells = static_cast<double>(rows.total_rows() + 1) * static_cast<double>(header.size());
  lxw_workbook_options wo{};
  wo.constant_memory = LXW_TRUE;
  wo.tmpdir = nullptr;
  wo.use_zip64 = cells * 40 > 3.5e9 ? LXW_TRUE : LXW_FALSE;
  std::unique_ptr<lxw_workbook, WorkbookCloser> wb(workbook_new_opt(path.c_str(), &wo));
  if (!wb) throw PathError(path + ": cannot start the xlsx (out of memory or no temporary directory)");

  std::string title = "SalesReinforcer synthetic CRM export";
  std::string comments = "customers=" + std::to_string(options.customers) + " seed=" + std::to_string(options.seed) +
                         " dirty=" + (options.dirty ? "yes" : "no") +
                         " extra_attributes=" + std::to_string(options.extra_attributes);
  lxw_doc_properties props{};
  props.title = title.data();
  props.comments = comments.data();
  props.created = kCreated;
  workbook_set_properties(wb.get(), &props);
  // The extra attributes' truth, readable by any xlsx reader (docProps/custom.xml); none
  // when there are no extra attributes, so such files stay as they were.
  std::vector<std::pair<std::string, std::string>> custom;
  if (options.extra_attributes > 0) {
    custom.emplace_back("reinforcer.attribute_effect",
                        "each level multiplies the chance of subscribing (capped at 0.95) by its factor; noise: all 1");
    for (const SynthAttributeTruth& t : synthetic_attribute_truth(options)) {
      std::string v = t.informative ? "informative" : "noise";
      for (std::size_t l = 0; l < t.levels.size(); ++l) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", t.factor[l]);
        v += " " + t.levels[l] + "=" + buf;
      }
      custom.emplace_back("reinforcer." + t.column, v);
    }
  }
  for (const auto& [name, value] : custom)
    if (workbook_set_custom_property_string(wb.get(), name.c_str(), value.c_str()) != LXW_NO_ERROR)
      throw PathError(path + ": cannot set the xlsx property " + name);

  lxw_worksheet* ws = workbook_add_worksheet(wb.get(), "CRM");
  lxw_format* date_format = workbook_add_format(wb.get());
  if (!ws || !date_format)
    throw PathError(path + ": cannot start the xlsx (out of memory, or no writable temporary directory)");
  format_set_num_format(date_format, "yyyy-mm-dd");

  auto check = [&](lxw_error e, lxw_row_t r) {
    if (e != LXW_NO_ERROR)
      throw PathError(path + ": cannot write sheet row " + std::to_string(r + 1) + " of the xlsx: " + lxw_strerror(e));
  };
  for (std::size_t c = 0; c < header.size(); ++c)
    check(worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), header[c].c_str(), nullptr), 0);

  Row row;
  lxw_row_t r = 0;
  while (rows.next(row)) {
    ++r;
    if (row.id == 0) {  // a blank row: styled, empty cells, as an export leaves them
      for (std::size_t c = 0; c < row.cells.size(); ++c)
        check(worksheet_write_blank(ws, r, static_cast<lxw_col_t>(c), date_format), r);
      continue;
    }
    check(worksheet_write_number(ws, r, 0, static_cast<double>(row.id), nullptr), r);
    for (std::size_t c = 1; c < row.cells.size(); ++c) {
      const Cell& cell = row.cells[c];
      const auto col = static_cast<lxw_col_t>(c);
      switch (cell.kind) {
        case CellKind::empty: break;
        case CellKind::date:
          check(worksheet_write_number(ws, r, col, static_cast<double>(cell.day + kExcelEpochOffset), date_format), r);
          break;
        case CellKind::number: check(worksheet_write_number(ws, r, col, cell.number, date_format), r); break;
        case CellKind::text: check(worksheet_write_string(ws, r, col, cell.text, nullptr), r); break;
      }
    }
  }
  const lxw_error e = workbook_close(wb.release());  // frees the workbook whatever happens
  if (e != LXW_NO_ERROR) throw PathError(path + ": cannot write the xlsx: " + lxw_strerror(e));
}

}  // namespace reinforcer::synth
