#include "hdf5_check.hpp"

#include <algorithm>
#include <vector>

#include "reinforcer/core/errors.hpp"

namespace reinforcer::h5 {

// A failed call names the files open at the time (HDF5 knows them; the call that failed
// does not say which): reading, the file is damaged; writing, most likely the disk is full
// (then only the files open for writing are named).
void fail(const std::string& what) {
  std::string files, written;  // every open file; those open for writing
  bool writing = false;
  const ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
  if (n > 0) {
    std::vector<hid_t> ids(static_cast<std::size_t>(n));
    const ssize_t got = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, ids.size(), ids.data());
    for (ssize_t i = 0; i < got; ++i) {
      const ssize_t len = H5Fget_name(ids[static_cast<std::size_t>(i)], nullptr, 0);
      if (len <= 0) continue;
      std::string name(static_cast<std::size_t>(len) + 1, '\0');
      H5Fget_name(ids[static_cast<std::size_t>(i)], name.data(), name.size());
      name.resize(static_cast<std::size_t>(len));
      unsigned intent = 0;
      const bool output = H5Fget_intent(ids[static_cast<std::size_t>(i)], &intent) >= 0 && (intent & H5F_ACC_RDWR);
      writing = writing || output;
      files += (files.empty() ? "" : " or ") + name;
      if (output) written += (written.empty() ? "" : " or ") + name;
    }
  }
  const std::string where = files.empty() ? std::string("HDF5") : files;
  // Writing, the output is the likely culprit (a full disk), not the inputs open beside it.
  if (writing) throw PathError(written + ": HDF5 could not " + what + "; is the disk full or the file system read-only?");
  throw InputError(where + ": HDF5 could not " + what + ": the file is damaged or truncated; re-create it with the command that wrote it");
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) fail(what);
  return id;
}
void check_status(herr_t s, const std::string& what) {
  if (s < 0) fail(what);
}
// For calls whose non-negative result is an answer (htri_t: true/false).
int check_status_value(htri_t s, const std::string& what) {
  if (s < 0) fail(what);
  return s;
}

void require_plausible_size(hid_t object, std::uint64_t elements, std::uint64_t element_size, const std::string& what) {
  hsize_t file_size = 0;
  const hid_t file = H5Iget_file_id(object);
  if (file >= 0) {
    H5Fget_filesize(file, &file_size);
    H5Fclose(file);
  }
  const std::uint64_t limit = std::max<std::uint64_t>(std::uint64_t{1} << 24, file_size * 1100);
  const bool overflows = element_size != 0 && elements > UINT64_MAX / element_size;
  if (overflows || elements * element_size > limit)
    fail(what + ": it claims " + std::to_string(elements) + " values of " + std::to_string(element_size) +
         " bytes, more than a file of " + std::to_string(file_size) + " bytes can hold");
}

}  // namespace reinforcer::h5
