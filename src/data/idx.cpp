// The IDX reader for MNIST-style files, raw or gzip-compressed.
// IDX is a 4-byte magic (0, 0, type code, number of dimensions), big-endian 32-bit sizes, then
// the array. We accept only type 0x08 (unsigned bytes), which is all MNIST-like data uses, and
// insist the data length matches the header exactly: a short or over-long file is almost always
// a broken download, and catching it here beats training on garbage.
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
}

/// The file's contents, decompressed if it is gzip. zlib's gzread passes non-gzip files through
/// unchanged (it checks the 0x1f 0x8b magic itself), so one code path reads both kinds.
std::vector<uint8_t> read_maybe_gzip(const std::filesystem::path& file) {
  require_regular_file(file);
  gzFile gz = gzopen(file.c_str(), "rb");
  if (gz == nullptr)
    throw Error(fmt::format("{}: cannot open the file: {}", file.string(), std::strerror(errno)));
  gzbuffer(gz, 1 << 17);
  std::vector<uint8_t> out;
  constexpr unsigned k_chunk = 1u << 20;
  for (;;) {
    const size_t old_size = out.size();
    out.resize(old_size + k_chunk);
    const int got = gzread(gz, out.data() + old_size, k_chunk);
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(gz, &code);
      const bool compressed = gzdirect(gz) == 0;
      gzclose(gz);
      if (compressed)
        throw Error(
            fmt::format("{}: the gzip data is damaged ({}); delete the file and fetch it "
                        "again",
                        file.string(), message));
      throw Error(fmt::format("{}: read error: {}", file.string(), message));
    }
    out.resize(old_size + static_cast<size_t>(got));
    if (got == 0) break;
  }
  // A gzip stream cut short is not a read error to gzread (it supports growing files); it
  // reports it as Z_BUF_ERROR afterwards, and we treat it as the damaged download it is.
  int code = Z_OK;
  const std::string message = gzerror(gz, &code);
  gzclose(gz);
  if (code != Z_OK)
    throw Error(
        fmt::format("{}: the gzip data is damaged or cut short ({}); delete the file and "
                    "fetch it again",
                    file.string(), code == Z_BUF_ERROR ? "unexpected end of file" : message));
  return out;
}

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
  std::vector<uint8_t> bytes;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec) bytes.reserve(size);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + in.gcount());
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
  std::vector<uint8_t> bytes = read_maybe_gzip(file);
  if (bytes.size() < 4)
    idx_fail(file, fmt::format("file is too short for an IDX header: {} bytes, need at least 4",
                               bytes.size()));
  if (bytes[0] != 0 || bytes[1] != 0)
    idx_fail(file, fmt::format("wrong magic number 0x{:02x}{:02x}{:02x}{:02x}: an IDX file starts "
                               "with two zero bytes, a type code and the number of dimensions",
                               bytes[0], bytes[1], bytes[2], bytes[3]));
  if (bytes[2] != 0x08)
    idx_fail(file,
             fmt::format("type code 0x{:02x} is not supported, expected 0x08 (unsigned bytes)",
                         bytes[2]));
  const int ndims = bytes[3];
  if (ndims < 1 || ndims > 4)
    idx_fail(file, fmt::format("header says {} dimensions, expected 1 to 4", ndims));
  const size_t header_size = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header_size)
    idx_fail(file, fmt::format("file is truncated inside the header: {} dimensions need {} header "
                               "bytes, found {}",
                               ndims, header_size, bytes.size()));

  IdxArray a;
  // Each size is below 2^32 and there are at most 4, so the product fits in 128 bits.
  unsigned __int128 expected = 1;
  for (int k = 0; k < ndims; ++k) {
    const uint32_t d = read_be32(bytes.data() + 4 + 4 * k);
    if (d == 0)
      idx_fail(file, fmt::format("dimension {} of the header is 0, expected positive sizes", k));
    a.dims.push_back(d);
    expected *= d;
  }
  const size_t found = bytes.size() - header_size;
  const std::string expected_text = expected > UINT64_MAX
                                        ? std::string("more than 2^64")
                                        : std::to_string(static_cast<uint64_t>(expected));
  if (expected > found)
    idx_fail(file, fmt::format("file is truncated: header says {} = {} bytes of data, found {}",
                               join_dims(a.dims), expected_text, found));
  if (expected < found)
    idx_fail(file, fmt::format("file has {} trailing bytes: header says {} = {} bytes of data, "
                               "found {}",
                               found - static_cast<size_t>(expected), join_dims(a.dims),
                               expected_text, found));
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header_size));
  a.data = std::move(bytes);
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
