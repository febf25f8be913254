// Writing and validating reading of .safetensors files, following the reference (Rust)
// implementation: the JSON header is padded with spaces to a multiple of 8 bytes, and a reader
// rejects any byte range that overlaps another, leaves a gap, or leaves bytes unused.
// Deliberately left out: dtypes other than F32, memory mapping (our files are a few MB), and
// returning "__metadata__" on read (nothing reads it back yet).
#include "store/safetensors.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace initscope {
namespace {

// The format is little-endian; we copy raw bytes in and out, which is only right on a
// little-endian machine.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O copies raw little-endian bytes");

constexpr size_t k_len_bytes = 8;
// The reference implementation refuses headers above 100 MB; so do we, so that a corrupt length
// cannot make us parse garbage for long.
constexpr uint64_t k_max_header_bytes = 100'000'000;

// product(shape) with overflow and negative-dimension checks; `what` names the tensor.
uint64_t element_count(const std::vector<int64_t>& shape, const std::string& where) {
  uint64_t n = 1;
  for (const int64_t d : shape) {
    if (d < 0) throw Error(fmt::format("{}: negative dimension {} in shape", where, d));
    const auto ud = static_cast<uint64_t>(d);
    if (ud != 0 && n > std::numeric_limits<uint64_t>::max() / 4 / ud) {
      throw Error(fmt::format("{}: shape is too large (more than 2^62 bytes)", where));
    }
    n *= ud;
  }
  return n;
}

[[noreturn]] void io_error(const std::filesystem::path& file, std::string_view doing) {
  throw Error(fmt::format("{}: {}: {}", file.string(), doing, std::strerror(errno)));
}

}  // namespace

void safetensors_write(const std::filesystem::path& file, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps "__metadata__" first and the tensors in the caller's order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorView& t : tensors) {
    const std::string where = fmt::format("{}: tensor '{}'", file.string(), t.name);
    if (t.name == "__metadata__" || !names.insert(t.name).second) {
      throw Error(
          fmt::format("{}: duplicate or reserved name (expected unique tensor names)", where));
    }
    const uint64_t n = element_count(t.shape, where);
    if (n != t.data.size()) {
      throw Error(
          fmt::format("{}: shape holds {} values but the data has {}", where, n, t.data.size()));
    }
    const uint64_t bytes = 4 * n;
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  text.append((k_len_bytes - text.size() % k_len_bytes) % k_len_bytes, ' ');
  const uint64_t header_len = text.size();

  // Write next to the target and rename: a crash leaves the old file or the new one, never half.
  // The pid and a counter keep concurrent writers of the same file off each other's temp file.
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path tmp =
      file.string() + fmt::format(".tmp.{}.{}", static_cast<long>(::getpid()), counter++);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) io_error(tmp, "cannot create file");
  int write_errno = 0;
  const auto put = [&](const void* p, size_t size, size_t count) {
    if (write_errno == 0 && count != 0 && std::fwrite(p, size, count, f) != count) {
      write_errno = errno;
    }
  };
  put(&header_len, sizeof header_len, 1);
  put(text.data(), 1, text.size());
  for (const TensorView& t : tensors) put(t.data.data(), sizeof(float), t.data.size());
  if (write_errno == 0 && (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0)) write_errno = errno;
  if (std::fclose(f) != 0 && write_errno == 0) write_errno = errno;
  if (write_errno != 0) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw Error(fmt::format("{}: cannot write file: {}", tmp.string(), std::strerror(write_errno)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw Error(fmt::format("{}: cannot rename {} into place: {}", file.string(), tmp.string(),
                            ec.message()));
  }
}

std::vector<Tensor> safetensors_read(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw Error(fmt::format("{}: no such file (expected a .safetensors file)", name));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) io_error(file, "cannot open file");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  if (in.bad()) io_error(file, "cannot read file");

  if (bytes.size() < k_len_bytes) {
    throw Error(
        fmt::format("{}: file is {} bytes, too short for a safetensors file (expected at "
                    "least 8 bytes of header length)",
                    name, bytes.size()));
  }
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), k_len_bytes);
  const uint64_t rest = bytes.size() - k_len_bytes;
  if (header_len > k_max_header_bytes) {
    throw Error(
        fmt::format("{}: header length {} is over the 100 MB limit (expected a "
                    "safetensors file)",
                    name, header_len));
  }
  if (header_len > rest) {
    throw Error(
        fmt::format("{}: header length {} is larger than the {} bytes that follow it "
                    "(expected a safetensors file; is it truncated?)",
                    name, header_len, rest));
  }
  const char* header_begin = bytes.data() + k_len_bytes;
  const nlohmann::json header = nlohmann::json::parse(header_begin, header_begin + header_len,
                                                      nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) {
    throw Error(fmt::format("{}: header is not valid JSON (expected a safetensors header)", name));
  }
  if (!header.is_object()) {
    throw Error(fmt::format("{}: header is a JSON {}, expected an object of tensors", name,
                            header.type_name()));
  }

  const char* buffer = header_begin + header_len;
  const uint64_t buffer_len = rest - header_len;
  struct Entry {
    std::string name;
    std::vector<int64_t> shape;
    uint64_t begin = 0;
    uint64_t end = 0;
  };
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) {
        throw Error(
            fmt::format("{}: __metadata__ is not an object (expected string keys and "
                        "values)",
                        name));
      }
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) {
          throw Error(fmt::format("{}: __metadata__ value '{}' is not a string", name, k));
        }
      }
      continue;
    }
    const std::string where = fmt::format("{}: tensor '{}'", name, key);
    if (!value.is_object()) {
      throw Error(
          fmt::format("{}: entry is not an object (expected dtype, shape, data_offsets)", where));
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!value.contains(field)) {
        throw Error(
            fmt::format("{}: missing '{}' (expected dtype, shape and data_offsets)", where, field));
      }
    }
    const auto& dtype = value["dtype"];
    if (!dtype.is_string()) throw Error(fmt::format("{}: dtype is not a string", where));
    if (dtype.get<std::string>() != "F32") {
      throw Error(fmt::format("{}: dtype {} is not supported (only F32 is supported)", where,
                              dtype.get<std::string>()));
    }
    Entry e;
    e.name = key;
    const auto& shape = value["shape"];
    if (!shape.is_array()) throw Error(fmt::format("{}: shape is not an array", where));
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) {
        throw Error(fmt::format("{}: shape {} has an entry that is not a non-negative integer",
                                where, shape.dump()));
      }
      e.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    }
    const auto& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      throw Error(fmt::format("{}: data_offsets {} is not a pair of non-negative integers", where,
                              offsets.dump()));
    }
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.end < e.begin) {
      throw Error(
          fmt::format("{}: data_offsets [{}, {}] end before they begin", where, e.begin, e.end));
    }
    const uint64_t n = element_count(e.shape, where);
    if (e.end - e.begin != 4 * n) {
      throw Error(
          fmt::format("{}: data_offsets [{}, {}] span {} bytes but shape {} needs {} "
                      "(4 bytes per F32)",
                      where, e.begin, e.end, e.end - e.begin, shape.dump(), 4 * n));
    }
    if (e.end > buffer_len) {
      throw Error(
          fmt::format("{}: data_offsets [{}, {}] go beyond the {} data bytes in the file "
                      "(is it truncated?)",
                      where, e.begin, e.end, buffer_len));
    }
    entries.push_back(std::move(e));
  }

  // Sorted by offset, the ranges must tile the buffer exactly, as the reference reader demands.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < expected) {
      throw Error(
          fmt::format("{}: tensor '{}' data_offsets [{}, {}] overlap tensor '{}' (ends at "
                      "{})",
                      name, e.name, e.begin, e.end, previous->name, expected));
    }
    if (e.begin > expected) {
      throw Error(
          fmt::format("{}: tensor '{}' starts at byte {}, leaving a gap after byte {} "
                      "(expected contiguous data)",
                      name, e.name, e.begin, expected));
    }
    expected = e.end;
    previous = &e;
  }
  if (expected != buffer_len) {
    throw Error(
        fmt::format("{}: tensors cover {} bytes but the file has {} data bytes (expected "
                    "no unused bytes)",
                    name, expected, buffer_len));
  }

  std::vector<Tensor> out;
  out.reserve(entries.size());
  for (Entry& e : entries) {
    Tensor t;
    t.name = std::move(e.name);
    t.shape = std::move(e.shape);
    t.data.resize((e.end - e.begin) / 4);
    if (!t.data.empty()) std::memcpy(t.data.data(), buffer + e.begin, e.end - e.begin);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace initscope
