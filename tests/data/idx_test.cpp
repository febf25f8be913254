// Tests for the IDX reader (data/dataset.hpp: idx_read, idx_load) on fixtures written at test
// time: round trips raw and gzip, and one test per kind of damaged file, checking the message.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/dataset.hpp"
#include "error_matchers.hpp"
#include "fixtures.hpp"

namespace initscope {
namespace {

using test::expect_error_with;
using test::idx_bytes;
using test::TempDir;

std::vector<uint8_t> counting(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 3 + 1);
  return v;
}

TEST(IdxRead, RawRoundTrip) {
  TempDir tmp;
  const auto data = counting(24);
  test::write_bytes(tmp / "a.idx", idx_bytes({2, 3, 4}, data));
  const IdxArray a = idx_read(tmp / "a.idx");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(a.data, data);
}

TEST(IdxRead, GzipRoundTripDetectedByMagicNotName) {
  TempDir tmp;
  const auto data = counting(300);
  test::write_gzip(tmp / "images.gz", idx_bytes({3, 10, 10}, data));
  test::write_gzip(tmp / "labels-no-suffix", idx_bytes({5}, counting(5)));
  const IdxArray a = idx_read(tmp / "images.gz");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 10, 10}));
  EXPECT_EQ(a.data, data);
  const IdxArray b = idx_read(tmp / "labels-no-suffix");
  EXPECT_EQ(b.dims, (std::vector<int64_t>{5}));
  EXPECT_EQ(b.data, counting(5));
}

TEST(IdxRead, LargeGzipSpanningManyChunks) {
  TempDir tmp;
  const auto data = counting(3u * 1000 * 1000);
  test::write_gzip(tmp / "big.gz", idx_bytes({3000, 1000}, data));
  const IdxArray a = idx_read(tmp / "big.gz");
  EXPECT_EQ(a.data, data);
}

TEST(IdxRead, WrongMagicNamesFile) {
  TempDir tmp;
  auto bytes = idx_bytes({4}, counting(4));
  bytes[0] = 0x50;  // e.g. a text or HTML error page saved as the data file
  test::write_bytes(tmp / "bad", bytes);
  expect_error_with([&] { idx_read(tmp / "bad"); },
                    {(tmp / "bad").string(), "magic", "expected an IDX file"});
}

TEST(IdxRead, WrongTypeCode) {
  TempDir tmp;
  test::write_bytes(tmp / "f", idx_bytes({4}, counting(16), 0x0d));
  expect_error_with([&] { idx_read(tmp / "f"); },
                    {(tmp / "f").string(), "type code 0x0d", "expected 0x08"});
}

TEST(IdxRead, BadNumberOfDimensions) {
  TempDir tmp;
  test::write_bytes(tmp / "zero", {0, 0, 8, 0});
  expect_error_with([&] { idx_read(tmp / "zero"); }, {(tmp / "zero").string(), "0 dimensions"});
  test::write_bytes(tmp / "five", idx_bytes({1, 1, 1, 1, 1}, {7}));
  expect_error_with([&] { idx_read(tmp / "five"); }, {"5 dimensions", "expected 1 to 4"});
}

TEST(IdxRead, ZeroDimension) {
  TempDir tmp;
  test::write_bytes(tmp / "f", idx_bytes({0, 28, 28}, {}));
  expect_error_with([&] { idx_read(tmp / "f"); }, {(tmp / "f").string(), "dimension 0", "is 0"});
}

TEST(IdxRead, TruncatedData) {
  TempDir tmp;
  auto bytes = idx_bytes({2, 3, 4}, counting(24));
  bytes.resize(bytes.size() - 4);
  test::write_bytes(tmp / "f", bytes);
  expect_error_with([&] { idx_read(tmp / "f"); },
                    {(tmp / "f").string(), "truncated", "2x3x4 = 24 bytes of data, found 20",
                     "expected an IDX file as distributed with MNIST"});
}

TEST(IdxRead, TruncatedGzipContent) {
  TempDir tmp;
  auto bytes = idx_bytes({2, 3, 4}, counting(24));
  bytes.resize(bytes.size() - 1);
  test::write_gzip(tmp / "f.gz", bytes);
  expect_error_with([&] { idx_read(tmp / "f.gz"); }, {(tmp / "f.gz").string(), "found 23"});
}

TEST(IdxRead, CutGzipStreamIsAnError) {
  TempDir tmp;
  test::write_gzip(tmp / "f.gz", idx_bytes({200, 50}, counting(10000)));
  auto gz = std::filesystem::file_size(tmp / "f.gz");
  std::filesystem::resize_file(tmp / "f.gz", gz / 2);
  expect_error_with([&] { idx_read(tmp / "f.gz"); }, {(tmp / "f.gz").string()});
}

TEST(IdxRead, TruncatedHeader) {
  TempDir tmp;
  test::write_bytes(tmp / "f", {0, 0, 8, 3, 0, 0});
  expect_error_with([&] { idx_read(tmp / "f"); }, {(tmp / "f").string(), "header"});
  test::write_bytes(tmp / "tiny", {0, 0});
  expect_error_with([&] { idx_read(tmp / "tiny"); }, {(tmp / "tiny").string(), "too short"});
}

TEST(IdxRead, TrailingBytes) {
  TempDir tmp;
  auto bytes = idx_bytes({2, 3, 4}, counting(26));
  test::write_bytes(tmp / "f", bytes);
  expect_error_with([&] { idx_read(tmp / "f"); },
                    {(tmp / "f").string(), "2 trailing bytes", "24 bytes of data, found 26"});
}

TEST(IdxRead, MissingFileNamesIt) {
  TempDir tmp;
  expect_error_with([&] { idx_read(tmp / "nope-idx3-ubyte"); },
                    {(tmp / "nope-idx3-ubyte").string(), "not found"});
}

TEST(IdxLoad, ScalesPixelsAndKeepsLabels) {
  TempDir tmp;
  test::write_bytes(tmp / "img", idx_bytes({2, 2, 3}, {0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8}));
  test::write_gzip(tmp / "lab.gz", idx_bytes({2}, {9, 0}));
  const Dataset d = idx_load(tmp / "img", tmp / "lab.gz");
  EXPECT_EQ(d.n, 2);
  EXPECT_EQ(d.dim, 6);
  EXPECT_EQ(d.num_classes, 10);
  ASSERT_EQ(d.x.size(), 12u);
  EXPECT_FLOAT_EQ(d.x[0], 0.0f);
  EXPECT_FLOAT_EQ(d.x[1], 1.0f);
  EXPECT_FLOAT_EQ(d.x[2], 0.2f);
  EXPECT_FLOAT_EQ(d.row(1)[0], 3.0f / 255.0f);
  EXPECT_EQ(d.y, (std::vector<int32_t>{9, 0}));
}

TEST(IdxLoad, MismatchedCounts) {
  TempDir tmp;
  test::write_bytes(tmp / "img", idx_bytes({3, 2, 2}, counting(12)));
  test::write_bytes(tmp / "lab", idx_bytes({2}, {1, 2}));
  expect_error_with([&] { idx_load(tmp / "img", tmp / "lab"); },
                    {(tmp / "img").string(), (tmp / "lab").string(), "3 images", "2 labels"});
}

TEST(IdxLoad, LabelOutOfRange) {
  TempDir tmp;
  test::write_bytes(tmp / "img", idx_bytes({3, 2, 2}, counting(12)));
  test::write_bytes(tmp / "lab", idx_bytes({3}, {1, 10, 2}));
  expect_error_with([&] { idx_load(tmp / "img", tmp / "lab"); },
                    {(tmp / "lab").string(), "label 10 of example 1", "0..9"});
  // The same file is fine when there are more classes.
  EXPECT_EQ(idx_load(tmp / "img", tmp / "lab", 11).num_classes, 11);
}

TEST(IdxLoad, WrongRanks) {
  TempDir tmp;
  test::write_bytes(tmp / "img", idx_bytes({3, 2, 2}, counting(12)));
  test::write_bytes(tmp / "lab", idx_bytes({3}, {1, 2, 3}));
  expect_error_with([&] { idx_load(tmp / "lab", tmp / "img"); },
                    {(tmp / "lab").string(), "3 dimensions", "found 1"});
  expect_error_with([&] { idx_load(tmp / "img", tmp / "img"); },
                    {"expected a label file with 1 dimension", "found 3"});
}

// Reliability B6: a gzip bomb (a small header followed by a long run of zeros) is refused after
// at most the header's promise plus a probe, not decompressed to its end; a header promising
// more than an IDX file may hold is refused before anything is allocated; a device is refused.
TEST(IdxRead, GzipBombIsRefusedWithinTheHeadersPromise) {
  TempDir tmp;
  std::vector<uint8_t> bomb = idx_bytes({4}, counting(4));
  bomb.resize(bomb.size() + (size_t{64} << 20), 0);  // 64 MiB of zeros: about 64 KB as gzip
  test::write_gzip(tmp / "bomb.gz", bomb);
  EXPECT_LT(std::filesystem::file_size(tmp / "bomb.gz"), size_t{1} << 20);
  expect_error_with([&] { idx_read(tmp / "bomb.gz"); },
                    {(tmp / "bomb.gz").string(), "more than 1048576 trailing bytes"});
}

TEST(IdxRead, HugePromiseIsRefusedBeforeAllocating) {
  TempDir tmp;
  std::vector<uint8_t> bytes = {0, 0, 0x08, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};  // 2^48 bytes
  test::write_bytes(tmp / "huge.idx", bytes);
  expect_error_with([&] { idx_read(tmp / "huge.idx"); },
                    {(tmp / "huge.idx").string(), "65536x65536x65536", "more than the"});
}

// The data arrives in pieces of 16 MiB: a file of several pieces reads whole, raw and gzip.
TEST(IdxRead, DataSpanningSeveralPiecesReadsWhole) {
  TempDir tmp;
  const auto data = counting(40u * 1000 * 1000);
  test::write_gzip(tmp / "big.gz", idx_bytes({40, 1000, 1000}, data));
  test::write_bytes(tmp / "big.idx", idx_bytes({40, 1000, 1000}, data));
  EXPECT_EQ(idx_read(tmp / "big.gz").data, data);
  EXPECT_EQ(idx_read(tmp / "big.idx").data, data);
}

// Found by fuzz_idx: a 21-byte file whose header promises 2.7 GB (under the 4 GiB cap) made the
// reader allocate and zero the whole promise (2.7 GB, 14 s under ASan) before finding it short.
// Now a raw file is refused from its size, and a gzip stream costs what it delivers. Each read
// runs in a child process, whose peak resident memory is its own.
TEST(IdxRead, ShortFileWithABigPromiseCostsOnlyWhatItHolds) {
  TempDir tmp;
  const std::vector<uint8_t> bytes = {
      0,    0, 0x08, 3,    0,    0, 0, 2, 0, 0, 0x9c,
      0x40, 0, 0,    0x84, 0x67, 1, 2, 3, 4, 5};  // 2x40000x33895 = 2711600000 bytes promised
  test::write_bytes(tmp / "short.idx", bytes);
  test::write_gzip(tmp / "short.gz", bytes);
  for (const char* name : {"short.idx", "short.gz"}) {
    const auto file = tmp / name;
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 2;  // read without an error
      try {
        idx_read(file);
      } catch (const Error& e) {
        code = std::string(e.what()).find(
                   "file is truncated: header says 2x40000x33895 = "
                   "2711600000 bytes of data, found 5") != std::string::npos
                   ? 0
                   : 3;
      }
      rusage ru{};
      getrusage(RUSAGE_SELF, &ru);
      if (code == 0 && ru.ru_maxrss > 256 * 1024) code = 4;  // KiB: more than 256 MiB resident
      _exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status)) << name;
    EXPECT_EQ(WEXITSTATUS(status), 0) << name << ": 2 read, 3 another message, 4 too much memory";
  }
}

TEST(IdxRead, DeviceIsNotARegularFile) {
  expect_error_with([] { idx_read("/dev/zero"); }, {"/dev/zero", "not a regular file"});
}

}  // namespace
}  // namespace initscope
