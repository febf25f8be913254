// The IDX reader for MNIST-style files, raw or gzip-compressed.
// IDX is a 4-byte magic (0, 0, type code, number of dimensions), big-endian 32-bit sizes, then
// the array. We accept only type 0x08 (unsigned bytes), which is all MNIST-like data uses, and
// insist the data length matches the header exactly: a short or over-long file is almost always
// a broken download, and catching it here beats training on garbage.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include "common/error.hpp"
#include "data/data_files.hpp"
#include "data/dataset.hpp"

namespace initscope {
namespace {

constexpr const char* k_idx_expectation = "expected an IDX file as distributed with MNIST";

[[noreturn]] void idx_fail(const std::filesystem::path& file, const std::string& what) {
  throw Error(fmt::format("{}: {} ({})", file.string(), what, k_idx_expectation));
}

/// Throws unless `file` is an existing regular file, so later errors can assume it is there.
void require_regular_file(const std::filesystem::path& file) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status))
    throw Error(fmt::format("{}: file not found", file.string()));
  if (std::filesystem::is_directory(status))
    throw Error(fmt::format("{}: is a directory, expected a data file", file.string()));
  // A device or a pipe (/dev/zero) would be read until memory runs out.
  if (!std::filesystem::is_regular_file(status))
    throw Error(fmt::format("{}: is not a regular file, expected a data file", file.string()));
}

/// Reads a file, gzip-compressed or not, piece by piece: the IDX reader takes the header first
/// and then exactly the bytes it promises, so a file never costs more memory than its header
/// says (a gzip bomb or an endless stream is refused after at most that many bytes).
class GzReader {
 public:
  explicit GzReader(const std::filesystem::path& file) : file_(file) {
    require_regular_file(file);
    gz_ = gzopen(file.c_str(), "rb");
    if (gz_ == nullptr)
      throw Error(fmt::format("{}: cannot open the file: {}", file.string(), std::strerror(errno)));
    gzbuffer(gz_, 1 << 17);
  }
  ~GzReader() { gzclose(gz_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  /// Up to n bytes into out; returns how many (fewer only at the end of the data).
  size_t read(uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const unsigned want = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      const int got = gzread(gz_, out + done, want);
      if (got < 0) fail_damaged();
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }
  /// True if the file is not compressed (read through as it is); known after the first read.
  bool direct() { return gzdirect(gz_) == 1; }
  /// After the last byte: a gzip stream cut short is not a read error to gzread (it supports
  /// growing files); it reports it as Z_BUF_ERROR afterwards: the damaged download it is.
  void check_complete() {
    int code = Z_OK;
    const std::string message = gzerror(gz_, &code);
    if (code != Z_OK)
      throw Error(fmt::format(
          "{}: the gzip data is damaged or cut short ({}); delete the file and fetch it again",
          file_.string(), code == Z_BUF_ERROR ? "unexpected end of file" : message));
  }

 private:
  [[noreturn]] void fail_damaged() {
    int code = 0;
    const std::string message = gzerror(gz_, &code);
    if (gzdirect(gz_) == 0)
      throw Error(
          fmt::format("{}: the gzip data is damaged ({}); delete the file and fetch it again",
                      file_.string(), message));
    throw Error(fmt::format("{}: read error: {}", file_.string(), message));
  }
  std::filesystem::path file_;
  gzFile gz_ = nullptr;
};

// The most data an IDX file may promise: 4 GiB, 80 times MNIST's training images. A header
// asking for more is refused before anything is allocated.
constexpr uint64_t k_idx_max_bytes = uint64_t{1} << 32;
// The largest piece a gzip stream's data grows by (see idx_read).
constexpr size_t k_max_piece = size_t{16} << 20;

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string join_dims(const std::vector<int64_t>& dims) {
  return fmt::format("{}", fmt::join(dims, "x"));
}

}  // namespace

namespace data_detail {

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& file) {
  require_regular_file(file);
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw Error(fmt::format("{}: cannot open the file: {}", file.string(), std::strerror(errno)));
  // Straight into a buffer of the file's size (a zeroed 1 MiB staging buffer made every read of
  // a small file cost milliseconds: fuzz_cifar ran at 54 inputs a second), then whatever a file
  // that grew meanwhile still holds.
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  std::vector<uint8_t> bytes(ec ? 0 : static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  char more[1 << 12];
  while (in) {
    in.read(more, sizeof more);
    bytes.insert(bytes.end(), more, more + in.gcount());
  }
  if (in.bad()) throw Error(fmt::format("{}: read error", file.string()));
  return bytes;
}

std::vector<uint8_t> idx_serialize(const IdxArray& a) {
  std::vector<uint8_t> out{0, 0, 0x08, static_cast<uint8_t>(a.dims.size())};
  for (int64_t d : a.dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

std::string idx_describe(const IdxArray& a) {
  if (a.dims.size() == 3) return fmt::format("{} images {}x{}", a.dims[0], a.dims[1], a.dims[2]);
  if (a.dims.size() == 1) return fmt::format("{} labels", a.dims[0]);
  return fmt::format("array {}", join_dims(a.dims));
}

}  // namespace data_detail

IdxArray idx_read(const std::filesystem::path& file) {
  GzReader in(file);
  uint8_t head[4] = {0, 0, 0, 0};
  const size_t got_head = in.read(head, 4);
  if (got_head < 4) {
    in.check_complete();
    idx_fail(file, fmt::format("file is too short for an IDX header: {} bytes, need at least 4",
                               got_head));
  }
  if (head[0] != 0 || head[1] != 0)
    idx_fail(file, fmt::format("wrong magic number 0x{:02x}{:02x}{:02x}{:02x}: an IDX file starts "
                               "with two zero bytes, a type code and the number of dimensions",
                               head[0], head[1], head[2], head[3]));
  if (head[2] != 0x08)
    idx_fail(file,
             fmt::format("type code 0x{:02x} is not supported, expected 0x08 (unsigned bytes)",
                         head[2]));
  const int ndims = head[3];
  if (ndims < 1 || ndims > 4)
    idx_fail(file, fmt::format("header says {} dimensions, expected 1 to 4", ndims));
  const size_t header_size = 4 + 4 * static_cast<size_t>(ndims);
  uint8_t sizes[16];
  const size_t got_sizes = in.read(sizes, 4 * static_cast<size_t>(ndims));
  if (got_sizes < 4 * static_cast<size_t>(ndims)) {
    in.check_complete();
    idx_fail(file, fmt::format("file is truncated inside the header: {} dimensions need {} header "
                               "bytes, found {}",
                               ndims, header_size, 4 + got_sizes));
  }

  IdxArray a;
  // Each size is below 2^32 and there are at most 4, so the product fits in 128 bits.
  unsigned __int128 expected = 1;
  for (int k = 0; k < ndims; ++k) {
    const uint32_t d = read_be32(sizes + 4 * k);
    if (d == 0)
      idx_fail(file, fmt::format("dimension {} of the header is 0, expected positive sizes", k));
    a.dims.push_back(d);
    expected *= d;
  }
  const std::string expected_text = expected > UINT64_MAX
                                        ? std::string("more than 2^64")
                                        : std::to_string(static_cast<uint64_t>(expected));
  if (expected > k_idx_max_bytes)
    idx_fail(file, fmt::format("header says {} = {} bytes of data, more than the {} bytes an IDX "
                               "file may hold here",
                               join_dims(a.dims), expected_text, k_idx_max_bytes));
  // Exactly the promised bytes, then a probe for more: memory never exceeds the promise, nor
  // about twice what the file delivers. An uncompressed file's size is known: one shorter than
  // its promise is refused before anything is allocated. A gzip stream's is not: its data grows
  // in pieces that double from 64 KiB to 16 MiB as it arrives, so a 30-byte file promising 4 GiB
  // costs 64 KiB, not 4 GiB (found by fuzz_idx: such a file took 2.7 GB and 14 s).
  const size_t want = static_cast<size_t>(expected);
  size_t found = 0;
  std::error_code size_ec;
  const uintmax_t file_size = std::filesystem::file_size(file, size_ec);
  if (in.direct() && !size_ec && file_size - header_size < want) {
    found = static_cast<size_t>(file_size - header_size);
  } else if (in.direct() && !size_ec) {
    a.data.resize(want);
    found = in.read(a.data.data(), want);
    a.data.resize(found);
  } else {
    for (size_t piece = size_t{64} << 10; found < want; piece = std::min(2 * piece, k_max_piece)) {
      const size_t n = std::min(piece, want - found);
      a.data.resize(found + n);
      const size_t got = in.read(a.data.data() + found, n);
      found += got;
      if (got < n) break;
    }
    a.data.resize(found);
  }
  if (found < want) {
    in.check_complete();
    idx_fail(file, fmt::format("file is truncated: header says {} = {} bytes of data, found {}",
                               join_dims(a.dims), expected_text, found));
  }
  uint8_t probe[1 << 12];
  size_t trailing = 0;
  for (size_t got = in.read(probe, sizeof probe); got > 0; got = in.read(probe, sizeof probe)) {
    trailing += got;
    if (trailing > (size_t{1} << 20)) break;  // enough to know; a bomb is not read to its end
  }
  if (trailing > 0)
    idx_fail(file, trailing > (size_t{1} << 20)
                       ? fmt::format("file has more than {} trailing bytes: header says {} = {} "
                                     "bytes of data, found more than {}",
                                     size_t{1} << 20, join_dims(a.dims), expected_text,
                                     want + (size_t{1} << 20))
                       : fmt::format("file has {} trailing bytes: header says {} = {} bytes of "
                                     "data, found {}",
                                     trailing, join_dims(a.dims), expected_text, want + trailing));
  in.check_complete();
  return a;
}

Dataset idx_load(const std::filesystem::path& images, const std::filesystem::path& labels,
                 int num_classes) {
  IS_CHECK(num_classes >= 1 && num_classes <= 256, "an IDX label is one byte");
  const IdxArray img = idx_read(images);
  const IdxArray lab = idx_read(labels);
  if (img.dims.size() != 3)
    throw Error(
        fmt::format("{}: expected an image file with 3 dimensions (count, rows, columns), "
                    "found {} dimensions ({}); is this a label file?",
                    images.string(), img.dims.size(), join_dims(img.dims)));
  if (lab.dims.size() != 1)
    throw Error(
        fmt::format("{}: expected a label file with 1 dimension (count), found {} "
                    "dimensions ({}); is this an image file?",
                    labels.string(), lab.dims.size(), join_dims(lab.dims)));
  if (img.dims[0] != lab.dims[0])
    throw Error(
        fmt::format("{} holds {} images but {} holds {} labels; expected the same count "
                    "(are both files from the same split?)",
                    images.string(), img.dims[0], labels.string(), lab.dims[0]));
  for (size_t i = 0; i < lab.data.size(); ++i)
    if (lab.data[i] >= num_classes)
      throw Error(
          fmt::format("{}: label {} of example {} is out of range, expected labels "
                      "0..{}",
                      labels.string(), lab.data[i], i, num_classes - 1));

  Dataset d;
  d.n = img.dims[0];
  d.dim = img.dims[1] * img.dims[2];
  d.num_classes = num_classes;
  d.x.resize(img.data.size());
  for (size_t i = 0; i < img.data.size(); ++i) d.x[i] = static_cast<float>(img.data[i]) / 255.0f;
  d.y.assign(lab.data.begin(), lab.data.end());
  return d;
}

}  // namespace initscope
