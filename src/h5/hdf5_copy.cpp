// Copying datasets and groups from another file: chunks raw as stored, else values whole.
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

}  // namespace reinforcer::h5
