// Tests for the CIFAR-10 binary reader (cifar10_read) on records written at test time.
#include <gtest/gtest.h>

#include "data/dataset.hpp"
#include "error_matchers.hpp"
#include "fixtures.hpp"

namespace initscope {
namespace {

using test::cifar_bytes;
using test::expect_error_with;
using test::TempDir;

TEST(Cifar10Read, TwoRecordsInFileOrder) {
  TempDir tmp;
  test::write_bytes(tmp / "b.bin", cifar_bytes({3, 9}));
  const Dataset d = cifar10_read({tmp / "b.bin"});
  EXPECT_EQ(d.n, 2);
  EXPECT_EQ(d.dim, 3072);
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.y, (std::vector<int32_t>{3, 9}));
  ASSERT_EQ(d.x.size(), 2u * 3072);
  EXPECT_FLOAT_EQ(d.row(0)[0], 0.0f);
  EXPECT_FLOAT_EQ(d.row(0)[255], 1.0f);
  EXPECT_FLOAT_EQ(d.row(1)[0], 1.0f / 255.0f);
  EXPECT_FLOAT_EQ(d.row(1)[1024], static_cast<float>((1 + 1024) % 256) / 255.0f);  // green plane
}

TEST(Cifar10Read, ConcatenatesFiles) {
  TempDir tmp;
  test::write_bytes(tmp / "a.bin", cifar_bytes({1}));
  test::write_bytes(tmp / "b.bin", cifar_bytes({2, 0}));
  const Dataset d = cifar10_read({tmp / "a.bin", tmp / "b.bin"});
  EXPECT_EQ(d.n, 3);
  EXPECT_EQ(d.y, (std::vector<int32_t>{1, 2, 0}));
  EXPECT_EQ(d.x.size(), 3u * 3072);
}

TEST(Cifar10Read, LengthNotWholeRecords) {
  TempDir tmp;
  auto bytes = cifar_bytes({1, 2});
  bytes.pop_back();
  test::write_bytes(tmp / "b.bin", bytes);
  expect_error_with([&] { cifar10_read({tmp / "b.bin"}); },
                    {(tmp / "b.bin").string(), "6145 bytes", "3073-byte records"});
}

TEST(Cifar10Read, EmptyFile) {
  TempDir tmp;
  test::write_bytes(tmp / "b.bin", {});
  expect_error_with([&] { cifar10_read({tmp / "b.bin"}); }, {(tmp / "b.bin").string(), "empty"});
}

TEST(Cifar10Read, BadLabel) {
  TempDir tmp;
  test::write_bytes(tmp / "b.bin", cifar_bytes({4, 10}));
  expect_error_with([&] { cifar10_read({tmp / "b.bin"}); },
                    {(tmp / "b.bin").string(), "record 1 has label 10", "0..9"});
}

TEST(Cifar10Read, MissingFile) {
  TempDir tmp;
  expect_error_with([&] { cifar10_read({tmp / "data_batch_1.bin"}); },
                    {(tmp / "data_batch_1.bin").string(), "not found"});
}

}  // namespace
}  // namespace initscope
