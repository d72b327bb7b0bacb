// Tables: compound rows written a chunk at a time (large ones deflated here and written raw),
// read whole, by column or by a range of rows (large ones inflated on all threads).
#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "hdf5_check.hpp"
#include "hdf5_types.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer::h5 {

std::string_view text_member(const char* p, const Member& m) {
  if (!m.variable) return std::string_view(p, strnlen(p, m.width));
  const char* s = nullptr;
  std::memcpy(&s, p, sizeof s);
  return s ? std::string_view(s) : std::string_view();
}

Table& Table::add_raw(const std::string& name, MemberKind kind, std::size_t size, const void* data) {
  Column c{Member{name, kind, size}, std::vector<char>(rows_ * size), {}, {}, nullptr, 0};
  if (rows_ > 0) std::memcpy(c.data.data(), data, rows_ * size);
  columns_.push_back(std::move(c));
  return *this;
}

Table& Table::add_strided(const std::string& name, MemberKind kind, std::size_t size, const char* first, std::size_t stride) {
  columns_.push_back(Column{Member{name, kind, size}, {}, {}, {}, first, stride});
  return *this;
}

#define REINFORCER_TABLE_ADD(T, H5TYPE)                                                  \
  Table& Table::add(const std::string& name, const std::vector<T>& v) {                  \
    if (v.size() != rows_) throw std::logic_error("table column " + name + ": wrong length"); \
    return add_raw(name, H5TYPE, sizeof(T), v.data());                                   \
  }
REINFORCER_TABLE_ADD(std::int8_t, MemberKind::int8)
REINFORCER_TABLE_ADD(std::int32_t, MemberKind::int32)
REINFORCER_TABLE_ADD(std::int64_t, MemberKind::int64)
REINFORCER_TABLE_ADD(double, MemberKind::float64)
#undef REINFORCER_TABLE_ADD

Table& Table::add_enum(const std::string& name, const std::vector<std::int8_t>& codes,
                       const std::vector<std::string>& labels, std::int8_t first_code) {
  if (codes.size() != rows_) throw std::logic_error("table column " + name + ": wrong length");
  add_raw(name, MemberKind::int8, 1, codes.data());
  columns_.back().member.labels = labels;
  columns_.back().member.first_code = first_code;
  return *this;
}

Table& Table::add(const std::string& name, const std::vector<std::string>& v) {
  if (v.size() != rows_) throw std::logic_error("table column " + name + ": wrong length");
  return add_strings(name, [&v](std::size_t i) { return std::string_view(v[i]); });
}

Table& Table::add_text_view(const std::string& name, std::function<std::string_view(std::size_t)> value) {
  std::size_t width = 1;
  for (std::size_t i = 0; i < rows_; ++i) width = std::max(width, value(i).size());
  const bool variable = width > kFixedTextLimit;
  Column c{Member{name, MemberKind::text, variable ? sizeof(const char*) : width}, {}, {}, std::move(value), nullptr, 0};
  c.member.variable = variable;
  columns_.push_back(std::move(c));
  return *this;
}

Table& Table::add_strings(const std::string& name, const std::function<std::string_view(std::size_t)>& value) {
  std::size_t width = 1, total = 0;
  for (std::size_t i = 0; i < rows_; ++i) width = std::max(width, value(i).size()), total += value(i).size() + 1;
  if (width > kFixedTextLimit) {
    Column c{Member{name, MemberKind::text, sizeof(const char*)}, {}, std::vector<std::size_t>(rows_), {}, nullptr, 0};
    c.member.variable = true;
    c.data.reserve(total);
    for (std::size_t i = 0; i < rows_; ++i) {
      const std::string_view s = value(i);
      c.starts[i] = c.data.size();
      c.data.insert(c.data.end(), s.begin(), s.end());
      c.data.push_back('\0');
    }
    columns_.push_back(std::move(c));
    return *this;
  }
  Column c{Member{name, MemberKind::text, width}, std::vector<char>(rows_ * width, '\0'), {}, {}, nullptr, 0};
  for (std::size_t i = 0; i < rows_; ++i) {
    const std::string_view s = value(i);
    if (!s.empty()) std::memcpy(c.data.data() + i * width, s.data(), s.size());  // an empty view may hold nullptr
  }
  columns_.push_back(std::move(c));
  return *this;
}

void Group::write_table(const std::string& name, const Table& table) const {
  std::vector<Member> members;
  for (const auto& c : table.columns_) members.push_back(c.member);
  const Compound layout(std::move(members));
  const std::size_t row_size = layout.row_size();
  const Id type = layout.h5_type();
  std::size_t offset = 0;
  hsize_t dims[1] = {table.rows()};
  Id space(check(H5Screate_simple(1, dims, nullptr), "create the space of " + name));
  Id dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "create dataset properties"));
  const bool chunked = table.rows() >= kChunkRows;
  // Variable-length text lives in the file's heap, so its chunks cannot be written raw: HDF5
  // writes (and deflates) them.
  const bool variable = std::any_of(table.columns_.begin(), table.columns_.end(), [](const Table::Column& c) { return c.member.variable; });
  const bool raw_chunks = chunked && !variable;
  if (chunked) {
    hsize_t chunk[1] = {kChunkRows};
    check_status(H5Pset_chunk(dcpl.get(), 1, chunk), "set the chunks of " + name);
    check_status(H5Pset_deflate(dcpl.get(), 1), "set the compression of " + name);
  }
  Id ds(check(H5Dcreate2(get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
              "create table " + name));
  // Pack one chunk of rows at a time: the row-major copy never holds the whole table. Large
  // tables are compressed here (libdeflate, the zlib format HDF5's deflate filter reads) and
  // written as whole chunks.
  std::vector<char> packed((chunked ? kChunkRows : table.rows()) * row_size);
  std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> zip(
      raw_chunks ? libdeflate_alloc_compressor(1) : nullptr, libdeflate_free_compressor);
  std::vector<char> compressed(raw_chunks ? libdeflate_zlib_compress_bound(zip.get(), packed.size()) : 0);
  for (std::size_t begin = 0; begin < table.rows(); begin += kChunkRows) {
    const std::size_t n = std::min<std::size_t>(kChunkRows, table.rows() - begin);
    if (raw_chunks && n < kChunkRows) std::fill(packed.begin(), packed.end(), 0);  // the edge chunk is stored whole
    offset = 0;
    std::vector<std::vector<char>> chunk_texts;  // add_text_view's variable texts of this chunk, NUL-terminated
    for (const auto& c : table.columns_) {
      const std::size_t size = c.member.width;
      if (c.view && c.member.variable) {
        std::vector<std::size_t> starts(n);
        std::vector<char>& texts = chunk_texts.emplace_back();
        for (std::size_t r = 0; r < n; ++r) {
          const std::string_view v = c.view(begin + r);
          starts[r] = texts.size();
          texts.insert(texts.end(), v.begin(), v.end());
          texts.push_back('\0');
        }
        for (std::size_t r = 0; r < n; ++r) {
          const char* text = texts.data() + starts[r];
          std::memcpy(packed.data() + offset + r * row_size, &text, sizeof text);
        }
        offset += size;
        continue;
      }
      if (c.view) {  // fixed width: the value, then NULs (the buffer holds the chunk before)
        for (std::size_t r = 0; r < n; ++r) {
          const std::string_view v = c.view(begin + r);
          if (v.size() > size) throw std::logic_error("table column " + c.member.name + ": a value grew after it was added");
          char* dst = packed.data() + offset + r * row_size;
          if (!v.empty()) std::memcpy(dst, v.data(), v.size());  // an empty view may hold nullptr
          std::memset(dst + v.size(), 0, size - v.size());
        }
        offset += size;
        continue;
      }
      if (c.member.variable) {
        for (std::size_t r = 0; r < n; ++r) {
          const char* text = c.data.data() + c.starts[begin + r];
          std::memcpy(packed.data() + offset + r * row_size, &text, sizeof text);
        }
        offset += size;
        continue;
      }
      const std::size_t step = c.strided ? c.stride : size;  // a member of the caller's rows, or packed
      const char* src = c.strided ? c.strided + begin * c.stride : c.data.data() + begin * size;
      char* dst = packed.data() + offset;
      switch (size) {  // fixed sizes: let the compiler copy whole words
        case 1: for (std::size_t r = 0; r < n; ++r) dst[r * row_size] = src[r * step]; break;
        case 4: for (std::size_t r = 0; r < n; ++r) std::memcpy(dst + r * row_size, src + r * step, 4); break;
        case 8: for (std::size_t r = 0; r < n; ++r) std::memcpy(dst + r * row_size, src + r * step, 8); break;
        default: for (std::size_t r = 0; r < n; ++r) std::memcpy(dst + r * row_size, src + r * step, size);
      }
      offset += size;
    }
    if (raw_chunks) {
      const std::size_t bytes =
          libdeflate_zlib_compress(zip.get(), packed.data(), packed.size(), compressed.data(), compressed.size());
      if (bytes == 0) throw std::runtime_error("HDF5: compressing a chunk of " + name + " failed");
      hsize_t chunk_offset[1] = {begin};
      check_status(H5Dwrite_chunk(ds.get(), H5P_DEFAULT, 0, chunk_offset, bytes, compressed.data()), "write table " + name);
      continue;
    }
    hsize_t start[1] = {begin}, count[1] = {n};
    Id file_space(check(H5Dget_space(ds.get()), "get the space of " + name));
    check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
                 "select rows of " + name);
    Id mem_space(check(H5Screate_simple(1, count, nullptr), "create a memory space"));
    check_status(H5Dwrite(ds.get(), type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, packed.data()),
                 "write table " + name);
  }
}

namespace {
Id open_table(hid_t group, const std::string& table) {
  if (H5Lexists(group, table.c_str(), H5P_DEFAULT) <= 0) throw InputError("the file has no table '" + table + "'");
  Id ds(check(H5Dopen2(group, table.c_str(), H5P_DEFAULT), "open table " + table));
  // The readers take a table's rows from its one axis (a dataset of more would write its
  // other extents past that count).
  const Id space(check(H5Dget_space(ds.get()), "get the space of " + table));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw InputError("'" + table + "' is not a table (a 1-D dataset of rows)");
  return ds;
}
template <typename T>
std::vector<T> read_numeric(hid_t group, const std::string& table, const std::string& column, hid_t native) {
  Id ds = open_table(group, table);
  Id space(H5Dget_space(ds.get()));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  Id ftype(H5Dget_type(ds.get()));
  if (H5Tget_member_index(ftype.get(), column.c_str()) < 0)
    throw InputError("table '" + table + "' has no column '" + column + "'");
  Id mtype(H5Tcreate(H5T_COMPOUND, sizeof(T)));
  H5Tinsert(mtype.get(), column.c_str(), 0, native);
  require_plausible_size(ds.get(), n, sizeof(T), "read " + column);
  std::vector<T> out(n);
  if (n > 0) check_status(H5Dread(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "read " + column);
  return out;
}
}  // namespace

std::vector<std::int64_t> Group::read_int_column(const std::string& table, const std::string& column) const {
  return read_numeric<std::int64_t>(get(), table, column, H5T_NATIVE_INT64);
}
std::vector<double> Group::read_double_column(const std::string& table, const std::string& column) const {
  return read_numeric<double>(get(), table, column, H5T_NATIVE_DOUBLE);
}

std::vector<std::string> Group::read_string_column(const std::string& table, const std::string& column) const {
  Id ds = open_table(get(), table);
  Id space(H5Dget_space(ds.get()));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  Id ftype(H5Dget_type(ds.get()));
  const int idx = H5Tget_member_index(ftype.get(), column.c_str());
  if (idx < 0) throw InputError("table '" + table + "' has no column '" + column + "'");
  Id member(H5Tget_member_type(ftype.get(), static_cast<unsigned>(idx)));
  if (H5Tget_class(member.get()) != H5T_STRING) throw InputError("table '" + table + "': column '" + column + "' is not text");
  if (H5Tis_variable_str(member.get()) > 0) {
    const Compound layout({Member{column, MemberKind::text, 0}});
    Compound variable = table_layout(table, layout.members());
    const std::vector<char> rows = read_rows(table, variable);
    std::vector<std::string> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = std::string(text_member(rows.data() + i * variable.row_size(), variable.members()[0]));
    return out;
  }
  const std::size_t width = H5Tget_size(member.get());
  Id stype = string_type(width);
  H5Tset_cset(stype.get(), H5Tget_cset(member.get()));
  Id mtype(H5Tcreate(H5T_COMPOUND, width));
  H5Tinsert(mtype.get(), column.c_str(), 0, stype.get());
  require_plausible_size(ds.get(), n, width, "read " + column);
  std::vector<char> buf(n * width);
  if (n > 0) check_status(H5Dread(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "read " + column);
  std::vector<std::string> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const char* p = buf.data() + i * width;
    out[i].assign(p, strnlen(p, width));
  }
  return out;
}

std::vector<Group::ColumnInfo> Group::table_columns(const std::string& table) const {
  Id ds = open_table(get(), table);
  Id type(H5Dget_type(ds.get()));
  if (H5Tget_class(type.get()) != H5T_COMPOUND) throw InputError("'" + table + "' is not a table");
  std::vector<ColumnInfo> out;
  const int n = H5Tget_nmembers(type.get());
  for (int i = 0; i < n; ++i) {
    char* name = H5Tget_member_name(type.get(), static_cast<unsigned>(i));
    const H5T_class_t cls = H5Tget_member_class(type.get(), static_cast<unsigned>(i));
    out.push_back(ColumnInfo{name, cls == H5T_STRING, cls == H5T_INTEGER});
    H5free_memory(name);
  }
  return out;
}

Compound Group::table_layout(const std::string& table, std::vector<Member> declared) const {
  Id ds = open_table(get(), table);
  Id ftype(check(H5Dget_type(ds.get()), "get the type of " + table));
  if (H5Tget_class(ftype.get()) != H5T_COMPOUND)
    throw InputError("'" + table + "' is not a table");
  for (Member& m : declared) {
    const int idx = H5Tget_member_index(ftype.get(), m.name.c_str());
    if (idx < 0) throw InputError("table '" + table + "' has no column '" + m.name + "'");
    const H5T_class_t cls = H5Tget_member_class(ftype.get(), static_cast<unsigned>(idx));
    const bool text = cls == H5T_STRING;
    const bool number = cls == H5T_INTEGER || (cls == H5T_FLOAT && m.kind == MemberKind::float64);
    if (text != (m.kind == MemberKind::text) || (!text && !number))
      throw InputError("table '" + table + "': column '" + m.name + "' holds " + (text ? "text" : "other values") +
                       " where " + (m.kind == MemberKind::text ? "text" : "numbers") + " are expected");
    if (!text) continue;
    Id member(check(H5Tget_member_type(ftype.get(), static_cast<unsigned>(idx)), "get the type of " + m.name));
    m.variable = check_status_value(H5Tis_variable_str(member.get()), "inspect " + m.name) > 0;
    m.width = m.variable ? sizeof(const char*) : H5Tget_size(member.get());
  }
  return Compound(std::move(declared));
}

namespace {
bool has_variable_text(const Compound& layout) {
  return std::any_of(layout.members().begin(), layout.members().end(), [](const Member& m) { return m.variable; });
}

// Reads the selected rows with H5Dread into `rows`. Variable-length texts, which HDF5
// allocates one by one, are copied behind the rows and the rows' pointers aimed at the
// copies, so the buffer owns everything it points to; HDF5's copies are freed at once.
void read_selected_rows(hid_t ds, const std::string& table, const Compound& layout, hid_t mem_space, hid_t file_space,
                        std::size_t count, std::vector<char>& rows) {
  const Id type = layout.h5_type();
  const std::size_t row_size = layout.row_size();
  if (!has_variable_text(layout)) {
    rows.resize(count * row_size);
    check_status(H5Dread(ds, type.get(), mem_space, file_space, H5P_DEFAULT, rows.data()), "read table " + table);
    return;
  }
  std::vector<char> read(count * row_size, '\0');  // nullptr texts if the read stops early
  struct Reclaim {
    hid_t type, space;
    std::vector<char>& buffer;
    ~Reclaim() { H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer.data()); }
  } reclaim{type.get(), mem_space, read};
  check_status(H5Dread(ds, type.get(), mem_space, file_space, H5P_DEFAULT, read.data()), "read table " + table);
  std::size_t texts = 0;
  for (std::size_t k = 0; k < layout.members().size(); ++k)
    if (layout.members()[k].variable)
      for (std::size_t r = 0; r < count; ++r) texts += text_member(read.data() + r * row_size + layout.offset(k), layout.members()[k]).size() + 1;
  rows.assign(read.begin(), read.end());
  rows.resize(count * row_size + texts);
  char* tail = rows.data() + count * row_size;
  for (std::size_t k = 0; k < layout.members().size(); ++k) {
    if (!layout.members()[k].variable) continue;
    for (std::size_t r = 0; r < count; ++r) {
      const std::string_view s = text_member(read.data() + r * row_size + layout.offset(k), layout.members()[k]);
      if (!s.empty()) std::memcpy(tail, s.data(), s.size());
      tail[s.size()] = '\0';
      std::memcpy(rows.data() + r * row_size + layout.offset(k), &tail, sizeof tail);
      tail += s.size() + 1;
    }
  }
}
}  // namespace

std::vector<char> Group::read_rows(const std::string& table, const Compound& layout) const {
  Id ds = open_table(get(), table);
  Id space(check(H5Dget_space(ds.get()), "get the space of " + table));
  hsize_t n = 0;
  check_status(H5Sget_simple_extent_dims(space.get(), &n, nullptr), "get the rows of " + table);
  require_plausible_size(ds.get(), n, layout.row_size(), "read table " + table);
  std::vector<char> rows;
  if (n == 0) return rows;
  Id mem_space(check(H5Screate_simple(1, &n, nullptr), "create a memory space"));
  read_selected_rows(ds.get(), table, layout, mem_space.get(), H5S_ALL, static_cast<std::size_t>(n), rows);
  return rows;
}

namespace {
// Rows [first, first + count) of a table stored as this tool writes large ones -- chunked,
// deflate its only filter, the file's row type equal to the layout's -- straight from the
// compressed chunks: HDF5 reads the raw bytes, libdeflate inflates them on all threads
// (HDF5's own inflate ran on one thread and was a third of a 10M-customer load). False if
// the table is stored any other way (then H5Dread does it).
bool read_deflated_chunks(hid_t ds, hid_t mem_type, std::size_t row_size, std::size_t first, std::size_t count,
                          char* out) {
  Id dcpl(H5Dget_create_plist(ds));
  if (dcpl.get() < 0 || H5Pget_layout(dcpl.get()) != H5D_CHUNKED || H5Pget_nfilters(dcpl.get()) != 1) return false;
  unsigned flags = 0;
  std::size_t nvalues = 0;
  char filter_name[16];
  if (H5Pget_filter2(dcpl.get(), 0, &flags, &nvalues, nullptr, sizeof filter_name, filter_name, nullptr) != H5Z_FILTER_DEFLATE)
    return false;
  hsize_t chunk_rows = 0;
  if (H5Pget_chunk(dcpl.get(), 1, &chunk_rows) != 1 || chunk_rows == 0) return false;
  Id file_type(H5Dget_type(ds));
  if (file_type.get() < 0 || H5Tequal(file_type.get(), mem_type) <= 0) return false;
  const std::size_t chunk_bytes = static_cast<std::size_t>(chunk_rows) * row_size;
  const std::size_t first_chunk = first / chunk_rows, end_chunk = (first + count + chunk_rows - 1) / chunk_rows;
  const std::size_t chunks = end_chunk - first_chunk;
  std::vector<std::vector<char>> raw(chunks);
  for (std::size_t k = 0; k < chunks; ++k) {
    hsize_t offset[1] = {(first_chunk + k) * chunk_rows};
    hsize_t stored = 0;
    if (H5Dget_chunk_storage_size(ds, offset, &stored) < 0 || stored == 0) return false;  // unwritten: fill values
    require_plausible_size(ds, stored, 1, "read a chunk");
    raw[k].resize(stored);
    std::uint32_t mask = 0;
    if (H5Dread_chunk(ds, H5P_DEFAULT, offset, &mask, raw[k].data()) < 0) return false;
    if (mask != 0) return false;  // the filter was skipped for this chunk: not deflated
  }
  bool ok = true;
#pragma omp parallel
  {
    std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> unzip(libdeflate_alloc_decompressor(),
                                                                                        libdeflate_free_decompressor);
    std::vector<char> whole(chunk_bytes);
#pragma omp for schedule(dynamic)
    for (std::size_t k = 0; k < chunks; ++k) {
      std::size_t got = 0;
      if (!unzip || libdeflate_zlib_decompress(unzip.get(), raw[k].data(), raw[k].size(), whole.data(), chunk_bytes,
                                               &got) != LIBDEFLATE_SUCCESS || got != chunk_bytes) {
#pragma omp atomic write
        ok = false;
        continue;
      }
      const std::size_t chunk_first = (first_chunk + k) * static_cast<std::size_t>(chunk_rows);
      const std::size_t lo = std::max(first, chunk_first), hi = std::min<std::size_t>(first + count, chunk_first + chunk_rows);
      std::memcpy(out + (lo - first) * row_size, whole.data() + (lo - chunk_first) * row_size, (hi - lo) * row_size);
    }
  }
  return ok;
}
}  // namespace

void Group::read_rows(const std::string& table, const Compound& layout, std::size_t first, std::size_t count,
                      std::vector<char>& rows) const {
  rows.resize(count * layout.row_size());
  if (count == 0) return;
  Id ds = open_table(get(), table);
  {
    const Id type = layout.h5_type();
    // Raw chunks hold heap references where a row in memory holds pointers: not for variable text.
    if (!has_variable_text(layout) && read_deflated_chunks(ds.get(), type.get(), layout.row_size(), first, count, rows.data()))
      return;
  }
  Id file_space(check(H5Dget_space(ds.get()), "get the space of " + table));
  hsize_t start[1] = {first}, n[1] = {count};
  check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, n, nullptr),
               "select rows of " + table);
  Id mem_space(check(H5Screate_simple(1, n, nullptr), "create a memory space"));
  read_selected_rows(ds.get(), table, layout, mem_space.get(), file_space.get(), count, rows);
}

std::size_t Group::table_rows(const std::string& table) const {
  Id ds = open_table(get(), table);
  Id space(H5Dget_space(ds.get()));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  require_plausible_size(ds.get(), n, 1, "count the rows of " + table);  // callers size buffers by it
  return n;
}

}  // namespace reinforcer::h5
