// The h5 layer's handles, types, groups, attributes and files; tables (hdf5_tables.cpp),
// matrices (hdf5_matrices.cpp) and copies between files (hdf5_copy.cpp) build on them.
#include "reinforcer/h5/hdf5.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "hdf5_check.hpp"
#include "hdf5_types.hpp"
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

}  // namespace

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

Id dataset_create_props(std::size_t rows, std::size_t cols) {
  Id dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "create dataset properties"));
  if (matrix_chunked(rows, cols)) {
    hsize_t chunk[2] = {std::min<hsize_t>(rows, kChunkRows), cols};
    check_status(H5Pset_chunk(dcpl.get(), cols == 0 ? 1 : 2, chunk), "set the chunks of a matrix");
    check_status(H5Pset_shuffle(dcpl.get()), "set the shuffle of a matrix");
    // With the shuffle, about the size of level 4 at half the time.
    check_status(H5Pset_deflate(dcpl.get(), 1), "set the compression of a matrix");
  }
  return dcpl;
}

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

Group Group::create_group(const std::string& name) const {
  return Group(Id(check(H5Gcreate2(get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group " + name)));
}
Group Group::open_group(const std::string& name) const {
  if (!exists(name)) throw InputError("the file has no group '" + name + "'");
  return Group(Id(check(H5Gopen2(get(), name.c_str(), H5P_DEFAULT), "open group " + name)));
}
bool Group::exists(const std::string& name) const { return H5Lexists(get(), name.c_str(), H5P_DEFAULT) > 0; }

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
