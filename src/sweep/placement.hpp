// Where a sweep's runs go on this machine: how many threads each run gets, and so how many run
// at once.
//
// On a 2-core machine two single-threaded runs share the caches and the memory bandwidth, and
// one two-threaded run pays a fork and join per layer; which of the two finishes a sweep first
// depends on the width, the CPU and its caches, so it is measured, not guessed: a one-time
// calibration times the training step of the NK17 network (784-H-H-H-H-10, batch 64) at a few
// widths, for each way of filling the cores (cores/t processes of t threads each, all at once),
// and stores the steps per second in the data directory. The scheduler then gives a run the t
// with the highest throughput at the run's width. Results do not depend on it: the kernels cut
// work at tile boundaries (kernels.cpp) and OpenBLAS splits products by blocks of the output,
// so a run on two threads stores the same numbers as on one (EngineThreads and
// Placement.ThreadsChosenByTheCalibrationChangeNoStoredNumber test it).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "train/config.hpp"

namespace initscope {

/// The machine a calibration belongs to; a calibration of another machine (or of another
/// initscope, whose kernels may differ) is measured again.
struct MachineKey {
  std::string cpu;      // /proc/cpuinfo's model name
  int cores = 1;        // cores online
  std::string kernels;  // kernel_isa(): avx512, avx2, generic
  std::string blas;     // blas_core_name()
  std::string version;  // initscope_version()
  bool operator==(const MachineKey&) const = default;
};
MachineKey this_machine();

/// Steps per second of the NK17 network at each width, for each thread count t: `rate[w][k]` is
/// the total steps per second of cores/t processes with t = threads[k] threads each, running at
/// once (each process its own network, as a sweep's runs).
struct Calibration {
  MachineKey machine;
  std::vector<int64_t> widths;
  std::vector<int> threads;               // 1, 2, 4, … up to the cores
  std::vector<std::vector<double>> rate;  // [width][thread count]: total steps per second
  std::string measured_at;                // UTC, ISO 8601
  double seconds = 0.0;                   // what measuring took
  double load = 0.0;  // the 1-minute load average before measuring: other work skews it
};

/// The widths a calibration measures.
inline const std::vector<int64_t> k_calibration_widths = {64, 256, 1024, 2048, 4096};

/// The calibration file in a data directory.
std::filesystem::path calibration_path(const std::filesystem::path& data_dir);

/// Measures this machine: every process is forked fresh (OpenMP and OpenBLAS thread pools must
/// not be carried across fork), so the caller's state is untouched. `seconds_per_point`: time
/// of each measurement after its warm-up. Throws Error if a measuring process fails.
Calibration calibrate(const std::vector<int64_t>& widths, double seconds_per_point = 0.3);

/// The stored calibration, if the file exists, parses, and was measured on this machine by this
/// initscope; `why` (if not null) says why not otherwise ("" if there is no file).
std::optional<Calibration> load_calibration(const std::filesystem::path& file,
                                            std::string* why = nullptr);
/// Writes it through a temporary file renamed into place; returns "" or what went wrong.
std::string save_calibration(const Calibration& cal, const std::filesystem::path& file);

/// The threads a run of this config gets: the thread count of the highest throughput at the
/// calibrated width nearest to the run's (in log scale); 1 for a one-layer network.
int placement_threads(const Calibration& cal, const TrainConfig& c);

/// The threads for the last run of a sweep, started with `free` cores idle and nothing left to
/// start after it: the thread count up to `free` with the most steps per second for one process
/// (a table entry divided by its processes), at least `placement_threads`.
int last_run_threads(const Calibration& cal, const TrainConfig& c, int free);

/// One line per calibrated width: the rates and the choice, for `initscope calibrate`.
std::string describe_calibration(const Calibration& cal);
/// What the scheduler chose for these runs, in one line: "runs at H ≤ 512: 1 thread each, 2 at
/// once; H ≥ 1024: 2 threads each, 1 at a time".
std::string describe_placement(const Calibration& cal, const std::vector<TrainConfig>& runs);

}  // namespace initscope
