// The shared dataset cache (see cache.hpp): its file format, the cheap checks a run makes before
// trusting a cache, building one atomically, and `data check`'s full verification.
// The format is native (little-endian on every machine we run on) because a cache never leaves
// the data directory it was built in; the magic, the version and a checksum of the header catch
// a file from anywhere else.
#include "data/cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "data/data_files.hpp"
#include "data/dataset.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

constexpr std::array<char, 16> k_magic{'i', 'n', 'i', 't', 's', 'c', 'o',  'p',
                                       'e', '-', 'r', 'o', 'w', 's', '\n', '\0'};
// The header and every section start on a page, so the mapped rows are page-aligned.
constexpr uint64_t k_page = 4096;
constexpr size_t k_max_sources = 8;

struct CacheSource {
  char name[64];  // the file's name (raw or .gz: the cache records which one it read)
  uint64_t size;
  int64_t mtime_ns;
  uint64_t inode;   // a fetch replaces files by renaming: a new inode even within one tick
  char sha256[72];  // 64 hex digits, zero-padded
};

struct CacheHeader {
  std::array<char, 16> magic;
  uint32_t version;
  uint32_t header_bytes;
  char dataset[32];
  char transform[128];
  uint64_t train_n, test_n, dim, num_classes;
  uint64_t train_x, train_y, test_x, test_y, total_bytes;  // section offsets; the file's length
  uint64_t num_sources;
  CacheSource sources[k_max_sources];
  char payload_sha256[72];  // over the sections' own sums (check_dataset_cache)
  uint64_t header_check;    // FNV-1a of every byte above
};
static_assert(sizeof(CacheHeader) <= k_page);

/// What the cached values are: load_dataset_in_memory's, written down so that a change to the
/// readers' scaling or layout (with a version bump) never meets an old file unnoticed.
std::string transform_of(const std::string& name) {
  return fmt::format("{}: x = float32(byte) / 255.0f, rows (n, dim) row-major{}; y int32", name,
                     name == "cifar10" ? ", channel planes R, G, B" : "");
}

uint64_t fnv1a(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

uint64_t header_check_of(const CacheHeader& h) {
  return fnv1a(&h, offsetof(CacheHeader, header_check));
}

uint64_t round_up(uint64_t n) {
  return (n + k_page - 1) / k_page * k_page;
}

template <size_t N>
void put(char (&dst)[N], const std::string& s) {
  IS_CHECK(s.size() < N, "cache header field too long");
  std::memset(dst, 0, N);
  std::memcpy(dst, s.data(), s.size());
}

template <size_t N>
std::string get(const char (&src)[N]) {
  return std::string(src, strnlen(src, N));
}

struct SourceStat {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t inode = 0;
};

std::optional<SourceStat> stat_source(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  return SourceStat{static_cast<uint64_t>(st.st_size),
                    int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                    static_cast<uint64_t>(st.st_ino)};
}

/// A read-only mapping of a whole file, unmapped when the last Dataset viewing it goes.
struct Mapping {
  const uint8_t* base = nullptr;
  size_t size = 0;
  Mapping(const uint8_t* b, size_t s) : base(b), size(s) {}
  ~Mapping() {
    if (base) ::munmap(const_cast<uint8_t*>(base), size);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
};

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

/// The header's own consistency: shapes, offsets and the sections' sizes agree.
std::string layout_problem(const CacheHeader& h) {
  const uint64_t x_train = h.train_n * h.dim * 4, x_test = h.test_n * h.dim * 4;
  if (h.dim == 0 || h.train_n == 0 || h.test_n == 0 || h.num_classes == 0 || h.num_classes > 256 ||
      h.num_sources == 0 || h.num_sources > k_max_sources)
    return "does not match its header (impossible shapes)";
  if (h.train_x != k_page || h.train_y != round_up(h.train_x + x_train) ||
      h.test_x != round_up(h.train_y + h.train_n * 4) || h.test_y != round_up(h.test_x + x_test) ||
      h.total_bytes != round_up(h.test_y + h.test_n * 4))
    return "does not match its header (section offsets disagree with the shapes)";
  return "";
}

/// Opens and maps the cache if every cheap check passes; otherwise says why in `why` ("" when
/// there is no cache at all) and returns nothing.
std::optional<TrainTest> open_cache(const fs::path& file, const std::string& name,
                                    const std::vector<fs::path>& sources, std::string& why) {
  why.clear();
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) {
    if (errno != ENOENT) why = fmt::format("unreadable ({})", std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) {
    why = fmt::format("unreadable ({})", std::strerror(errno));
    return std::nullopt;
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  CacheHeader h{};
  if (file_size < k_page || ::pread(fd.fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) {
    why = fmt::format("truncated ({} bytes, shorter than its {}-byte header)", file_size, k_page);
    return std::nullopt;
  }
  if (h.magic != k_magic) {
    why = "not a dataset cache (wrong magic bytes)";
    return std::nullopt;
  }
  if (h.version != k_dataset_cache_version) {
    why = fmt::format("format version {}, this initscope reads version {}", h.version,
                      k_dataset_cache_version);
    return std::nullopt;
  }
  if (h.header_check != header_check_of(h) || h.header_bytes != k_page) {
    why = "damaged (its header's checksum does not match)";
    return std::nullopt;
  }
  if (get(h.dataset) != name || get(h.transform) != transform_of(name)) {
    why = fmt::format("made by another transform ('{}')", get(h.transform));
    return std::nullopt;
  }
  if (std::string problem = layout_problem(h); !problem.empty()) {
    why = problem;
    return std::nullopt;
  }
  if (h.total_bytes != file_size) {
    why = fmt::format("{} ({} bytes, its header says {})",
                      file_size < h.total_bytes ? "truncated" : "longer than its header says",
                      file_size, h.total_bytes);
    return std::nullopt;
  }
  if (h.num_sources != sources.size()) {
    why = fmt::format("made from {} source files, expected {}", h.num_sources, sources.size());
    return std::nullopt;
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    const CacheSource& s = h.sources[i];
    const auto now = stat_source(sources[i]);
    if (get(s.name) != sources[i].filename().string() || !now || now->size != s.size ||
        now->mtime_ns != s.mtime_ns || now->inode != s.inode) {
      why = fmt::format("out of date: {} changed since the cache was built", sources[i].string());
      return std::nullopt;
    }
  }
  void* base = ::mmap(nullptr, file_size, PROT_READ, MAP_SHARED, fd.fd, 0);
  if (base == MAP_FAILED) {
    why = fmt::format("cannot be mapped ({})", std::strerror(errno));
    return std::nullopt;
  }
  auto map = std::make_shared<const Mapping>(static_cast<const uint8_t*>(base), file_size);
  const auto split = [&](uint64_t n, uint64_t x_off, uint64_t y_off, Dataset& d) {
    d.n = static_cast<int64_t>(n);
    d.dim = static_cast<int64_t>(h.dim);
    d.num_classes = static_cast<int>(h.num_classes);
    d.x = FloatBuffer::view(reinterpret_cast<const float*>(map->base + x_off), n * h.dim, map);
    // Labels are small (4 bytes a row) and runs rewrite them (noise, random ±1): a copy.
    const auto* y = reinterpret_cast<const int32_t*>(map->base + y_off);
    d.y.assign(y, y + n);
    for (const int32_t label : d.y)
      if (label < 0 || label >= d.num_classes) return false;
    return true;
  };
  TrainTest tt;
  if (!split(h.train_n, h.train_x, h.train_y, tt.train) ||
      !split(h.test_n, h.test_x, h.test_y, tt.test)) {
    why = "damaged (a label out of range)";
    return std::nullopt;
  }
  return tt;
}

/// The sections' sums, combined: what payload_sha256 holds.
std::string payload_sum(const std::array<std::pair<const void*, size_t>, 4>& sections) {
  std::string sums;
  for (const auto& [p, n] : sections) sums += sha256_hex(p, n);
  return sha256_hex(sums.data(), sums.size());
}

/// Writes all of `data` at `offset`; false with errno set on failure.
bool write_at(int fd, const void* data, size_t size, uint64_t offset) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t put_n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
    if (put_n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += put_n;
    size -= static_cast<size_t>(put_n);
    offset += static_cast<uint64_t>(put_n);
  }
  return true;
}

/// Writes the cache of `tt` to `file` through a private temporary file renamed into place.
/// Returns "" on success, else why it could not (the caller falls back to memory).
std::string write_cache(const fs::path& file, const std::string& name,
                        const std::vector<fs::path>& sources, const TrainTest& tt) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return ec.message();
  CacheHeader h{};
  h.magic = k_magic;
  h.version = k_dataset_cache_version;
  h.header_bytes = static_cast<uint32_t>(k_page);
  put(h.dataset, name);
  put(h.transform, transform_of(name));
  h.train_n = static_cast<uint64_t>(tt.train.n);
  h.test_n = static_cast<uint64_t>(tt.test.n);
  h.dim = static_cast<uint64_t>(tt.train.dim);
  h.num_classes = static_cast<uint64_t>(tt.train.num_classes);
  h.train_x = k_page;
  h.train_y = round_up(h.train_x + h.train_n * h.dim * 4);
  h.test_x = round_up(h.train_y + h.train_n * 4);
  h.test_y = round_up(h.test_x + h.test_n * h.dim * 4);
  h.total_bytes = round_up(h.test_y + h.test_n * 4);
  IS_CHECK(sources.size() <= k_max_sources);
  h.num_sources = sources.size();
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto st = stat_source(sources[i]);
    if (!st) return fmt::format("{}: cannot stat the file", sources[i].string());
    put(h.sources[i].name, sources[i].filename().string());
    h.sources[i].size = st->size;
    h.sources[i].mtime_ns = st->mtime_ns;
    h.sources[i].inode = st->inode;
    put(h.sources[i].sha256, sha256_file(sources[i]));
  }
  const std::array<std::pair<const void*, size_t>, 4> sections{{
      {tt.train.x.data(), tt.train.x.size() * 4},
      {tt.train.y.data(), tt.train.y.size() * 4},
      {tt.test.x.data(), tt.test.x.size() * 4},
      {tt.test.y.data(), tt.test.y.size() * 4},
  }};
  put(h.payload_sha256, payload_sum(sections));
  h.header_check = header_check_of(h);

  // A name no other builder uses (host, for nodes sharing a data directory; pid; a counter for
  // the threads of one process); O_EXCL so a leftover from a killed builder with a recycled pid
  // is never written into.
  static std::atomic<int> counter{0};
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const fs::path tmp = file.parent_path() / fmt::format("{}.tmp-{}-{}-{}", file.filename().string(),
                                                        host, ::getpid(), counter++);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.fd < 0) return std::strerror(errno);
  const std::array<uint64_t, 4> offsets{h.train_x, h.train_y, h.test_x, h.test_y};
  bool ok = write_at(fd.fd, &h, sizeof h, 0);
  for (size_t s = 0; ok && s < sections.size(); ++s)
    ok = write_at(fd.fd, sections[s].first, sections[s].second, offsets[s]);
  // The gaps between sections are holes that read as zeros; the length must be exact.
  ok = ok && ::ftruncate(fd.fd, static_cast<off_t>(h.total_bytes)) == 0;
  // Durable before it is visible: a crash must not leave a complete-looking name over partial
  // contents (the length check would catch that too, but then every run would rebuild).
  ok = ok && ::fsync(fd.fd) == 0;
  const std::string why = ok ? "" : std::strerror(errno);
  ::close(fd.fd);
  fd.fd = -1;
  if (ok && ::rename(tmp.c_str(), file.c_str()) == 0) return "";
  const std::string rename_why = ok ? std::strerror(errno) : why;
  ::unlink(tmp.c_str());
  return rename_why;
}

void notice(const std::string& text) {
  fmt::print(stderr, "initscope: note: {}\n", text);
}

}  // namespace

fs::path dataset_cache_file(const std::string& name, const fs::path& dir) {
  return dir / "cache" / (name + ".f32");
}

TrainTest load_dataset(const std::string& name, const fs::path& dir) {
  // A missing source file is the user's first error whether or not a cache exists.
  const std::vector<fs::path> sources = data_detail::dataset_source_files(name, dir);
  const fs::path file = dataset_cache_file(name, dir);
  std::string why;
  if (auto cached = open_cache(file, name, sources, why)) return std::move(*cached);
  if (why.empty())
    notice(
        fmt::format("building the dataset cache {} (once for this data directory)", file.string()));
  else
    notice(fmt::format("the dataset cache {} is {}; rebuilding it", file.string(), why));
  TrainTest tt = load_dataset_in_memory(name, dir);
  if (const std::string failed = write_cache(file, name, sources, tt); !failed.empty()) {
    notice(
        fmt::format("cannot write the dataset cache {} ({}); using the {} files converted in "
                    "memory",
                    file.string(), failed, name));
    return tt;
  }
  // Mapped like any later run's, so that the first run and the rest read the same pages. If
  // another builder replaced it meanwhile, its file is as good as ours; if it cannot be
  // opened at all, the converted copy in hand still is.
  if (auto cached = open_cache(file, name, sources, why)) return std::move(*cached);
  notice(
      fmt::format("the dataset cache {} just written is {}; using the {} files converted in "
                  "memory",
                  file.string(), why, name));
  return tt;
}

DataStatus check_dataset_cache(const std::string& name, const fs::path& dir) {
  DataStatus s;
  s.dataset = name;
  s.file = dataset_cache_file(name, dir);
  // A cache that a run would not trust is no error: the next run rebuilds it. One that a run
  // would trust but whose sums disagree is (a run cannot see that), hence not ok.
  s.ok = true;
  const std::vector<fs::path> sources = data_detail::dataset_source_files(name, dir);
  std::error_code ec;
  if (!fs::exists(s.file, ec)) {
    s.detail = "no cache yet (the first run builds it)";
    return s;
  }
  std::string why;
  const auto cached = open_cache(s.file, name, sources, why);
  if (!cached) {
    s.detail = fmt::format("cache {}; the next run rebuilds it", why);
    return s;
  }
  s.ok = false;
  CacheHeader h{};
  {
    Fd fd(::open(s.file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.fd < 0 || ::pread(fd.fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) {
      s.detail = "unreadable";
      return s;
    }
  }
  for (size_t i = 0; i < sources.size(); ++i)
    if (sha256_file(sources[i]) != get(h.sources[i].sha256)) {
      s.detail = fmt::format(
          "cache built from other contents of {} (same size and time); "
          "delete it, the next run rebuilds it",
          sources[i].string());
      return s;
    }
  const std::array<std::pair<const void*, size_t>, 4> sections{{
      {cached->train.x.data(), cached->train.x.size() * 4},
      {cached->train.y.data(), cached->train.y.size() * 4},
      {cached->test.x.data(), cached->test.x.size() * 4},
      {cached->test.y.data(), cached->test.y.size() * 4},
  }};
  if (payload_sum(sections) != get(h.payload_sha256)) {
    s.detail =
        "cache rows do not match the checksum in its header; delete it, the next run "
        "rebuilds it";
    return s;
  }
  s.detail = fmt::format("cache of {} + {} rows of {} floats, source and row sums verified",
                         cached->train.n, cached->test.n, cached->train.dim);
  s.ok = true;
  return s;
}

}  // namespace initscope
