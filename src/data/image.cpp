// Images as regression tasks (dataset.hpp): reading a PNG with libpng's simplified API,
// converting it to gray, cropping and resampling it to a square, and splitting its pixels into
// a training lattice and a test set. The standard images' names and sums are here too; fetching
// them is in fetch.cpp.
#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "common/error.hpp"
#include "data/data_files.hpp"
#include "data/dataset.hpp"

namespace initscope {

namespace fs = std::filesystem;

namespace {

// scikit-image's rgb2gray weights (ITU-R BT.709 luma), applied to the stored values.
constexpr double k_red = 0.2125, k_green = 0.7154, k_blue = 0.0721;

/// Frees a png_image on every path out of read_png_gray.
struct PngImage {
  png_image image{};
  PngImage() { image.version = PNG_IMAGE_VERSION; }
  ~PngImage() { png_image_free(&image); }
  PngImage(const PngImage&) = delete;
  PngImage& operator=(const PngImage&) = delete;
};

// One axis of area resampling: output cell o covers source [o·s, (o+1)·s) with s = n_in/n_out;
// its weights are the overlaps with each source cell, divided by s.
struct AreaTap {
  int64_t first = 0;
  std::vector<double> weights;
};
std::vector<AreaTap> area_taps(int64_t n_in, int64_t n_out) {
  const double s = static_cast<double>(n_in) / static_cast<double>(n_out);
  std::vector<AreaTap> taps(static_cast<size_t>(n_out));
  for (int64_t o = 0; o < n_out; ++o) {
    const double lo = static_cast<double>(o) * s, hi = lo + s;
    auto& t = taps[static_cast<size_t>(o)];
    t.first = static_cast<int64_t>(std::floor(lo));
    for (int64_t i = t.first; i < n_in && static_cast<double>(i) < hi; ++i) {
      const double w =
          std::min(hi, static_cast<double>(i + 1)) - std::max(lo, static_cast<double>(i));
      t.weights.push_back(std::max(w, 0.0) / s);
    }
  }
  return taps;
}

// One axis of bilinear upsampling on pixel centres: output o sits at source (o + ½)·s − ½.
std::vector<AreaTap> bilinear_taps(int64_t n_in, int64_t n_out) {
  const double s = static_cast<double>(n_in) / static_cast<double>(n_out);
  std::vector<AreaTap> taps(static_cast<size_t>(n_out));
  for (int64_t o = 0; o < n_out; ++o) {
    const double pos =
        std::clamp((static_cast<double>(o) + 0.5) * s - 0.5, 0.0, static_cast<double>(n_in - 1));
    const auto i0 = static_cast<int64_t>(std::floor(pos));
    const double frac = pos - static_cast<double>(i0);
    auto& t = taps[static_cast<size_t>(o)];
    t.first = i0;
    t.weights = {1.0 - frac};
    if (i0 + 1 < n_in) t.weights.push_back(frac);
  }
  return taps;
}

std::vector<AreaTap> taps_for(int64_t n_in, int64_t n_out) {
  return n_out <= n_in ? area_taps(n_in, n_out) : bilinear_taps(n_in, n_out);
}

}  // namespace

GrayImage read_png_gray(const fs::path& file) {
  const std::vector<uint8_t> bytes = data_detail::read_file_bytes(file);
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    throw Error(
        fmt::format("{}: not a PNG file (the first 8 bytes are not the PNG signature); "
                    "expected a .png image",
                    file.string()));
  PngImage p;
  if (!png_image_begin_read_from_memory(&p.image, bytes.data(), bytes.size()))
    throw Error(fmt::format("{}: cannot read the PNG: {}", file.string(), p.image.message));
  const bool color = (p.image.format & PNG_FORMAT_FLAG_COLOR) != 0;
  // Alpha is composited over black by the simplified API when the output format has none.
  p.image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  const int64_t rows = p.image.height, cols = p.image.width;
  if (rows < 2 || cols < 2)
    throw Error(fmt::format("{}: the image is {}×{} pixels; expected at least 2×2", file.string(),
                            cols, rows));
  std::vector<uint8_t> buf(PNG_IMAGE_SIZE(p.image));
  png_color black{0, 0, 0};
  if (!png_image_finish_read(&p.image, &black, buf.data(), 0, nullptr))
    throw Error(fmt::format("{}: the PNG is corrupt: {}", file.string(), p.image.message));
  GrayImage g;
  g.rows = rows;
  g.cols = cols;
  g.pixels.resize(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) {
    double v = 0.0;
    if (color) {
      const uint8_t* px = buf.data() + 3 * i;
      v = k_red * px[0] + k_green * px[1] + k_blue * px[2];
    } else {
      v = buf[static_cast<size_t>(i)];
    }
    g.pixels[static_cast<size_t>(i)] = static_cast<float>(v / 255.0);
  }
  return g;
}

void write_png_gray(const fs::path& file, const GrayImage& img) {
  PngImage p;
  p.image.width = static_cast<png_uint_32>(img.cols);
  p.image.height = static_cast<png_uint_32>(img.rows);
  p.image.format = PNG_FORMAT_GRAY;
  std::vector<uint8_t> buf(static_cast<size_t>(img.rows * img.cols));
  for (size_t i = 0; i < buf.size(); ++i)
    buf[i] = static_cast<uint8_t>(std::lround(255.0 * std::clamp(img.pixels[i], 0.0f, 1.0f)));
  if (!png_image_write_to_file(&p.image, file.c_str(), 0, buf.data(), 0, nullptr))
    throw Error(fmt::format("{}: cannot write the PNG: {}", file.string(), p.image.message));
}

GrayImage square_resize(const GrayImage& img, int64_t size) {
  IS_CHECK(size >= 1 && img.rows >= 1 && img.cols >= 1);
  const int64_t side = std::min(img.rows, img.cols);
  const int64_t r0 = (img.rows - side) / 2, c0 = (img.cols - side) / 2;
  const auto taps = taps_for(side, size);
  // Separable: columns first into (side, size), then rows; sums in double.
  std::vector<double> tmp(static_cast<size_t>(side * size), 0.0);
  for (int64_t r = 0; r < side; ++r)
    for (int64_t o = 0; o < size; ++o) {
      const auto& t = taps[static_cast<size_t>(o)];
      double v = 0.0;
      for (size_t k = 0; k < t.weights.size(); ++k)
        v += t.weights[k] * img.pixels[static_cast<size_t>((r0 + r) * img.cols + c0 + t.first +
                                                           static_cast<int64_t>(k))];
      tmp[static_cast<size_t>(r * size + o)] = v;
    }
  GrayImage out;
  out.rows = out.cols = size;
  out.pixels.resize(static_cast<size_t>(size * size));
  for (int64_t o = 0; o < size; ++o) {
    const auto& t = taps[static_cast<size_t>(o)];
    for (int64_t c = 0; c < size; ++c) {
      double v = 0.0;
      for (size_t k = 0; k < t.weights.size(); ++k)
        v +=
            t.weights[k] * tmp[static_cast<size_t>((t.first + static_cast<int64_t>(k)) * size + c)];
      out.pixels[static_cast<size_t>(o * size + c)] = static_cast<float>(v);
    }
  }
  return out;
}

TrainTest image_task(const GrayImage& img, int64_t stride) {
  IS_CHECK(stride >= 1 && img.rows >= 2 && img.cols >= 2);
  const auto coord = [](int64_t i, int64_t n) {
    return static_cast<float>(-1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(n - 1));
  };
  TrainTest tt;
  for (Dataset* d : {&tt.train, &tt.test}) {
    d->dim = 2;
    d->target_dim = 1;
    d->psnr_range = 2.0;
  }
  for (int64_t r = 0; r < img.rows; ++r)
    for (int64_t c = 0; c < img.cols; ++c) {
      const bool train = r % stride == 0 && c % stride == 0;
      const float v = 2.0f * img.pixels[static_cast<size_t>(r * img.cols + c)] - 1.0f;
      const auto add = [&](Dataset& d) {
        d.x.push_back(coord(r, img.rows));
        d.x.push_back(coord(c, img.cols));
        d.targets.push_back(v);
        d.y.push_back(0);
        ++d.n;
      };
      if (train) add(tt.train);
      if (!train || stride == 1) add(tt.test);
    }
  return tt;
}

const std::vector<ImageFile>& standard_images() {
  // The files of Debian 12's python3-skimage 0.19.3 (skimage/data/).
  static const std::vector<ImageFile> images{
      {"camera", "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a"},
      {"astronaut", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"},
      {"coffee", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"},
      {"chelsea", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"},
      {"coins", "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba"},
      {"moon", "78739619d11f7eb9c165bb5d2efd4772cee557812ec847532dbb1d92ef71f577"},
      {"text", "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1"},
      {"page", "341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3"},
      {"brick", "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf"},
      {"grass", "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89"},
      {"gravel", "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12"},
      {"cell", "8d23a7fb81f7cc877cd09f330357fc7f595651306e84e17252f6e0a1b3f61515"},
  };
  return images;
}

fs::path image_file(const std::string& spec, const fs::path& dir) {
  const bool path_like = spec.find('/') != std::string::npos ||
                         (spec.size() > 4 && spec.compare(spec.size() - 4, 4, ".png") == 0);
  if (path_like) {
    std::error_code ec;
    if (!fs::is_regular_file(spec, ec))
      throw Error(fmt::format("--dataset image:{}: file not found; expected a PNG file", spec));
    return spec;
  }
  std::string names;
  for (const auto& img : standard_images()) {
    if (img.name == spec) {
      const fs::path file = dir / "images" / (spec + ".png");
      std::error_code ec;
      if (!fs::is_regular_file(file, ec))
        throw Error(
            fmt::format("{}: file not found; run `initscope data fetch images` to put "
                        "the standard images there, or pass --data-dir",
                        file.string()));
      return file;
    }
    names += (names.empty() ? "" : ", ") + std::string(img.name);
  }
  throw Error(
      fmt::format("--dataset image:{}: unknown image; expected one of {}, or a path to "
                  "a .png file",
                  spec, names));
}

}  // namespace initscope
