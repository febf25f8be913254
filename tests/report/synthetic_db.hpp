// Synthetic results databases for the report tests: runs written through the Db API with
// metrics chosen so that every fit, claim and theory check has an answer known in advance.
// Left out: anything trained; these runs never saw data.
#pragma once

#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/db.hpp"

namespace initscope::report::testing {

namespace fs = std::filesystem;

/// A fresh temporary directory, removed with everything in it on destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "initscope_report_test_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

/// The paper's setup as a resolved config (the keys train writes), at one sweep point.
inline nlohmann::json base_config(int64_t width, int64_t m, double noise, uint64_t seed) {
  return {{"dataset", "mnist"},
          {"depth", 5},
          {"width", width},
          {"m", m},
          {"noise", noise},
          {"seed", seed},
          {"loss", "ce"},
          {"lr", 0.1},
          {"momentum", 0.9},
          {"batch", 64},
          {"init", "xavier_normal"},
          {"init_gain", 1.0},
          {"init_from", ""},
          {"classes", nlohmann::json::array()},
          {"max_epochs", 1000},
          {"max_steps", -1},
          {"measure_every", 0},
          {"threads", 1},
          {"stop", {"margin:10:0.99"}}};
}

/// What finish_run gets for one run.
struct RunSpec {
  nlohmann::json config;
  std::string status = k_status_completed;
  bool converged = true;
  std::string stopped_by = "margin:10:0.99";
  std::string error;
  std::map<std::string, double> metrics;
};

/// Inserts and finishes one run; returns its id.
inline int64_t add_run(Db& db, const RunSpec& r) {
  static std::atomic<int> counter{0};
  const std::string hash = "hash" + std::to_string(++counter);
  const int64_t id = db.begin_run(r.config, hash, r.config.value("seed", uint64_t{1}), "test");
  db.finish_run(id, r.status, r.stopped_by, r.converged, 1.5, r.error, r.metrics, {});
  return id;
}

/// Norms of a depth-d initialization at width H. Hidden layers follow Corollary A.2.1 exactly
/// (‖Z_k‖₂ = 2, ‖Z_k‖_F = √H); the input and output layers have H-independent norms unless
/// `xavier_edges`, which gives them Xavier's ‖Z_1‖_F² = 1568H/(784 + H), ‖Z_d‖_F² = 20H/(H + 10).
inline std::map<std::string, double> init_norms(int64_t width, int depth = 5,
                                                bool xavier_edges = false) {
  const double h = static_cast<double>(width);
  std::map<std::string, double> m;
  double prod_fro2 = 1.0, prod_spec = 1.0;
  for (int k = 1; k <= depth; ++k) {
    double fro2 = h, spec = 2.0;
    if (k == 1) fro2 = xavier_edges ? 1568 * h / (784 + h) : 100.0;
    if (k == depth) fro2 = xavier_edges ? 20 * h / (h + 10) : 16.0;
    if (k == 1 || k == depth) spec = 1.7;
    m["fro_z" + std::to_string(k)] = std::sqrt(fro2);
    m["spec_z" + std::to_string(k)] = spec;
    prod_fro2 *= fro2;
    prod_spec *= spec;
  }
  m["prod_fro2_z"] = prod_fro2;
  m["prod_spec_z"] = prod_spec;
  return m;
}

/// Metrics of a trained run with distance r and generalization error gen.
inline std::map<std::string, double> trained_metrics(double r, double gen, int64_t width,
                                                     int64_t m) {
  auto out = init_norms(width);
  out["dist_init"] = r;
  out["train_error"] = 0.0;
  out["test_error"] = gen;
  out["gen_error"] = gen;
  out["m"] = static_cast<double>(m);
  out["steps"] = 1000;
  out["prod_fro2_w"] = out["prod_fro2_z"] * 1.2;
  out["prod_spec_w"] = 60.0;
  out["prop62_bound"] = std::pow(2.0 + r, 5);
  out["prop62_holds"] = 1.0;
  return out;
}

/// An init-only run (max_steps = 0) at width H.
inline RunSpec init_run(int64_t width, uint64_t seed, bool xavier_edges = false) {
  RunSpec s;
  s.config = base_config(width, 4096, 0.0, seed);
  s.config["max_steps"] = 0;
  s.converged = false;
  s.stopped_by = "max_steps";
  s.metrics = init_norms(width, 5, xavier_edges);
  s.metrics["dist_init"] = 0.0;
  s.metrics["steps"] = 0.0;
  s.metrics["prop62_holds"] = 1.0;
  return s;
}

/// A trained, converged run.
inline RunSpec trained_run(int64_t width, int64_t m, double noise, uint64_t seed, double r,
                           double gen) {
  RunSpec s;
  s.config = base_config(width, m, noise, seed);
  s.metrics = trained_metrics(r, gen, width, m);
  return s;
}

}  // namespace initscope::report::testing
