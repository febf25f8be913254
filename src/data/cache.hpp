// The shared dataset cache: MNIST, Fashion-MNIST and CIFAR-10 converted once into
// DATA_DIR/cache/NAME.f32 (float32 rows in the layout the kernels read, int32 labels) and
// mapped read-only by every run, so that the processes of a sweep share one copy in the page
// cache and a run starts without reading, converting or zeroing the whole set.
// The file's header records the format version, the transform, the shapes and each source
// file's name, size, modification time and SHA-256. A run checks the cheap parts (version,
// transform, shapes, the file's length, the sources' sizes and times: one stat each); `data
// check` also recomputes the SHA-256 sums. A cache that fails any check is rebuilt with a
// one-line notice, never trusted. Builders write a private temporary file and rename it into
// place, so concurrent builders never expose a half-written cache; a data directory where the
// cache cannot be written (read-only, full) falls back to converting in memory, with a notice.
// Deliberately left out: caching the regression tasks (signal1d is made from the run seed,
// images are small) and the run's own transforms (subsets, classes, label noise and
// standardization are per run and stay in prepare_data, as index arrays or m-sized copies).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "data/dataset.hpp"

namespace initscope {

/// Bumped whenever the file layout or the transform changes: an older cache is rebuilt.
inline constexpr uint32_t k_dataset_cache_version = 1;

/// Where the cache of dataset `name` lives in data directory `dir`: dir/cache/NAME.f32.
std::filesystem::path dataset_cache_file(const std::string& name, const std::filesystem::path& dir);

/// load_dataset without the cache: reads and converts the source files in memory (what the
/// cache is built from, and the fallback when it cannot be written).
TrainTest load_dataset_in_memory(const std::string& name, const std::filesystem::path& dir);

/// `data check`'s line for the cache of `name` (whose source files must all be present):
/// absent or stale (ok: the next run builds it), valid (header, length, the sources' SHA-256
/// sums and the rows' checksum all agree), or not ok when a run would trust a cache whose sums
/// disagree (only this full check can see that).
DataStatus check_dataset_cache(const std::string& name, const std::filesystem::path& dir);

}  // namespace initscope
