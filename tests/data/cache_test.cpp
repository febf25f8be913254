// Tests for the shared dataset cache (data/cache.hpp) on tiny fake MNIST folders: built once and
// then mapped, values identical to converting in memory, and every way a cache can be wrong
// (truncated, another version, a damaged header, changed sources, damaged rows) rebuilt or
// reported, never trusted; concurrent builders; a data directory that cannot be written.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/cache.hpp"
#include "data/dataset.hpp"
#include "fixtures.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

/// load_dataset's result and what it printed to stderr.
struct Loaded {
  TrainTest tt;
  std::string notes;
};
Loaded load_noting(const std::string& name, const fs::path& dir) {
  testing::internal::CaptureStderr();
  TrainTest tt = load_dataset(name, dir);
  return {std::move(tt), testing::internal::GetCapturedStderr()};
}

bool same(const Dataset& a, const Dataset& b) {
  return a.n == b.n && a.dim == b.dim && a.num_classes == b.num_classes && a.x == b.x && a.y == b.y;
}
bool same(const TrainTest& a, const TrainTest& b) {
  return same(a.train, b.train) && same(a.test, b.test);
}

void patch(const fs::path& file, std::streamoff at, const std::string& bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(at);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good());
}

class DatasetCache : public testing::Test {
 protected:
  void SetUp() override {
    test::write_tiny_mnist(tmp_ / "mnist", /*gz=*/false, /*n_train=*/50, /*n_test=*/20,
                           /*side=*/5);
    reference_ = load_dataset_in_memory("mnist", tmp_.path());
  }
  fs::path cache() const { return dataset_cache_file("mnist", tmp_.path()); }
  /// Loads, expecting a rebuild whose notice contains `why`, then a silent mapped load.
  void expect_rebuilt(const std::string& why) {
    const Loaded again = load_noting("mnist", tmp_.path());
    EXPECT_NE(again.notes.find(why), std::string::npos) << again.notes;
    EXPECT_NE(again.notes.find("rebuilding it"), std::string::npos) << again.notes;
    EXPECT_EQ(std::count(again.notes.begin(), again.notes.end(), '\n'), 1) << again.notes;
    EXPECT_TRUE(same(again.tt, reference_));
    const Loaded third = load_noting("mnist", tmp_.path());
    EXPECT_EQ(third.notes, "");
    EXPECT_TRUE(third.tt.train.x.is_view());
    EXPECT_TRUE(same(third.tt, reference_));
  }
  TempDir tmp_;
  TrainTest reference_;
};

TEST_F(DatasetCache, BuiltOnceThenMappedWithTheSameValues) {
  EXPECT_FALSE(reference_.train.x.is_view());
  const Loaded first = load_noting("mnist", tmp_.path());
  EXPECT_NE(first.notes.find("building the dataset cache " + cache().string()), std::string::npos)
      << first.notes;
  EXPECT_TRUE(fs::is_regular_file(cache()));
  EXPECT_TRUE(first.tt.train.x.is_view());
  EXPECT_TRUE(same(first.tt, reference_));
  const Loaded second = load_noting("mnist", tmp_.path());
  EXPECT_EQ(second.notes, "");
  EXPECT_TRUE(second.tt.train.x.is_view());
  EXPECT_TRUE(second.tt.test.x.is_view());
  EXPECT_TRUE(same(second.tt, reference_));
  // The first float of the second training image, exactly as the reader converts it.
  EXPECT_EQ(second.tt.train.row(1)[0], static_cast<float>(7) / 255.0f);
  const DataStatus status = check_dataset_cache("mnist", tmp_.path());
  EXPECT_TRUE(status.ok) << status.detail;
  EXPECT_EQ(status.detail, "cache of 50 + 20 rows of 25 floats, source and row sums verified");
}

TEST_F(DatasetCache, WritingAViewCopiesItAndLeavesTheCacheAlone) {
  load_noting("mnist", tmp_.path());
  TrainTest tt = load_noting("mnist", tmp_.path()).tt;
  ASSERT_TRUE(tt.train.x.is_view());
  tt.train.x[3] = 42.0f;  // the copy-on-write: now owned, the mapping untouched
  EXPECT_FALSE(tt.train.x.is_view());
  EXPECT_EQ(tt.train.x[3], 42.0f);
  EXPECT_EQ(tt.train.x[4], reference_.train.x[4]);
  EXPECT_TRUE(same(load_noting("mnist", tmp_.path()).tt, reference_));
}

TEST_F(DatasetCache, TruncatedIsRebuilt) {
  load_noting("mnist", tmp_.path());
  fs::resize_file(cache(), fs::file_size(cache()) - 4096);
  expect_rebuilt("is truncated");
  fs::resize_file(cache(), 100);
  expect_rebuilt("is truncated");
  std::ofstream(cache(), std::ios::trunc).close();
  expect_rebuilt("is truncated");
}

TEST_F(DatasetCache, OtherVersionIsRebuilt) {
  load_noting("mnist", tmp_.path());
  const uint32_t version = 99;
  patch(cache(), 16, std::string(reinterpret_cast<const char*>(&version), 4));
  expect_rebuilt("format version 99, this initscope reads version 1");
}

TEST_F(DatasetCache, DamagedHeaderOrForeignFileIsRebuilt) {
  load_noting("mnist", tmp_.path());
  patch(cache(), 60, "X");  // inside the transform's text: the header checksum fails
  expect_rebuilt("damaged (its header's checksum does not match)");
  patch(cache(), 0, "PK");
  expect_rebuilt("not a dataset cache");
}

TEST_F(DatasetCache, ChangedSourceIsRebuilt) {
  load_noting("mnist", tmp_.path());
  // Other pixels and one more image: the new file has another size (and inode).
  fs::remove(tmp_ / "mnist" / "train-images-idx3-ubyte");
  fs::remove(tmp_ / "mnist" / "train-labels-idx1-ubyte");
  test::write_bytes(tmp_ / "mnist" / "train-images-idx3-ubyte",
                    test::idx_bytes({51, 5, 5}, std::vector<uint8_t>(51 * 25, 255)));
  test::write_bytes(tmp_ / "mnist" / "train-labels-idx1-ubyte",
                    test::idx_bytes({51}, std::vector<uint8_t>(51, 3)));
  reference_ = load_dataset_in_memory("mnist", tmp_.path());
  expect_rebuilt("out of date: " + (tmp_ / "mnist" / "train-images-idx3-ubyte").string());
  EXPECT_EQ(load_dataset("mnist", tmp_.path()).train.x[0], 1.0f);
}

TEST_F(DatasetCache, DamagedRowsAreReportedByCheckNotByARun) {
  load_noting("mnist", tmp_.path());
  patch(cache(), 4096 + 8, "\x7f");  // a byte of the third training float
  // A run checks only what is cheap (a stat per file), so it maps this cache as it is ...
  const Loaded run = load_noting("mnist", tmp_.path());
  EXPECT_EQ(run.notes, "");
  EXPECT_FALSE(same(run.tt, reference_));
  // ... and `data check` is what recomputes the sums and says so.
  const DataStatus status = check_dataset_cache("mnist", tmp_.path());
  EXPECT_FALSE(status.ok);
  EXPECT_NE(status.detail.find("do not match the checksum"), std::string::npos) << status.detail;
}

TEST_F(DatasetCache, ConcurrentBuildersLeaveOneValidCache) {
  // Separate processes, as in a sweep: each builds, none sees a half-written file.
  constexpr int k_builders = 4;
  std::vector<pid_t> children;
  for (int i = 0; i < k_builders; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      bool ok = true;
      for (int k = 0; k < 3; ++k) ok = ok && same(load_dataset("mnist", tmp_.path()), reference_);
      _exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "builder " << pid;
  }
  const DataStatus status = check_dataset_cache("mnist", tmp_.path());
  EXPECT_TRUE(status.ok) << status.detail;
  EXPECT_NE(status.detail.find("verified"), std::string::npos) << status.detail;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(cache().parent_path())) {
    ++files;
    EXPECT_EQ(entry.path(), cache()) << "left behind: " << entry.path();
  }
  EXPECT_EQ(files, 1);
}

TEST_F(DatasetCache, ReadOnlyDataDirFallsBackToMemory) {
  // Root ignores permissions, so the load runs in a child that gives them up first (as
  // `nobody`), with the folders opened up for reading.
  fs::permissions(tmp_.path(), fs::perms(0555));
  fs::permissions(tmp_ / "mnist", fs::perms(0755));
  EXPECT_EXIT(
      {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
        const TrainTest tt = load_dataset("mnist", tmp_.path());
        _exit(same(tt, reference_) && !tt.train.x.is_view() ? 0 : 1);
      },
      testing::ExitedWithCode(0),
      "initscope: note: cannot write the dataset cache .*mnist.f32 \\(Permission denied\\); "
      "using the mnist files converted in memory");
  fs::permissions(tmp_.path(), fs::perms(0700));
  EXPECT_FALSE(fs::exists(cache()));
}

TEST(DatasetCacheFile, LivesInTheDataDirectory) {
  EXPECT_EQ(dataset_cache_file("cifar10", "/d"), fs::path("/d/cache/cifar10.f32"));
}

}  // namespace
}  // namespace initscope
