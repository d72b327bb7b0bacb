#include "reinforcer/h5/hdf5.hpp"

#include "hdf5_check.hpp"

#include <array>

#include <libdeflate.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include <cstring>
#include <stdexcept>

#include "reinforcer/core/errors.hpp"

namespace reinforcer::h5 {
namespace {

// HDF5's own error stack printing is off: failures become one-line exceptions. The
// library's clean-up at exit is off too: after a failed write (a full disk) it retried
// flushing the file it could not close and crashed in libhdf5 1.10 (H5F__close_cb), turning
// the one-line error and its exit code into a segmentation fault. Files are closed by their
// owners; the operating system reclaims the rest.
struct SilenceHdf5 {
  SilenceHdf5() {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
};
const SilenceHdf5 kSilence;



Id string_type(std::size_t size) {
  Id t(check(H5Tcopy(H5T_C_S1), "copy the string type"));
  check_status(H5Tset_size(t.get(), size == 0 ? 1 : size), "set a string size");
  check_status(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), "set a string padding");
  check_status(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set a string character set");
  return t;
}

// Variable-length UTF-8: h5py reads bytes (str in attributes), h5dump prints the text.
Id variable_string_type() {
  Id t(check(H5Tcopy(H5T_C_S1), "copy the string type"));
  check_status(H5Tset_size(t.get(), H5T_VARIABLE), "set a variable string size");
  check_status(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set a string character set");
  return t;
}

hid_t native_type(MemberKind kind) {
  switch (kind) {
    case MemberKind::int8: return H5T_NATIVE_INT8;
    case MemberKind::int32: return H5T_NATIVE_INT32;
    case MemberKind::int64: return H5T_NATIVE_INT64;
    case MemberKind::float64: return H5T_NATIVE_DOUBLE;
    case MemberKind::text: break;
  }
  return H5T_C_S1;
}

std::size_t native_size(MemberKind kind) {
  switch (kind) {
    case MemberKind::int8: return 1;
    case MemberKind::int32: return 4;
    case MemberKind::int64: return 8;
    case MemberKind::float64: return 8;
    case MemberKind::text: break;
  }
  return 0;
}

// Chunked + deflate above this many rows; small tables stay contiguous (h5dump-friendly).
constexpr std::size_t kChunkRows = 1 << 14;

// Matrices of at least a chunk's values are chunked by rows, shuffled and deflated.
bool matrix_chunked(std::size_t rows, std::size_t cols) { return rows * cols >= kChunkRows; }

Id dataset_create_props(std::size_t rows, std::size_t cols) {
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (matrix_chunked(rows, cols)) {
    hsize_t chunk[2] = {std::min<hsize_t>(rows, kChunkRows), cols};
    H5Pset_chunk(dcpl.get(), cols == 0 ? 1 : 2, chunk);
    H5Pset_shuffle(dcpl.get());
    H5Pset_deflate(dcpl.get(), 1);  // with the shuffle, about the size of level 4 at half the time
  }
  return dcpl;
}

}  // namespace

Id::~Id() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
}

Id& Id::operator=(Id&& o) noexcept {
  if (this != &o) {
    Id tmp(id_);
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

Compound::Compound(std::vector<Member> members) : members_(std::move(members)) {
  for (Member& m : members_) {
    if (m.kind != MemberKind::text) m.width = native_size(m.kind), m.variable = false;
    if (m.variable) m.width = sizeof(const char*);
    if (m.width == 0) m.width = 1;  // HDF5 has no empty strings type
    offsets_.push_back(row_size_);
    row_size_ += m.width;
  }
}

Id Compound::h5_type() const {
  Id type(check(H5Tcreate(H5T_COMPOUND, row_size_ == 0 ? 1 : row_size_), "create a compound type"));
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const Member& m = members_[i];
    if (m.kind == MemberKind::text) {
      const Id text = m.variable ? variable_string_type() : string_type(m.width);
      check_status(H5Tinsert(type.get(), m.name.c_str(), offsets_[i], text.get()), "insert member " + m.name);
    } else if (!m.labels.empty()) {
      const Id named(check(H5Tenum_create(H5T_NATIVE_INT8), "create the enum type of " + m.name));
      for (std::size_t k = 0; k < m.labels.size(); ++k) {
        const auto code = static_cast<std::int8_t>(m.first_code + static_cast<int>(k));
        check_status(H5Tenum_insert(named.get(), m.labels[k].c_str(), &code), "name value " + m.labels[k] + " of " + m.name);
      }
      check_status(H5Tinsert(type.get(), m.name.c_str(), offsets_[i], named.get()), "insert member " + m.name);
    } else {
      check_status(H5Tinsert(type.get(), m.name.c_str(), offsets_[i], native_type(m.kind)), "insert member " + m.name);
    }
  }
  return type;
}

std::string_view text_member(const char* p, const Member& m) {
  if (!m.variable) return std::string_view(p, strnlen(p, m.width));
  const char* s = nullptr;
  std::memcpy(&s, p, sizeof s);
  return s ? std::string_view(s) : std::string_view();
}

Table& Table::add_raw(const std::string& name, MemberKind kind, std::size_t size, const void* data) {
  Column c{Member{name, kind, size}, std::vector<char>(rows_ * size), {}};
  if (rows_ > 0) std::memcpy(c.data.data(), data, rows_ * size);
  columns_.push_back(std::move(c));
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

Table& Table::add_strings(const std::string& name, const std::function<std::string_view(std::size_t)>& value) {
  std::size_t width = 1, total = 0;
  for (std::size_t i = 0; i < rows_; ++i) width = std::max(width, value(i).size()), total += value(i).size() + 1;
  if (width > kFixedTextLimit) {
    Column c{Member{name, MemberKind::text, sizeof(const char*)}, {}, std::vector<std::size_t>(rows_)};
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
  Column c{Member{name, MemberKind::text, width}, std::vector<char>(rows_ * width, '\0'), {}};
  for (std::size_t i = 0; i < rows_; ++i) {
    const std::string_view s = value(i);
    if (!s.empty()) std::memcpy(c.data.data() + i * width, s.data(), s.size());  // an empty view may hold nullptr
  }
  columns_.push_back(std::move(c));
  return *this;
}

Group Group::create_group(const std::string& name) const {
  return Group(Id(check(H5Gcreate2(get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group " + name)));
}
Group Group::open_group(const std::string& name) const {
  if (!exists(name)) throw InputError("the file has no group '" + name + "'");
  return Group(Id(check(H5Gopen2(get(), name.c_str(), H5P_DEFAULT), "open group " + name)));
}
bool Group::exists(const std::string& name) const { return H5Lexists(get(), name.c_str(), H5P_DEFAULT) > 0; }

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
    for (const auto& c : table.columns_) {
      const std::size_t size = c.member.width;
      if (c.member.variable) {
        for (std::size_t r = 0; r < n; ++r) {
          const char* text = c.data.data() + c.starts[begin + r];
          std::memcpy(packed.data() + offset + r * row_size, &text, sizeof text);
        }
        offset += size;
        continue;
      }
      const char* src = c.data.data() + begin * size;
      char* dst = packed.data() + offset;
      switch (size) {  // fixed sizes: let the compiler copy whole words
        case 1: for (std::size_t r = 0; r < n; ++r) dst[r * row_size] = src[r]; break;
        case 4: for (std::size_t r = 0; r < n; ++r) std::memcpy(dst + r * row_size, src + r * 4, 4); break;
        case 8: for (std::size_t r = 0; r < n; ++r) std::memcpy(dst + r * row_size, src + r * 8, 8); break;
        default: for (std::size_t r = 0; r < n; ++r) std::memcpy(dst + r * row_size, src + r * size, size);
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
template <typename T>
void write_matrix_of(hid_t group, const std::string& name, const std::vector<T>& v, std::size_t rows, std::size_t cols,
                     hid_t type) {
  if (v.size() != rows * cols) throw std::logic_error("matrix " + name + ": wrong size");
  hsize_t dims[2] = {rows, cols};
  Id space(H5Screate_simple(2, dims, nullptr));
  Id dcpl = dataset_create_props(rows, cols);
  Id ds(check(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
              "create matrix " + name));
  if (v.empty()) return;
  if (!matrix_chunked(rows, cols)) {
    check_status(H5Dwrite(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "write " + name);
    return;
  }
  // Whole chunks shuffled and deflated here, then written raw: the bytes HDF5's shuffle and
  // deflate filters would store, compressed by libdeflate (several times zlib's speed at
  // level 1; a 757 MB matrix of the call list took seconds in HDF5's filter).
  const std::size_t chunk_rows = std::min(rows, kChunkRows), chunk_values = chunk_rows * cols;
  std::vector<unsigned char> shuffled(chunk_values * sizeof(T));
  std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> zip(libdeflate_alloc_compressor(1),
                                                                             libdeflate_free_compressor);
  if (!zip) throw std::bad_alloc();
  std::vector<unsigned char> compressed(libdeflate_zlib_compress_bound(zip.get(), shuffled.size()));
  for (std::size_t begin = 0; begin < rows; begin += chunk_rows) {
    const std::size_t values = std::min(chunk_rows, rows - begin) * cols;
    if (values < chunk_values) std::fill(shuffled.begin(), shuffled.end(), 0);  // the edge chunk is stored whole
    // The shuffle: byte b of every value together, b = 0 .. sizeof(T) - 1.
    const auto* bytes = reinterpret_cast<const unsigned char*>(v.data() + begin * cols);
    for (std::size_t b = 0; b < sizeof(T); ++b) {
      unsigned char* lane = shuffled.data() + b * chunk_values;
      for (std::size_t i = 0; i < values; ++i) lane[i] = bytes[i * sizeof(T) + b];
    }
    const std::size_t size =
        libdeflate_zlib_compress(zip.get(), shuffled.data(), shuffled.size(), compressed.data(), compressed.size());
    if (size == 0) throw std::runtime_error("HDF5: compressing a chunk of " + name + " failed");
    const hsize_t offset[2] = {begin, 0};
    check_status(H5Dwrite_chunk(ds.get(), H5P_DEFAULT, 0, offset, size, compressed.data()), "write " + name);
  }
}
template <typename T>
void write_matrix_columns_of(hid_t group, const std::string& name, const std::vector<T>& v, std::size_t rows,
                             std::size_t stride, std::size_t cols, hid_t type) {
  if (v.size() != rows * stride || cols > stride) throw std::logic_error("matrix " + name + ": wrong size");
  hsize_t dims[2] = {rows, cols};
  Id space(H5Screate_simple(2, dims, nullptr));
  Id dcpl = dataset_create_props(rows, cols);
  Id ds(check(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
              "create matrix " + name));
  if (v.empty()) return;
  hsize_t mem_dims[2] = {rows, stride}, start[2] = {0, 0}, count[2] = {rows, cols};
  Id mem(H5Screate_simple(2, mem_dims, nullptr));
  check_status(H5Sselect_hyperslab(mem.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), "select " + name);
  check_status(H5Dwrite(ds.get(), type, mem.get(), H5S_ALL, H5P_DEFAULT, v.data()), "write " + name);
}
template <typename T>
std::vector<T> read_matrix_of(hid_t group, const std::string& name, std::size_t& rows, std::size_t& cols, hid_t type) {
  if (H5Lexists(group, name.c_str(), H5P_DEFAULT) <= 0) throw InputError("the file has no dataset '" + name + "'");
  Id ds(check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), "open " + name));
  Id space(H5Dget_space(ds.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 2) throw InputError("dataset '" + name + "' is not a 2-D array");
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  require_plausible_size(ds.get(), dims[0] * dims[1], sizeof(T), "read " + name);
  rows = dims[0], cols = dims[1];
  std::vector<T> out(rows * cols);
  if (!out.empty()) check_status(H5Dread(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "read " + name);
  return out;
}
// Rows [first, first + count) of a 2-D dataset whose shape is known.
template <typename T>
void read_matrix_rows_of(hid_t group, const std::string& name, std::size_t first, std::size_t count, std::size_t cols,
                         std::vector<T>& out, hid_t type) {
  Id ds(check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), "open " + name));
  Id space(H5Dget_space(ds.get()));
  const hsize_t start[2] = {first, 0}, size[2] = {count, cols};
  check_status(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, size, nullptr), "select rows of " + name);
  Id memory(H5Screate_simple(2, size, nullptr));
  out.resize(count * cols);
  if (!out.empty()) check_status(H5Dread(ds.get(), type, memory.get(), space.get(), H5P_DEFAULT, out.data()), "read " + name);
}
}  // namespace

void Group::read_matrix_rows(const std::string& name, std::size_t first, std::size_t count, std::size_t cols,
                             std::vector<double>& out) const {
  read_matrix_rows_of(get(), name, first, count, cols, out, H5T_NATIVE_DOUBLE);
}
void Group::read_matrix_rows(const std::string& name, std::size_t first, std::size_t count, std::size_t cols,
                             std::vector<std::int64_t>& out) const {
  read_matrix_rows_of(get(), name, first, count, cols, out, H5T_NATIVE_INT64);
}
std::array<std::size_t, 2> Group::matrix_shape(const std::string& name) const {
  if (H5Lexists(get(), name.c_str(), H5P_DEFAULT) <= 0) throw InputError("the file has no dataset '" + name + "'");
  Id ds(check(H5Dopen2(get(), name.c_str(), H5P_DEFAULT), "open " + name));
  Id space(H5Dget_space(ds.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 2) throw InputError("dataset '" + name + "' is not a 2-D array");
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  // Callers size buffers by the rows (a dataset never written can claim any extent).
  require_plausible_size(ds.get(), dims[0], 1, "read the shape of " + name);
  require_plausible_size(ds.get(), dims[1], 1, "read the shape of " + name);
  return {static_cast<std::size_t>(dims[0]), static_cast<std::size_t>(dims[1])};
}

void Group::write_matrix_columns(const std::string& name, const std::vector<double>& v, std::size_t rows,
                                 std::size_t stride, std::size_t cols) const {
  write_matrix_columns_of(get(), name, v, rows, stride, cols, H5T_NATIVE_DOUBLE);
}
void Group::write_matrix_columns(const std::string& name, const std::vector<std::int64_t>& v, std::size_t rows,
                                 std::size_t stride, std::size_t cols) const {
  write_matrix_columns_of(get(), name, v, rows, stride, cols, H5T_NATIVE_INT64);
}
void Group::write_matrix(const std::string& name, const std::vector<double>& v, std::size_t rows, std::size_t cols) const {
  write_matrix_of(get(), name, v, rows, cols, H5T_NATIVE_DOUBLE);
}
void Group::write_matrix(const std::string& name, const std::vector<std::int64_t>& v, std::size_t rows,
                         std::size_t cols) const {
  write_matrix_of(get(), name, v, rows, cols, H5T_NATIVE_INT64);
}
std::vector<double> Group::read_matrix(const std::string& name, std::size_t& rows, std::size_t& cols) const {
  return read_matrix_of<double>(get(), name, rows, cols, H5T_NATIVE_DOUBLE);
}
std::vector<std::int64_t> Group::read_int_matrix(const std::string& name, std::size_t& rows, std::size_t& cols) const {
  return read_matrix_of<std::int64_t>(get(), name, rows, cols, H5T_NATIVE_INT64);
}

namespace {
// Whether values of `type` live in the file's heap (variable-length strings or sequences),
// so a chunk's raw bytes refer to the source file and cannot be copied as they are.
bool holds_heap_values(hid_t type) {
  if (H5Tis_variable_str(type) > 0 || H5Tget_class(type) == H5T_VLEN) return true;
  if (H5Tget_class(type) == H5T_COMPOUND) {
    const int n = H5Tget_nmembers(type);
    for (int i = 0; i < n; ++i) {
      const Id member(H5Tget_member_type(type, static_cast<unsigned>(i)));
      if (member.valid() && holds_heap_values(member.get())) return true;
    }
  }
  if (H5Tget_class(type) == H5T_ARRAY) {
    const Id base(H5Tget_super(type));
    return base.valid() && holds_heap_values(base.get());
  }
  return false;
}

// Copies dataset `name` of `from` into `to` (type, shape, storage and filters, attributes):
// chunks raw as stored, else the values read and written whole. H5Ocopy did this, but
// crashed in libhdf5 1.10 when a write failed mid-copy (a full disk).
void copy_dataset(hid_t from, hid_t to, const std::string& name) {
  const Id src(check(H5Dopen2(from, name.c_str(), H5P_DEFAULT), "open " + name));
  const Id type(check(H5Dget_type(src.get()), "get the type of " + name));
  const Id space(check(H5Dget_space(src.get()), "get the space of " + name));
  const Id dcpl(check(H5Dget_create_plist(src.get()), "get the storage of " + name));
  const Id dst(check(H5Dcreate2(to, name.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                     "create " + name));
  Group(Id(check(H5Oopen(to, name.c_str(), H5P_DEFAULT), "open " + name)))
      .copy_attributes_from(Group(Id(check(H5Oopen(from, name.c_str(), H5P_DEFAULT), "open " + name))));
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points <= 0) return;
  if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED && !holds_heap_values(type.get())) {
    hsize_t chunks = 0;
    check_status(H5Dget_num_chunks(src.get(), space.get(), &chunks), "count the chunks of " + name);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<char> raw;
    for (hsize_t k = 0; k < chunks; ++k) {
      std::array<hsize_t, H5S_MAX_RANK> offset{};
      unsigned mask = 0;
      haddr_t address = 0;
      hsize_t bytes = 0;
      check_status(H5Dget_chunk_info(src.get(), space.get(), k, offset.data(), &mask, &address, &bytes), "locate a chunk of " + name);
      if (rank < 0 || rank > H5S_MAX_RANK) throw InputError("dataset '" + name + "' has an impossible rank");
      require_plausible_size(src.get(), bytes, 1, "read a chunk of " + name);
      raw.resize(bytes);
      std::uint32_t filters = 0;
      check_status(H5Dread_chunk(src.get(), H5P_DEFAULT, offset.data(), &filters, raw.data()), "read " + name);
      check_status(H5Dwrite_chunk(dst.get(), H5P_DEFAULT, filters, offset.data(), bytes, raw.data()), "write " + name);
    }
    return;
  }
  const Id memory(check(H5Tget_native_type(type.get(), H5T_DIR_DEFAULT), "get the memory type of " + name));
  const std::size_t size = H5Tget_size(memory.get());
  require_plausible_size(src.get(), static_cast<std::uint64_t>(points), size, "read " + name);
  std::vector<char> values(static_cast<std::size_t>(points) * size, '\0');
  struct Reclaim {
    hid_t type, space;
    std::vector<char>& buffer;
    bool heap;
    ~Reclaim() { if (heap) H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer.data()); }
  } reclaim{memory.get(), space.get(), values, holds_heap_values(memory.get())};
  check_status(H5Dread(src.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "read " + name);
  check_status(H5Dwrite(dst.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write " + name);
}

void copy_object(hid_t from, hid_t to, const std::string& name) {
  H5O_info_t info;
  check_status(H5Oget_info_by_name(from, name.c_str(), &info, H5P_DEFAULT), "inspect " + name);
  if (info.type == H5O_TYPE_DATASET) return copy_dataset(from, to, name);
  if (info.type != H5O_TYPE_GROUP) throw InputError("'" + name + "' is neither a group nor a dataset");
  const Group source(Id(check(H5Gopen2(from, name.c_str(), H5P_DEFAULT), "open group " + name)));
  const Group copy(Id(check(H5Gcreate2(to, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group " + name)));
  copy.copy_attributes_from(source);
  for (const std::string& member : source.member_names()) copy_object(source.get(), copy.get(), member);
}
}  // namespace

void Group::copy_from(const Group& source, const std::string& name) const {
  if (!source.exists(name)) throw InputError("the source file has no '" + name + "'");
  copy_object(source.get(), get(), name);
}

std::vector<std::string> Group::attribute_names() const {
  std::vector<std::string> names;
  H5Aiterate2(get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
              [](hid_t, const char* n, const H5A_info_t*, void* data) -> herr_t {
                static_cast<std::vector<std::string>*>(data)->push_back(n);
                return 0;
              },
              &names);
  return names;
}

void Group::set_attribute(const std::string& name, const std::string& value) const {
  // Variable-length UTF-8, so h5py returns str rather than bytes.
  Id type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Id space(H5Screate(H5S_SCALAR));
  Id a(check(H5Acreate2(get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), "attribute " + name));
  const char* p = value.c_str();
  check_status(H5Awrite(a.get(), type.get(), &p), "write attribute " + name);
}
void Group::set_attribute(const std::string& name, std::int64_t value) const {
  Id space(H5Screate(H5S_SCALAR));
  Id a(check(H5Acreate2(get(), name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT), "attribute " + name));
  check_status(H5Awrite(a.get(), H5T_NATIVE_INT64, &value), "write attribute " + name);
}
void Group::set_attribute(const std::string& name, double value) const {
  Id space(H5Screate(H5S_SCALAR));
  Id a(check(H5Acreate2(get(), name.c_str(), H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT, H5P_DEFAULT), "attribute " + name));
  check_status(H5Awrite(a.get(), H5T_NATIVE_DOUBLE, &value), "write attribute " + name);
}

bool Group::has_attribute(const std::string& name) const { return H5Aexists(get(), name.c_str()) > 0; }

namespace {
// H5Aread writes every value an attribute holds: one read into a single value must hold one.
void require_one_value(hid_t attribute, const std::string& name) {
  const Id space(check(H5Aget_space(attribute), "get the space of attribute " + name));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n != 1) throw InputError("attribute '" + name + "' holds " + std::to_string(n) + " values where one is expected");
}
}  // namespace

std::string Group::string_attribute(const std::string& name) const {
  if (!has_attribute(name)) throw InputError("attribute '" + name + "' is missing");
  Id a(check(H5Aopen(get(), name.c_str(), H5P_DEFAULT), "open attribute " + name));
  require_one_value(a.get(), name);
  Id ftype(H5Aget_type(a.get()));
  if (H5Tget_class(ftype.get()) != H5T_STRING) throw InputError("attribute '" + name + "' is not a string");
  if (H5Tis_variable_str(ftype.get()) > 0) {
    Id mtype(H5Tcopy(H5T_C_S1));
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));  // HDF5 does not convert between character sets
    char* p = nullptr;
    check_status(H5Aread(a.get(), mtype.get(), &p), "read attribute " + name);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const std::size_t size = H5Tget_size(ftype.get());
  std::string s(size, '\0');
  Id mtype = string_type(size);
  H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
  check_status(H5Aread(a.get(), mtype.get(), s.data()), "read attribute " + name);
  s.resize(std::strlen(s.c_str()));
  return s;
}

std::int64_t Group::int_attribute(const std::string& name) const {
  if (!has_attribute(name)) throw InputError("attribute '" + name + "' is missing");
  Id a(check(H5Aopen(get(), name.c_str(), H5P_DEFAULT), "open attribute " + name));
  require_one_value(a.get(), name);
  std::int64_t v = 0;
  check_status(H5Aread(a.get(), H5T_NATIVE_INT64, &v), "read attribute " + name);
  return v;
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

void Group::copy_attributes_from(const Group& source) const {
  for (const std::string& name : source.attribute_names()) {
    Id a(check(H5Aopen(source.get(), name.c_str(), H5P_DEFAULT), "open attribute " + name));
    Id type(H5Aget_type(a.get()));
    Id space(H5Aget_space(a.get()));
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    require_plausible_size(a.get(), n < 0 ? UINT64_MAX : static_cast<std::uint64_t>(n), H5Tget_size(type.get()), "read attribute " + name);
    std::vector<char> buf(static_cast<std::size_t>(n) * H5Tget_size(type.get()) + 16);
    check_status(H5Aread(a.get(), type.get(), buf.data()), "read attribute " + name);
    if (has_attribute(name)) remove_attribute(name);
    Id b(check(H5Acreate2(get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), "attribute " + name));
    check_status(H5Awrite(b.get(), type.get(), buf.data()), "write attribute " + name);
    if (H5Tdetect_class(type.get(), H5T_VLEN) > 0 || H5Tis_variable_str(type.get()) > 0)
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, buf.data());
  }
}

void Group::remove_attribute(const std::string& name) const {
  check_status(H5Adelete(get(), name.c_str()), "delete attribute " + name);
}

double Group::double_attribute(const std::string& name) const {
  if (!has_attribute(name)) throw InputError("attribute '" + name + "' is missing");
  Id a(check(H5Aopen(get(), name.c_str(), H5P_DEFAULT), "open attribute " + name));
  require_one_value(a.get(), name);
  double v = 0;
  check_status(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), "read attribute " + name);
  return v;
}

std::vector<std::string> Group::member_names() const {
  std::vector<std::string> names;
  H5Literate(get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
             [](hid_t, const char* n, const H5L_info_t*, void* data) -> herr_t {
               static_cast<std::vector<std::string>*>(data)->push_back(n);
               return 0;
             },
             &names);
  return names;
}

File File::create(const std::string& path) {
  // The user block is reserved for the seal; closing strongly closes every object still open,
  // so the file is complete on disk when close() returns.
  const Id fcpl(check(H5Pcreate(H5P_FILE_CREATE), "create file properties"));
  check_status(H5Pset_userblock(fcpl.get(), kSealBytes), "reserve the seal");
  const Id fapl(check(H5Pcreate(H5P_FILE_ACCESS), "create file access properties"));
  check_status(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "set the close degree");
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
  if (id < 0) throw PathError(path + ": cannot create the HDF5 file");
  return File(Id(id), path, true);
}

File File::open_read(const std::string& path) {
  check_seal(path);
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": not an HDF5 file");
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) throw InputError(path + ": cannot open as HDF5 (corrupt or truncated?)");
  return File(Id(id), path, false);
}

void File::close() {
  const hid_t id = release_id();
  if (id < 0) return;
  if (H5Fclose(id) < 0) throw PathError(path_ + ": HDF5 could not finish writing the file; is the disk full?");
  if (created_) seal_file(path_);
}

void File::flush() const { H5Fflush(get(), H5F_SCOPE_GLOBAL); }

}  // namespace reinforcer::h5
