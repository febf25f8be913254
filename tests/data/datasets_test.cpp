// Tests for named datasets in a data directory (data_dir, load_dataset, check_data, and the
// fetch errors that need no network) on tiny fake folders. The real Fashion-MNIST files are
// read only if the Debian package has put them on this machine.
#include <gtest/gtest.h>

#include <cstdlib>

#include "data/dataset.hpp"
#include "error_matchers.hpp"
#include "fixtures.hpp"

namespace initscope {
namespace {

using test::expect_error_with;
using test::TempDir;

TEST(DataDir, OverrideThenEnvironmentThenHome) {
  EXPECT_EQ(data_dir(std::filesystem::path("/x/y")), std::filesystem::path("/x/y"));
  const char* old = std::getenv("INITSCOPE_DATA");
  const std::string saved = old ? old : "";
  setenv("INITSCOPE_DATA", "/from/env", 1);
  EXPECT_EQ(data_dir(std::nullopt), std::filesystem::path("/from/env"));
  unsetenv("INITSCOPE_DATA");
  if (const char* home = std::getenv("HOME")) {
    EXPECT_EQ(data_dir(std::nullopt), std::filesystem::path(home) / ".cache" / "initscope");
  }
  if (old) setenv("INITSCOPE_DATA", saved.c_str(), 1);
}

TEST(DatasetNames, AllThree) {
  EXPECT_EQ(dataset_names(), (std::vector<std::string>{"mnist", "fashion-mnist", "cifar10"}));
}

TEST(LoadDataset, RawMnistFolder) {
  TempDir tmp;
  test::write_tiny_mnist(tmp / "mnist", /*gz=*/false);
  const TrainTest tt = load_dataset("mnist", tmp.path());
  EXPECT_EQ(tt.train.n, 6);
  EXPECT_EQ(tt.test.n, 4);
  EXPECT_EQ(tt.train.dim, 9);
  EXPECT_EQ(tt.train.y[5], 5);
  EXPECT_FLOAT_EQ(tt.train.row(1)[2], 9.0f / 255.0f);
}

TEST(LoadDataset, GzipFashionFolder) {
  TempDir tmp;
  test::write_tiny_mnist(tmp / "fashion-mnist", /*gz=*/true, 5, 3, 4);
  const TrainTest tt = load_dataset("fashion-mnist", tmp.path());
  EXPECT_EQ(tt.train.n, 5);
  EXPECT_EQ(tt.test.n, 3);
  EXPECT_EQ(tt.test.dim, 16);
}

TEST(LoadDataset, PrefersRawOverGzip) {
  TempDir tmp;
  test::write_tiny_mnist(tmp / "mnist", /*gz=*/true, 5, 3);
  test::write_tiny_mnist(tmp / "mnist", /*gz=*/false, 7, 2);
  EXPECT_EQ(load_dataset("mnist", tmp.path()).train.n, 7);
}

TEST(LoadDataset, MissingFileSaysHowToFetch) {
  TempDir tmp;
  expect_error_with(
      [&] { load_dataset("mnist", tmp.path()); },
      {(tmp.path() / "mnist" / "train-images-idx3-ubyte").string(), "initscope data fetch mnist"});
  expect_error_with([&] { load_dataset("fashion-mnist", tmp.path()); },
                    {"initscope data fetch fashion-mnist"});
  expect_error_with([&] { load_dataset("cifar10", tmp.path()); },
                    {"data_batch_1.bin", "binary version", "--data-dir"});
}

TEST(LoadDataset, UnknownNameListsValidOnes) {
  TempDir tmp;
  expect_error_with([&] { load_dataset("svhn", tmp.path()); },
                    {"svhn", "mnist", "fashion-mnist", "cifar10"});
}

TEST(LoadDataset, Cifar10Folder) {
  TempDir tmp;
  const auto folder = tmp.path() / "cifar-10-batches-bin";
  for (int b = 1; b <= 5; ++b)
    test::write_bytes(folder / ("data_batch_" + std::to_string(b) + ".bin"),
                      test::cifar_bytes({static_cast<uint8_t>(b)}));
  test::write_bytes(folder / "test_batch.bin", test::cifar_bytes({0, 9}));
  const TrainTest tt = load_dataset("cifar10", tmp.path());
  EXPECT_EQ(tt.train.n, 5);
  EXPECT_EQ(tt.train.y, (std::vector<int32_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(tt.test.n, 2);
}

TEST(FetchDataset, CifarAndUnknownNamesAreErrors) {
  TempDir tmp;
  expect_error_with([&] { fetch_dataset("cifar10", tmp.path()); },
                    {"cifar10 cannot be fetched", "binary version", "--data-dir"});
  expect_error_with([&] { fetch_dataset("imagenet", tmp.path()); },
                    {"imagenet", "mnist", "fashion-mnist"});
}

TEST(CheckData, ReportsMissingOkAndInvalid) {
  TempDir tmp;
  test::write_tiny_mnist(tmp / "fashion-mnist", /*gz=*/true);
  test::write_tiny_mnist(tmp / "mnist", /*gz=*/false);
  test::write_bytes(tmp / "mnist" / "t10k-labels-idx1-ubyte", {1, 2, 3, 4, 5});
  const auto status = check_data(tmp.path());
  // One cache line, for the only complete dataset (fashion-mnist), before the images.
  ASSERT_EQ(status.size(), 4u + 4u + 6u + 1u + standard_images().size());
  int ok = 0, missing = 0;
  for (const auto& s : status) {
    ok += s.ok;
    missing += s.detail == "missing";
  }
  EXPECT_EQ(ok, 5);  // the fake fashion-mnist files and their (absent) cache; fake MNIST fails
  EXPECT_EQ(missing, 6 + 12);  // all of CIFAR-10 and the standard images
  EXPECT_EQ(status[0].dataset, "mnist");
  EXPECT_NE(status[0].detail.find("sha256 mismatch"), std::string::npos) << status[0].detail;
  EXPECT_NE(status[3].detail.find("magic"), std::string::npos) << status[3].detail;
  EXPECT_EQ(status[4].dataset, "fashion-mnist");
  EXPECT_EQ(status[4].detail, "6 images 3x3");
  EXPECT_EQ(status[4].file.filename(), "train-images-idx3-ubyte.gz");
  EXPECT_EQ(status[5].detail, "6 labels");
  EXPECT_EQ(status[8].dataset, "cifar10");
  EXPECT_EQ(status[14].dataset, "fashion-mnist");
  EXPECT_EQ(status[14].file, tmp / "cache" / "fashion-mnist.f32");
  EXPECT_EQ(status[14].detail, "no cache yet (the first run builds it)");
  EXPECT_EQ(status[15].dataset, "images");
}

TEST(RealFashionMnist, ReadsDebianPackageFiles) {
  const std::filesystem::path src = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(src / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "package dataset-fashion-mnist is not installed";
  const Dataset train =
      idx_load(src / "train-images-idx3-ubyte.gz", src / "train-labels-idx1-ubyte.gz");
  const Dataset test =
      idx_load(src / "t10k-images-idx3-ubyte.gz", src / "t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(train.n, 60000);
  EXPECT_EQ(test.n, 10000);
  EXPECT_EQ(train.dim, 28 * 28);
  EXPECT_EQ(test.dim, 28 * 28);
}

}  // namespace
}  // namespace initscope
