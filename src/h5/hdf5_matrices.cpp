// Matrices: [rows, cols] datasets of doubles or integers; large ones chunked by rows,
// shuffled and deflated by the writer (raw chunks), read whole or a range of rows at a time.
#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>

#include "hdf5_check.hpp"
#include "hdf5_types.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/h5/hdf5.hpp"

namespace reinforcer::h5 {

namespace {
// A [rows, cols] dataset of `type`, laid out by dataset_create_props.
Id create_matrix(hid_t group, const std::string& name, std::size_t rows, std::size_t cols, hid_t type) {
  hsize_t dims[2] = {rows, cols};
  const Id space(check(H5Screate_simple(2, dims, nullptr), "create the space of " + name));
  const Id dcpl = dataset_create_props(rows, cols);
  return Id(check(H5Dcreate2(group, name.c_str(), type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                  "create matrix " + name));
}

// A [rows, cols] matrix whose rows come from fill(first, count, out) a chunk at a time (out:
// count x cols, row-major), so the whole matrix need never be in memory.
template <typename T>
void write_matrix_blocks_of(hid_t group, const std::string& name, std::size_t rows, std::size_t cols, hid_t type,
                            const std::function<void(std::size_t, std::size_t, T*)>& fill) {
  const Id ds = create_matrix(group, name, rows, cols, type);
  if (rows * cols == 0) return;
  if (!matrix_chunked(rows, cols)) {  // small: whole
    std::vector<T> v(rows * cols);
    fill(0, rows, v.data());
    check_status(H5Dwrite(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), "write " + name);
    return;
  }
  // Whole chunks shuffled and deflated here, then written raw: the bytes HDF5's shuffle and
  // deflate filters would store, compressed by libdeflate (several times zlib's speed at
  // level 1; a 757 MB matrix of the call list took seconds in HDF5's filter).
  const std::size_t chunk_rows = std::min(rows, kChunkRows), chunk_values = chunk_rows * cols;
  std::vector<T> block(chunk_values);
  std::vector<unsigned char> shuffled(chunk_values * sizeof(T));
  std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> zip(libdeflate_alloc_compressor(1),
                                                                             libdeflate_free_compressor);
  if (!zip) throw std::bad_alloc();
  std::vector<unsigned char> compressed(libdeflate_zlib_compress_bound(zip.get(), shuffled.size()));
  for (std::size_t begin = 0; begin < rows; begin += chunk_rows) {
    const std::size_t count = std::min(chunk_rows, rows - begin), values = count * cols;
    fill(begin, count, block.data());
    if (values < chunk_values) std::fill(shuffled.begin(), shuffled.end(), 0);  // the edge chunk is stored whole
    // The shuffle: byte b of every value together, b = 0 .. sizeof(T) - 1.
    const auto* bytes = reinterpret_cast<const unsigned char*>(block.data());
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
void write_matrix_of(hid_t group, const std::string& name, const std::vector<T>& v, std::size_t rows, std::size_t cols,
                     hid_t type) {
  if (v.size() != rows * cols) throw std::logic_error("matrix " + name + ": wrong size");
  write_matrix_blocks_of<T>(group, name, rows, cols, type, [&v, cols](std::size_t first, std::size_t count, T* out) {
    std::memcpy(out, v.data() + first * cols, count * cols * sizeof(T));
  });
}
template <typename T>
void write_matrix_columns_of(hid_t group, const std::string& name, const std::vector<T>& v, std::size_t rows,
                             std::size_t stride, std::size_t cols, hid_t type) {
  if (v.size() != rows * stride || cols > stride) throw std::logic_error("matrix " + name + ": wrong size");
  const Id ds = create_matrix(group, name, rows, cols, type);
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
void Group::write_matrix_rows(const std::string& name, std::size_t rows, std::size_t cols,
                              const std::function<void(std::size_t, std::size_t, double*)>& fill) const {
  write_matrix_blocks_of<double>(get(), name, rows, cols, H5T_NATIVE_DOUBLE, fill);
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

}  // namespace reinforcer::h5
