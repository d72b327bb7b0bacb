#include "reinforcer/results/frame.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "reinforcer/core/errors.hpp"

namespace reinforcer {

const std::vector<std::string>& Frame::s(const std::string& column) const {
  auto it = text.find(column);
  if (it == text.end()) throw InputError("table has no text column '" + column + "'");
  return it->second;
}

const std::vector<double>& Frame::d(const std::string& column) const {
  auto it = number.find(column);
  if (it == number.end()) throw InputError("table has no numeric column '" + column + "'");
  return it->second;
}

std::vector<std::size_t> Frame::where(const std::vector<std::pair<std::string, std::string>>& equal) const {
  std::vector<std::size_t> out;
  for (std::size_t r = 0; r < rows; ++r) {
    bool ok = true;
    for (const auto& [col, value] : equal) ok = ok && s(col)[r] == value;
    if (ok) out.push_back(r);
  }
  return out;
}

std::string number_cell(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string Frame::cell(const std::string& column, std::size_t row) const {
  if (auto it = text.find(column); it != text.end()) return it->second[row];
  return number_cell(d(column)[row]);
}

void write_csv_field(std::ostream& o, const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) {
    o << v;
    return;
  }
  o << '"';
  for (char ch : v) o << (ch == '"' ? "\"\"" : std::string(1, ch));
  o << '"';
}

void write_frame_csv(const Frame& frame, std::vector<std::string> columns, std::size_t rows, const std::string& path) {
  if (columns.empty())
    for (const auto& c : frame.columns) columns.push_back(c.name);
  std::ofstream o(path);
  for (std::size_t c = 0; c < columns.size(); ++c) o << (c ? "," : ""), write_csv_field(o, columns[c]);
  o << "\n";
  for (std::size_t r = 0; r < rows && r < frame.rows; ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) o << (c ? "," : ""), write_csv_field(o, frame.cell(columns[c], r));
    o << "\n";
  }
  if (!o) throw PathError(path + ": cannot write");
}

Frame read_frame(const h5::Group& group, const std::string& table, const std::string& path) {
  if (!group.exists(table)) throw InputError(path + ": the file has no table '" + table + "'; is it the output of 'reinforcer evaluate'?");
  Frame f;
  f.columns = group.table_columns(table);
  f.rows = group.table_rows(table);
  for (const auto& c : f.columns) {
    if (c.text) {
      f.text[c.name] = group.read_string_column(table, c.name);
    } else if (c.integer) {
      const auto v = group.read_int_column(table, c.name);
      f.number[c.name] = std::vector<double>(v.begin(), v.end());
    } else {
      f.number[c.name] = group.read_double_column(table, c.name);
    }
  }
  return f;
}

}  // namespace reinforcer
