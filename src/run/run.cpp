// See run.hpp.
#include "run/run.hpp"

#include <cblas.h>

#include <algorithm>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/rng.hpp"
#include "data/dataset.hpp"
#include "model/cpu.hpp"
#include "run/checkpoint.hpp"
#include "train/config.hpp"

namespace initscope {

namespace fs = std::filesystem;

int64_t estimate_run_bytes(const TrainConfig& config, const PreparedData& data) {
  const Mlp net = Mlp::make(model_spec(config, data));
  const int64_t widest = std::max(net.max_width(), net.spec.input_dim);
  const int64_t hidden = net.spec.width * (net.spec.depth - 1);
  const int64_t batch = std::min<int64_t>(config.batch, std::max<int64_t>(data.train.n, 1));
  const int64_t eval_rows = 1024;                             // the trainer's evaluation chunk
  int64_t floats = 3 * static_cast<int64_t>(net.num_params);  // parameters, init, momentum
  floats += batch * (hidden + 4 * widest) + 2 * eval_rows * widest;  // workspaces and panels
  floats += (data.train.n + data.test.n) * data.train.dim;           // the prepared data
  return 4 * floats;
}

void check_memory(const TrainConfig& config, const PreparedData& data) {
  int64_t available_kb = -1;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t value = 0;
  std::string unit;
  while (meminfo >> key >> value >> unit)
    if (key == "MemAvailable:") available_kb = value;
  if (available_kb < 0) return;  // not Linux-like: nothing to compare with
  const int64_t need = estimate_run_bytes(config, data);
  const int64_t available = available_kb * 1024;
  if (need > available)
    throw Error(fmt::format(
        "--width {} --depth {} --m {}: this run needs about {:.1f} GB (parameters, their "
        "initialization and momentum, workspaces and data), but {:.1f} GB of memory is "
        "available; use a smaller width, depth or m",
        config.width, config.depth, data.train.n, static_cast<double>(need) / 1e9,
        static_cast<double>(available) / 1e9));
}

int upgrade_run_identities(Db& db) {
  return db.upgrade_config_hashes(k_config_schema, config_hash_of_stored);
}

const char* initscope_version() {
  return INITSCOPE_VERSION;
}

TrainTest load_task(const TrainConfig& c, const fs::path& dir) {
  if (c.dataset == "signal1d") {
    SignalSpec spec;
    spec.freqs = c.signal_freqs;
    spec.amps = c.signal_amps;
    spec.n = c.m > 0 ? c.m : 32;
    spec.grid = c.signal_grid;
    spec.test_grid = c.test_grid;
    spec.noise = c.target_noise;
    spec.seed = c.seed;
    return make_signal1d(spec);
  }
  if (c.dataset.rfind("image:", 0) == 0) {
    const GrayImage img = read_png_gray(image_file(c.dataset.substr(6), dir));
    TrainTest tt = image_task(square_resize(img, c.image_size), c.train_stride);
    if (c.target_noise > 0) {
      Rng rng(derive_seed(c.seed, "target-noise"));
      for (auto& t : tt.train.targets) t = static_cast<float>(t + c.target_noise * rng.normal());
    }
    return tt;
  }
  return load_dataset(c.dataset, dir);
}

std::string task_data_key(const TrainConfig& c) {
  if (c.dataset == "signal1d") return "";
  if (c.dataset.rfind("image:", 0) == 0)
    return fmt::format("{}@{}/{}/{}", c.dataset, c.image_size, c.train_stride,
                       c.target_noise > 0 ? std::to_string(c.seed) : "");
  return c.dataset;
}

namespace {

// The run's data, starting weights and trainer, prepared before training: where bad input
// (sizes, files) is found.
struct Prepared {
  PreparedData data;
  std::vector<float> start;
  std::optional<Trainer> trainer;  // refers to data; none with --pretrain
};

void prepare(Prepared& p, const TrainConfig& config, const RunOptions& options,
             const TrainTest* raw) {
  // Loaded here, the raw files are prepared and freed before training: only the run's own
  // training and test sets stay in memory (a sweep worker shares one loaded copy instead).
  p.data =
      raw ? prepare_data(config, *raw) : prepare_data(config, load_task(config, options.data_dir));
  check_memory(config, p.data);
  if (!config.init_from.empty()) {
    const Mlp net = Mlp::make(model_spec(config, p.data));
    p.start.resize(net.num_params);
    load_params(config.init_from, net, p.start, &p.data.encoding);
    const int64_t bad = first_nonfinite(p.start);
    if (bad >= 0)
      throw Error(fmt::format("--init-from {}: parameter {} is {}; expected finite weights",
                              config.init_from, bad, p.start[static_cast<size_t>(bad)]));
  }
  // With pretraining the two phases' trainers are made in run_pretrained.
  if (config.pretrain == Pretrain::none) p.trainer.emplace(config, p.data, Engine::fused, p.start);
  if (options.save_weights) std::filesystem::create_directories(*options.save_weights);
}

int stop_signal(const RunOptions& options) {
  return options.stop ? options.stop->load(std::memory_order_relaxed) : 0;
}

}  // namespace

std::optional<RunRecord> execute_run(const TrainConfig& config, const RunOptions& options, Db& db,
                                     const ProgressFn& progress, const TrainTest* raw) {
  validate(config);
  openblas_set_num_threads(config.threads);
  const auto failed = [&](int64_t id, const std::exception& e) {
    db.finish_run(id, k_status_failed, "failed", false, 0.0, e.what(), {}, {});
  };
  Prepared p;
  int64_t id = 0;
  if (options.claim) {
    // A sweep's run is claimed first, so that whatever fails after (an m larger than the data,
    // a missing --init-from file) is recorded as `failed` and counts as done.
    upgrade_run_identities(db);
    const auto claimed = db.claim_run(to_json(config), config_hash(config), config.seed,
                                      initscope_version(), options.retry_failed, options.labels);
    if (!claimed) return std::nullopt;
    id = *claimed;
    if (options.on_claim) options.on_claim(id);
    try {
      prepare(p, config, options, raw);
    } catch (const std::exception& e) {
      failed(id, e);
      throw;
    }
  } else {
    // `train`: bad input (flags, files, sizes) is found before the row is inserted, so it
    // leaves no row at all.
    prepare(p, config, options, raw);
    if (const int sig = stop_signal(options)) throw Interrupted(sig);
    upgrade_run_identities(db);
    id = db.begin_run(to_json(config), config_hash(config), config.seed, initscope_version(),
                      options.labels);
  }
  RunOutcome out;
  try {
    const std::map<std::string, std::string> meta = {{"initscope_run", std::to_string(id)},
                                                     {"config", to_json(config).dump()}};
    if (p.trainer) {
      Trainer& trainer = *p.trainer;
      out = trainer.run(progress, options.stop);
      if (options.save_weights && out.status != RunStatus::interrupted) {
        save_params(*options.save_weights / "init.safetensors", trainer.net(),
                    trainer.initial_params(), meta, &p.data.encoding);
        save_params(*options.save_weights / "final.safetensors", trainer.net(), trainer.params(),
                    meta, &p.data.encoding);
      }
    } else {
      PretrainedRun r = run_pretrained(config, p.data, progress, options.stop);
      out = std::move(r.out);
      if (options.save_weights && out.status != RunStatus::interrupted) {
        save_params(*options.save_weights / "init.safetensors", r.net, r.init, meta,
                    &p.data.encoding);
        save_params(*options.save_weights / "pretrained.safetensors", r.net, r.pretrained, meta,
                    &p.data.encoding);
        save_params(*options.save_weights / "final.safetensors", r.net, r.final_params, meta,
                    &p.data.encoding);
      }
    }
  } catch (const std::exception& e) {
    failed(id, e);
    throw;
  }
  std::map<std::string, nlohmann::json> artifacts;
  if (!p.data.corrupted.empty()) artifacts["corrupted_indices"] = p.data.corrupted;
  for (const auto& [name, values] : out.arrays) artifacts[name] = values;
  // What ran the step: the same run is about twice as slow on OpenBLAS's AVX2 kernels.
  artifacts["engine"] = {{"kernels", to_string(kernel_isa())},
                         {"blas_core", blas_core_name()},
                         {"blas_core_selection", blas_core_selection()},
                         {"threads", config.threads}};
  try {
    db.finish_run(id, to_string(out.status), out.stopped_by, out.converged,
                  out.metrics.at("wall_seconds"), out.error, out.metrics, out.trajectory,
                  artifacts);
  } catch (const Error& e) {
    // The results did not fit (a full disk: the trajectory can be megabytes). The one-row
    // update that says so may still fit; if it does not either, the row stays `running` until
    // the next command that opens the database sees its process gone (mark_interrupted).
    try {
      db.finish_run(id, k_status_failed, "failed", false, out.metrics.at("wall_seconds"),
                    fmt::format("the run ended ({}) but its results could not be stored: {}",
                                to_string(out.status), e.what()),
                    {}, {});
    } catch (const Error&) {
    }
    throw;
  }
  auto record = db.run(id);
  IS_CHECK(record.has_value());
  return record;
}

}  // namespace initscope
