#include <catch2/catch.hpp>

#include "reinforcer/core/sha256.hpp"
#include "test_support.hpp"

using namespace reinforcer;

TEST_CASE("SHA-256 matches the FIPS 180-4 test vectors", "[sha256]") {
  Sha256 empty;
  CHECK(empty.hex_digest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.update("abc", 3);
  CHECK(abc.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha256 h;
  for (char c : two_blocks) h.update(&c, 1);  // byte by byte: the buffering path
  CHECK(h.hex_digest() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  test::TempDir dir;
  const std::string million(1000000, 'a');
  CHECK(sha256_of_file(dir.write("a", million)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
