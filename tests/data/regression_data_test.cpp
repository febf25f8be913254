// The regression tasks' data: signal1d against its closed form, PNG reading (gray, colour,
// alpha, 16-bit) against the values written, the square crop and resampling against exact
// means, the image task's split and coordinates, and the errors for bad images and names.
#include <gtest/gtest.h>

#include <png.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "error_matchers.hpp"
#include "fixtures.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;
using test::expect_error_with;

// Writes `pixels` (rows × cols × channels bytes) as a PNG of the given format.
void write_png(const fs::path& file, int64_t rows, int64_t cols, uint32_t format,
               const std::vector<uint8_t>& pixels) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<uint32_t>(cols);
  img.height = static_cast<uint32_t>(rows);
  img.format = format;
  ASSERT_TRUE(png_image_write_to_file(&img, file.c_str(), 0, pixels.data(), 0, nullptr))
      << img.message;
}

TEST(Signal1d, TargetsAreTheSumOfSinesWithFixedPhases) {
  SignalSpec s;
  s.freqs = {1, 3};
  s.amps = {2.0, 0.5};
  s.n = 50;
  s.test_grid = 101;
  s.seed = 9;
  const TrainTest tt = make_signal1d(s);
  const std::vector<double> phi = signal_phases(2);
  ASSERT_EQ(tt.train.n, 50);
  ASSERT_EQ(tt.test.n, 101);
  EXPECT_TRUE(tt.train.regression());
  EXPECT_EQ(tt.train.dim, 1);
  EXPECT_EQ(tt.train.psnr_range, 0.0);  // no PSNR for a signal
  for (const Dataset* d : {&tt.train, &tt.test})
    for (int64_t i = 0; i < d->n; ++i) {
      const double x = d->x[static_cast<size_t>(i)];
      EXPECT_TRUE(x >= -1.0 && x <= 1.0);
      const double want = 2.0 * std::sin(2 * std::numbers::pi * x + phi[0]) +
                          0.5 * std::sin(6 * std::numbers::pi * x + phi[1]);
      EXPECT_NEAR(d->targets[static_cast<size_t>(i)], want, 1e-6);
    }
  // The test set is the grid linspace(−1, 1, 101).
  EXPECT_FLOAT_EQ(tt.test.x.front(), -1.0f);
  EXPECT_FLOAT_EQ(tt.test.x[50], 0.0f);
  EXPECT_FLOAT_EQ(tt.test.x.back(), 1.0f);
}

TEST(Signal1d, TheSeedMovesThePointsNotTheFunction) {
  SignalSpec a;
  a.seed = 1;
  SignalSpec b = a;
  b.seed = 2;
  const TrainTest ta = make_signal1d(a), tb = make_signal1d(b);
  EXPECT_NE(ta.train.x, tb.train.x);
  EXPECT_EQ(ta.test.targets, tb.test.targets);      // same function on the grid
  EXPECT_EQ(make_signal1d(a).train.x, ta.train.x);  // seeded
  SignalSpec g = a;
  g.grid = true;
  g.n = 5;
  EXPECT_EQ(make_signal1d(g).train.x, (std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f}));
}

TEST(Signal1d, TargetNoiseIsOnTrainingTargetsOnly) {
  SignalSpec a;
  a.n = 2000;
  SignalSpec b = a;
  b.noise = 0.1;
  const TrainTest clean = make_signal1d(a), noisy = make_signal1d(b);
  EXPECT_EQ(clean.test.targets, noisy.test.targets);
  double s2 = 0.0;
  for (size_t i = 0; i < clean.train.targets.size(); ++i)
    s2 += std::pow(noisy.train.targets[i] - clean.train.targets[i], 2);
  EXPECT_NEAR(std::sqrt(s2 / 2000.0), 0.1, 0.01);
}

TEST(Png, ReadsGrayValuesExactly) {
  test::TempDir tmp;
  std::vector<uint8_t> px{0, 51, 102, 153, 204, 255};
  write_png(tmp.path() / "g.png", 2, 3, PNG_FORMAT_GRAY, px);
  const GrayImage g = read_png_gray(tmp.path() / "g.png");
  ASSERT_EQ(g.rows, 2);
  ASSERT_EQ(g.cols, 3);
  for (size_t i = 0; i < px.size(); ++i) EXPECT_FLOAT_EQ(g.pixels[i], px[i] / 255.0f);
}

TEST(Png, ColourBecomesGrayWithSkimageWeights) {
  test::TempDir tmp;
  // Pure red, green, blue and a mix, in a 2×2 RGB image.
  std::vector<uint8_t> px{255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 100, 200};
  write_png(tmp.path() / "c.png", 2, 2, PNG_FORMAT_RGB, px);
  const GrayImage g = read_png_gray(tmp.path() / "c.png");
  EXPECT_NEAR(g.pixels[0], 0.2125, 1e-6);
  EXPECT_NEAR(g.pixels[1], 0.7154, 1e-6);
  EXPECT_NEAR(g.pixels[2], 0.0721, 1e-6);
  EXPECT_NEAR(g.pixels[3], (0.2125 * 10 + 0.7154 * 100 + 0.0721 * 200) / 255.0, 1e-6);
}

TEST(Png, AlphaIsCompositedOverBlack) {
  test::TempDir tmp;
  // Gray+alpha: a fully opaque 200, a fully transparent 200, and a half-transparent 200.
  std::vector<uint8_t> px{200, 255, 200, 0, 200, 128, 0, 255};
  write_png(tmp.path() / "a.png", 2, 2, PNG_FORMAT_GA, px);
  const GrayImage g = read_png_gray(tmp.path() / "a.png");
  EXPECT_NEAR(g.pixels[0], 200 / 255.0, 1e-6);
  EXPECT_NEAR(g.pixels[1], 0.0, 1e-6);
  EXPECT_GT(g.pixels[2], 0.2);  // composited in linear light by libpng: between 0 and 200
  EXPECT_LT(g.pixels[2], 200 / 255.0);
}

TEST(Png, BadFilesGetOneLineNamingThem) {
  test::TempDir tmp;
  const fs::path txt = tmp.path() / "not.png";
  std::ofstream(txt) << "hello, this is not an image";
  expect_error_with([&] { read_png_gray(txt); }, {"not.png", "not a PNG"});
  expect_error_with([&] { read_png_gray(tmp.path() / "missing.png"); }, {"missing.png"});
  std::vector<uint8_t> one{7};
  write_png(tmp.path() / "one.png", 1, 1, PNG_FORMAT_GRAY, one);
  expect_error_with([&] { read_png_gray(tmp.path() / "one.png"); },
                    {"one.png", "1×1", "at least 2×2"});
  // A truncated PNG: the signature and header survive, the data do not.
  std::vector<uint8_t> px(64 * 64, 9);
  write_png(tmp.path() / "t.png", 64, 64, PNG_FORMAT_GRAY, px);
  fs::resize_file(tmp.path() / "t.png", 60);
  EXPECT_THROW(read_png_gray(tmp.path() / "t.png"), Error);
}

TEST(SquareResize, HalvingIsTheMeanOfEachTwoByTwoBlock) {
  GrayImage img;
  img.rows = img.cols = 4;
  for (int i = 0; i < 16; ++i) img.pixels.push_back(static_cast<float>(i));
  const GrayImage h = square_resize(img, 2);
  ASSERT_EQ(h.pixels.size(), 4u);
  EXPECT_FLOAT_EQ(h.pixels[0], (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(h.pixels[3], (10 + 11 + 14 + 15) / 4.0f);
}

TEST(SquareResize, CropsTheCentralSquareAndKeepsAConstantImage) {
  GrayImage img;
  img.rows = 3;
  img.cols = 7;  // the central 3×3 is columns 2..4
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 7; ++c) img.pixels.push_back(c >= 2 && c <= 4 ? 0.25f : 1.0f);
  for (const int64_t size : {1, 2, 3, 5, 8}) {
    const GrayImage out = square_resize(img, size);
    for (const float v : out.pixels) EXPECT_NEAR(v, 0.25f, 1e-6) << size;
  }
  // Downsampling by a non-integer factor keeps the mean (area weights sum to one).
  GrayImage ramp;
  ramp.rows = ramp.cols = 5;
  double mean = 0;
  for (int i = 0; i < 25; ++i) {
    ramp.pixels.push_back(static_cast<float>(i % 5) / 4.0f);
    mean += ramp.pixels.back() / 25.0;
  }
  const GrayImage r3 = square_resize(ramp, 3);
  double m3 = 0;
  for (float v : r3.pixels) m3 += v / 9.0;
  EXPECT_NEAR(m3, mean, 1e-6);
}

TEST(ImageTask, TrainsOnTheStrideLatticeAndTestsOnTheRest) {
  GrayImage img;
  img.rows = img.cols = 6;
  for (int i = 0; i < 36; ++i) img.pixels.push_back(static_cast<float>(i) / 35.0f);
  const TrainTest tt = image_task(img, 2);
  EXPECT_EQ(tt.train.n, 9);
  EXPECT_EQ(tt.test.n, 27);
  EXPECT_EQ(tt.train.dim, 2);
  EXPECT_EQ(tt.train.psnr_range, 2.0);
  // Pixel (0, 0) at (−1, −1) with value 0 → target −1; pixel (2, 4) is the 6th training row
  // (row-major over the lattice), at (−1 + 2·2/5, −1 + 2·4/5).
  EXPECT_FLOAT_EQ(tt.train.x[0], -1.0f);
  EXPECT_FLOAT_EQ(tt.train.x[1], -1.0f);
  EXPECT_FLOAT_EQ(tt.train.targets[0], -1.0f);
  EXPECT_FLOAT_EQ(tt.train.x[2 * 5], -0.2f);
  EXPECT_FLOAT_EQ(tt.train.x[2 * 5 + 1], 0.6f);
  EXPECT_FLOAT_EQ(tt.train.targets[5], 2.0f * (2 * 6 + 4) / 35.0f - 1.0f);
  // The last pixel (5, 5) is a test pixel at (1, 1) with target 1.
  EXPECT_FLOAT_EQ(tt.test.x[2 * 26], 1.0f);
  EXPECT_FLOAT_EQ(tt.test.targets.back(), 1.0f);
  // Stride 1: every pixel trains, and the test set is the same pixels.
  const TrainTest all = image_task(img, 1);
  EXPECT_EQ(all.train.n, 36);
  EXPECT_EQ(all.test.x, all.train.x);
}

TEST(ImageFile, NamesResolveToTheDataDirectoryOrAPath) {
  test::TempDir tmp;
  expect_error_with([&] { image_file("camera", tmp.path()); },
                    {"camera.png", "initscope data fetch images"});
  expect_error_with([&] { image_file("lena", tmp.path()); },
                    {"image:lena", "unknown image", "camera"});
  expect_error_with([&] { image_file("/no/such/file.png", tmp.path()); },
                    {"/no/such/file.png", "not found"});
  fs::create_directories(tmp.path() / "images");
  std::ofstream(tmp.path() / "images" / "camera.png") << "x";
  EXPECT_EQ(image_file("camera", tmp.path()), tmp.path() / "images" / "camera.png");
  EXPECT_EQ(standard_images().size(), 12u);
}

}  // namespace
}  // namespace initscope
