// The values-as-bytes helpers every broadcast and gather of plain numbers goes through.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "reinforcer/core/bytes.hpp"

using namespace reinforcer;

TEST_CASE("bytes: values written are read back exactly, in order, empty runs included", "[bytes]") {
  struct Pair {
    std::int32_t a;
    float b;
  };
  const std::vector<double> doubles = {1.5, -0.0, std::numeric_limits<double>::infinity(), 1e-310};
  const std::vector<double> none;
  std::string bytes;
  ByteWriter w(bytes);
  w.put(std::int64_t{-7});
  w.put_values(none);  // no pointer to copy from: nothing is written
  w.put_values(doubles);
  w.put(Pair{3, 0.25f});
  w.put_text("inbound");
  CHECK(bytes.size() == 8 + 4 * 8 + sizeof(Pair) + 4 + 7);

  ByteReader in(bytes, "test bytes");
  CHECK(in.get<std::int64_t>() == -7);
  CHECK(in.get_vector<double>(0).empty());
  const std::vector<double> back = in.get_vector<double>(doubles.size());
  REQUIRE(back.size() == doubles.size());
  for (std::size_t i = 0; i < back.size(); ++i) CHECK(std::memcmp(&back[i], &doubles[i], sizeof(double)) == 0);  // -0.0 stays -0.0
  const Pair p = in.get<Pair>();
  CHECK(p.a == 3);
  CHECK(p.b == 0.25f);
  CHECK(in.get_text() == "inbound");
  CHECK(in.done());
  CHECK(values_of<double>(bytes_of(doubles), "test bytes").size() == doubles.size());
  CHECK(values_of<double>(std::string(), "test bytes").empty());
}

TEST_CASE("bytes: a short or ragged read is refused with what the bytes were", "[bytes]") {
  const std::string bytes = bytes_of(std::vector<double>{1.0, 2.0});
  ByteReader in(bytes, "the refits' payload");
  in.get<double>();
  CHECK_THROWS_WITH(in.get_vector<double>(2), Catch::Contains("the refits' payload: truncated"));
  CHECK_THROWS_AS(values_of<double>(std::string_view(bytes).substr(0, 12), "x"), std::invalid_argument);
  CHECK(values_of<std::int32_t>(std::string_view(bytes).substr(0, 12), "x").size() == 3);
}
