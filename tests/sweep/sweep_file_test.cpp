// Sweep files: expansion of [grid] and [[runs]], de-duplication, and errors with file and line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "sweep/sweep.hpp"

namespace initscope {
namespace {

class SweepFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("initscope_sweepfile_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& text) {
    const auto p = dir_ / "s.toml";
    std::ofstream(p) << text;
    return p;
  }
  std::string error_of(const std::string& text) {
    try {
      sweep_load(write(text));
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  std::filesystem::path dir_;
};

TEST_F(SweepFile, GridIsACartesianProductOverTheBase) {
  const Sweep s = sweep_load(write(R"(
[base]
lr = 0.1
stop = "margin:10:0.99"
[grid]
width = [32, 64, 128]
m = [256, 512]
seed = [1, 2]
)"));
  ASSERT_EQ(s.runs.size(), 12u);
  for (const auto& c : s.runs) {
    EXPECT_EQ(c.lr, 0.1);
    EXPECT_EQ(c.stop, std::vector<std::string>{"margin:10:0.99"});
  }
  EXPECT_EQ((sweep_axes(s)), (std::vector<std::string>{"m", "seed", "width"}));
}

TEST_F(SweepFile, RunsAddConfigurationsWithTheirOwnGridAndDuplicatesRunOnce) {
  const Sweep s = sweep_load(write(R"(
[base]
m = 512
[grid]
width = [32, 64]
[[runs]]
width = 32          # the same as a grid point: not run twice
[[runs]]
m = 1024
lr = 0.05
[runs.grid]
noise = [0.0, 0.2, 0.4]
)"));
  ASSERT_EQ(s.runs.size(), 2u + 3u);
  EXPECT_EQ(s.runs[2].m, 1024);
  EXPECT_EQ(s.runs[2].lr, 0.05);
  EXPECT_EQ(s.runs[4].noise, 0.4);
}

TEST_F(SweepFile, ErrorsNameTheFileAndLine) {
  std::string e = error_of("[base]\nwidht = 5\n");
  EXPECT_NE(e.find("s.toml line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("widht"), std::string::npos) << e;

  e = error_of("[base]\nlr = 0.1\n[grid]\nwidth = [64, -5]\n");
  EXPECT_NE(e.find("line 4"), std::string::npos) << e;
  EXPECT_NE(e.find("--width -5"), std::string::npos) << e;

  e = error_of("[grid]\nwidth = 64\n");
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("list"), std::string::npos) << e;

  e = error_of("[base]\nlr = \"fast\"\n");
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("lr"), std::string::npos) << e;

  e = error_of("[base]\nstop = \"margin:abc\"\n");
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;

  e = error_of("[base\nlr = 1\n");
  EXPECT_NE(e.find("line 1"), std::string::npos) << e;
  EXPECT_NE(e.find("syntax"), std::string::npos) << e;

  e = error_of("[sweep]\njobs = 2\n");
  EXPECT_NE(e.find("unknown top-level key 'sweep'"), std::string::npos) << e;

  e = error_of("[base]\nclasses = [0, 1]\n");  // cross-field: ce on a binary task
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("--loss"), std::string::npos) << e;

  EXPECT_NE(error_of("").find(""), std::string::npos);
  try {
    sweep_load(dir_ / "absent.toml");
    FAIL();
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("absent.toml"), std::string::npos);
  }
}

// Reliability B3: a directory or a device is not a sweep file. A directory used to parse as an
// empty table and start the full default run (width 256 on all of MNIST); /dev/zero too.
TEST_F(SweepFile, ANonRegularFileIsRefusedNotReadAsAnEmptySweep) {
  for (const std::filesystem::path& p : {dir_, std::filesystem::path("/dev/zero")}) {
    try {
      sweep_load(p);
      FAIL() << p;
    } catch (const Error& err) {
      EXPECT_EQ(std::string(err.what()),
                p.string() +
                    ": is not a regular file (expected a TOML file with [base] and "
                    "[grid] tables)");
    }
  }
}

}  // namespace
}  // namespace initscope
