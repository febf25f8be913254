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

// Reliability B13: each configuration is checked whole. A binary task (two classes) with mse
// is valid even when the two options stand on different axes; each used to be checked alone
// against [base] (ce), and refused.
TEST_F(SweepFile, OptionsAreCheckedTogetherWhateverAxesTheyComeFrom) {
  Sweep s = sweep_load(write("[base]\nwidth = 8\n[grid]\nclasses = [[0, 1]]\nloss = [\"mse\"]\n"));
  ASSERT_EQ(s.runs.size(), 1u);
  EXPECT_EQ(s.runs[0].classes, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.runs[0].loss, Loss::mse);
  // [base] alone need not be valid: an image task's option there, the task in a [[runs]] entry.
  s = sweep_load(write("[base]\nimage_size = 64\n[[runs]]\ndataset = \"image:camera\"\n"));
  ASSERT_EQ(s.runs.size(), 1u);
  EXPECT_EQ(s.runs[0].image_size, 64);
  // An invalid combination: the line of the key to blame, and the configuration's axis values.
  const std::string e =
      error_of("[base]\nwidth = 8\n[grid]\nclasses = [[0, 1], [0, 1, 2]]\nloss = [\"logistic\"]\n");
  EXPECT_NE(e.find("s.toml line 5: for classes=[0,1,2] loss=logistic: --loss logistic"),
            std::string::npos)
      << e;
}

// Reliability B7: a sweep's size is known before anything is expanded, and one above the limit
// is refused at once; the expansion itself streams, in the order sweep_load keeps.
TEST_F(SweepFile, SizeIsCountedFirstAndAboveTheLimitRefused) {
  const auto file = write(
      "[base]\nwidth = 8\n[grid]\nseed = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nm = [100, 200, 300]\n"
      "threads = [1, 2]\n[[runs]]\nm = 100\n");
  const SweepPlan plan = sweep_parse(file);
  EXPECT_EQ(plan.size(), 61u);  // 10 × 3 × 2 + 1, before duplicates (threads is no identity)
  std::vector<std::string> streamed;
  sweep_expand(plan, [&](const TrainConfig& c) { streamed.push_back(config_hash(c)); });
  const Sweep s = sweep_load(file);
  ASSERT_EQ(s.runs.size(), 30u);
  ASSERT_EQ(streamed.size(), 30u);
  for (size_t i = 0; i < s.runs.size(); ++i) EXPECT_EQ(streamed[i], config_hash(s.runs[i]));
  EXPECT_EQ(s.runs[1].m, 200);  // the first axis (TOML tables are sorted by key) varies fastest
  EXPECT_EQ(sweep_axes(plan), (std::vector<std::string>{"m", "seed", "threads"}));
  try {
    sweep_load(file, 60);
    FAIL();
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("expands to 61 runs, more than the 60"),
              std::string::npos)
        << err.what();
  }
  // Past 2^64 configurations in a few lines: counted (saturating), and refused without
  // expanding one.
  std::string axis = "[";
  for (int i = 1; i <= 1000; ++i) axis += std::to_string(i) + (i < 1000 ? ", " : "]");
  const std::string big = "[grid]\nseed = " + axis + "\nm = " + axis + "\nwidth = " + axis + "\n";
  const auto huge = write(big + "batch = " + axis + "\nmax_epochs = " + axis +
                          "\nflatness_rows = " + axis + "\nmeasure_every = " + axis + "\n");
  EXPECT_EQ(sweep_parse(huge).size(), UINT64_MAX);
  const std::string e = error_of(big);
  EXPECT_NE(e.find("expands to 1000000000 runs, more than the 100000"), std::string::npos) << e;
}

// Reliability B20: toml++ 3.3.0 reaches TOML_UNREACHABLE on some non-ASCII characters where it
// looks for whitespace, and asserts on a NUL in a table header. Both are refused before toml++
// sees them; non-ASCII text in strings and comments is still fine.
TEST_F(SweepFile, InputThatTomlppMishandlesIsRefusedFirst) {
  std::string e = error_of("[base]\nx\xc2\xb1 = 1\n");
  EXPECT_NE(e.find("s.toml line 2: a non-ASCII character outside a string or comment"),
            std::string::npos)
      << e;
  e = error_of(std::string("[base]\n[\0]\n", 11));
  EXPECT_NE(e.find("s.toml line 2: a NUL byte"), std::string::npos) << e;
  e = error_of(std::string("description = \"a\0b\"\n", 20));
  EXPECT_NE(e.find("s.toml line 1: a NUL byte"), std::string::npos) << e;
  const Sweep s = sweep_load(
      write("description = \"\xc2\xb1 \\\" still a string \xc2\xb1\"  # \xcf\x83 comment\n"
            "# \xe2\x80\x94\n[base]\nwidth = 8\ninit_from = '\xc3\xa9\\'\n"
            "[[runs]]\nstop = \"\"\"loss<=0.5\"\"\"  # \xc2\xb1\n"));
  EXPECT_EQ(s.runs.size(), 1u);
  EXPECT_EQ(s.runs[0].init_from, "\xc3\xa9\\");
  e = error_of("description = '''\n\xc2\xb1\n'''\nx\xc2\xb1 = 1\n");
  EXPECT_NE(e.find("s.toml line 4: a non-ASCII"), std::string::npos) << e;
}

// Reliability B8: TOML numbers are never narrowed (4294967301 is not 5, 1.9 is not class 1).
TEST_F(SweepFile, NumbersAreNeverNarrowed) {
  EXPECT_NE(error_of("[grid]\ndepth = [5, 4294967301]\n").find("line 2: --depth 4294967301"),
            std::string::npos);
  EXPECT_NE(error_of("[grid]\nclasses = [[0, 1], [0, 1.9]]\n").find("line 2: --classes [0,1.9]"),
            std::string::npos);
  EXPECT_NE(error_of("[grid]\nseed = [1, -1]\n").find("line 2: --seed -1"), std::string::npos);
  EXPECT_NE(error_of("[base]\nthreads = 4294967297\n").find("line 2: --threads 4294967297"),
            std::string::npos);
}

}  // namespace
}  // namespace initscope
