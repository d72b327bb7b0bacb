// The xlsx reader and ingest. Mutating a zip's compressed bytes mostly breaks its checksums,
// so the input is the XML itself: the worksheet, then (after a line "--sharedStrings--") the
// shared strings; the target zips them (stored) into a workbook and ingests it.
#include <zip.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_file.hpp"
#include "reinforcer/core/errors.hpp"
#include "reinforcer/data/ingest.hpp"

namespace {
void add(zip_t* z, const char* name, std::string_view content) {
  zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
  if (!src || zip_file_add(z, name, src, ZIP_FL_OVERWRITE) < 0) std::abort();
  zip_set_file_compression(z, static_cast<zip_uint64_t>(zip_name_locate(z, name, 0)), ZIP_CM_STORE, 0);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = fuzz::scratch_path(".xlsx");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view marker = "\n--sharedStrings--\n";
  const auto cut = input.find(marker);
  const std::string_view sheet = input.substr(0, cut);
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  if (!z) std::abort();
  add(z, "xl/workbook.xml",
      "<workbook xmlns:r=\"r\"><sheets><sheet name=\"CRM\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
  add(z, "xl/_rels/workbook.xml.rels",
      "<Relationships><Relationship Id=\"rId1\" Type=\"worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>");
  add(z, "xl/worksheets/sheet1.xml", sheet);
  if (cut != std::string_view::npos) add(z, "xl/sharedStrings.xml", input.substr(cut + marker.size()));
  if (zip_close(z) != 0) std::abort();
  try {
    static const reinforcer::IngestOptions options;  // the shipped aliases, parsed once
    reinforcer::ingest_crm(path, options);
  } catch (const reinforcer::Error&) {
  }
  return 0;
}
