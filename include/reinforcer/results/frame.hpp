#pragma once
// A table read back from HDF5 whole, column by column: what `report` and `recommend` read.
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer {

struct Frame {
  std::vector<h5::Group::ColumnInfo> columns;
  std::map<std::string, std::vector<std::string>> text;
  std::map<std::string, std::vector<double>> number;  // integers too
  std::size_t rows = 0;

  const std::vector<std::string>& s(const std::string& column) const;
  const std::vector<double>& d(const std::string& column) const;
  // Rows where every (column, value) pair matches.
  std::vector<std::size_t> where(const std::vector<std::pair<std::string, std::string>>& equal) const;
  std::string cell(const std::string& column, std::size_t row) const;  // any column as text
};

// One CSV field, quoted as RFC 4180 asks when it holds a comma, quote or line break.
void write_csv_field(std::ostream& out, const std::string& value);
// A number as a table cell: whole numbers without a decimal point, others to 6 significant
// digits, NaN empty.
std::string number_cell(double value);

// Writes `columns` (all when empty) of the first `rows` rows as RFC 4180 CSV to `path`.
void write_frame_csv(const Frame& frame, std::vector<std::string> columns, std::size_t rows, const std::string& path);

// InputError (exit 3) naming the file and table if it is missing.
Frame read_frame(const h5::Group& group, const std::string& table, const std::string& path);

}  // namespace reinforcer
