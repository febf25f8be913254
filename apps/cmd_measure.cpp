// `initscope measure`: the registered measures of a network initscope did not train (weights
// saved by PyTorch under initscope's names: layers.{i}.weight (out, in), layers.{i}.bias (out),
// and encoding.B for Fourier features), printed and stored as a run of kind `measured`.
// The network's depth and width come from the tensors (a --depth or --width that disagrees is
// refused); its activation, the data and the loss come from the same flags as `train`.
// Without --init, every measure relative to the initialization is left out rather than
// reported against the weights themselves (a dist_init of 0 would be a wrong number).
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <set>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "common/error.hpp"
#include "data/dataset.hpp"
#include "measure/flatness.hpp"
#include "measure/registry.hpp"
#include "run/checkpoint.hpp"
#include "run/run.hpp"
#include "store/safetensors.hpp"
#include "train/trainer.hpp"

namespace initscope::cli {

namespace {

// What --measures takes: registered measures by name, and flatness measures by theirs (which
// select the registered `flatness` measure with those in --flatness).
struct Selection {
  std::vector<std::string> registered;
  std::vector<std::string> flatness;
};

Selection parse_measures(const std::string& list) {
  std::vector<std::string> known;
  for (const Measure& m : measures())
    if (m.name != "flatness") known.push_back(m.name);
  const auto& flat = flatness_measure_names();
  Selection s;
  for (size_t start = 0; start <= list.size();) {
    const size_t end = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    const bool is_flat = std::find(flat.begin(), flat.end(), name) != flat.end();
    if (is_flat) {
      s.flatness.push_back(name);
      if (std::find(s.registered.begin(), s.registered.end(), "flatness") == s.registered.end())
        s.registered.push_back("flatness");
    } else if (std::find(known.begin(), known.end(), name) != known.end()) {
      s.registered.push_back(name);
    } else {
      throw Error(
          fmt::format("--measures {}: unknown measure '{}' (expected a comma-separated "
                      "list of {}, {})",
                      list, name, fmt::join(known, ", "), fmt::join(flat, ", ")));
    }
  }
  if (s.registered.empty())
    throw Error(
        fmt::format("--measures '{}': names no measure (expected e.g. errors,weights)", list));
  return s;
}

// The depth and width of the network in a weights file: its layers.{i}.weight tensors, i from
// 0 without gaps, every hidden layer equally wide (initscope's networks are).
std::pair<int, int64_t> infer_shape(const std::string& file) {
  const std::vector<Tensor> tensors = safetensors_read(file);
  std::map<int, std::vector<int64_t>> weights;
  for (const Tensor& t : tensors) {
    int i = -1;
    char tail[16] = {};
    if (std::sscanf(t.name.c_str(), "layers.%d.%15s", &i, tail) == 2 &&
        std::string(tail) == "weight" && i >= 0)
      weights[i] = t.shape;
  }
  if (weights.empty())
    throw Error(
        fmt::format("--weights {}: holds no tensor 'layers.0.weight' (expected "
                    "PyTorch nn.Linear layers in a ModuleList called `layers`)",
                    file));
  const int depth = static_cast<int>(weights.size());
  for (int i = 0; i < depth; ++i) {
    if (!weights.count(i) || weights[i].size() != 2)
      throw Error(
          fmt::format("--weights {}: 'layers.{}.weight' is missing or not a matrix "
                      "(expected layers.0 … layers.{} as (out, in) matrices)",
                      file, i, depth - 1));
  }
  const int64_t width = weights[0][0];
  for (int i = 0; i + 1 < depth; ++i)
    if (weights[i][0] != width)
      throw Error(
          fmt::format("--weights {}: hidden layer {} has width {} but layer 0 has {} "
                      "(expected every hidden layer equally wide)",
                      file, i, weights[i][0], width));
  return {depth, depth == 1 ? 1 : width};
}

// Metrics that compare the weights with their initialization (weights.hpp, flatness.hpp's
// PAC-Bayes forms from the init, the Fourier measure's *_init and persistence): meaningless
// without --init.
bool relative_to_init(const std::string& name) {
  const auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  const auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return starts("dist_") || starts("spec_dw") || starts("fro_z") || starts("spec_z") ||
         starts("prod_fro2_z") || starts("prod_spec_z") || starts("spec_complexity_z") ||
         starts("prop62_") || name == "init_norm" || ends("_init") ||
         name == "log_spec_init_main" || name.find("persistence") != std::string::npos;
}

}  // namespace

void add_measure(CLI::App& app, Common& common) {
  auto* cmd = app.add_subcommand(
      "measure",
      "Measure a network saved by PyTorch (layers.{i}.weight/bias safetensors) and store it as "
      "a run of kind 'measured'");
  struct Args {
    std::string weights, init, measures = "errors,weights";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  // The run options describe the data and the network; --init is the initialization's weights
  // here (not the scheme that draws one) and the weights' file is --weights, not --init-from.
  const auto given_options = add_run_option_flags(cmd, {"init", "init_from"});
  cmd->add_option("--weights", a->weights, "the network to measure (.safetensors)")->required();
  cmd->add_option("--init", a->init,
                  "its initialization (.safetensors), for dist_init and the other measures "
                  "relative to it");
  cmd->add_option("--measures", a->measures,
                  "comma-separated: registered measures (errors, weights, norms, fourier, "
                  "output_bounds, rademacher) and flatness measures (lambda_max, trace, "
                  "sharpness, pacbayes)")
      ->capture_default_str();
  cmd->add_option("--db", common.db, "results database")->capture_default_str();
  cmd->add_option("--data-dir", common.data_dir,
                  "data directory (default $INITSCOPE_DATA or ~/.cache/initscope)");
  cmd->add_flag("--json", a->json, "print the measured run as one JSON object on stdout");
  cmd->callback([a, given_options, &common] {
    const auto t0 = std::chrono::steady_clock::now();
    nlohmann::json j = given_options();
    const Selection sel = parse_measures(a->measures);
    if (j.contains("flatness"))
      throw Error(
          fmt::format("--flatness {}: name flatness measures in --measures instead "
                      "(e.g. --measures errors,lambda_max,trace)",
                      j["flatness"].dump()));
    const auto [depth, width] = infer_shape(a->weights);
    if (j.contains("depth") && j["depth"] != depth)
      throw Error(
          fmt::format("--depth {}: {} holds a network of {} layers (expected --depth {} "
                      "or no --depth)",
                      j["depth"].dump(), a->weights, depth, depth));
    if (j.contains("width") && depth > 1 && j["width"] != width)
      throw Error(
          fmt::format("--width {}: {} holds a network of width {} (expected --width {} "
                      "or no --width)",
                      j["width"].dump(), a->weights, width, width));
    j["depth"] = depth;
    if (depth > 1) j["width"] = width;
    j["flatness"] = fmt::format("{}", fmt::join(sel.flatness, ","));
    // The weights' file is where the run's weights came from: its identity says so.
    j["init_from"] = a->weights;
    const TrainConfig config = config_from_json(j);
    validate(config);
    const PreparedData data = prepare_data(config, load_task(config, data_dir(common.data_dir)));
    const Mlp net = Mlp::make(model_spec(config, data));
    std::vector<float> w(net.num_params), init;
    load_params(a->weights, net, w, &data.encoding);
    if (const int64_t bad = first_nonfinite(w); bad >= 0)
      throw Error(fmt::format("--weights {}: parameter {} is {}; expected finite weights",
                              a->weights, bad, w[static_cast<size_t>(bad)]));
    if (!a->init.empty()) {
      init.resize(net.num_params);
      load_params(a->init, net, init, &data.encoding);
      if (const int64_t bad = first_nonfinite(init); bad >= 0)
        throw Error(fmt::format("--init {}: parameter {} is {}; expected finite weights", a->init,
                                bad, init[static_cast<size_t>(bad)]));
    }
    openblas_set_num_threads(config.threads);
    Trainer trainer(config, data, Engine::fused, w);
    RunOutcome out = trainer.measure_only(init, sel.registered);
    if (init.empty())
      std::erase_if(out.metrics, [](const auto& kv) { return relative_to_init(kv.first); });
    nlohmann::json cfg = to_json(config);
    std::map<std::string, nlohmann::json> artifacts;
    for (const auto& [name, values] : out.arrays) artifacts[name] = values;
    artifacts["measured"] = {
        {"weights", a->weights},
        {"init", a->init.empty() ? nlohmann::json(nullptr) : nlohmann::json(a->init)},
        {"measures", a->measures}};
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.metrics["wall_seconds"] = wall;
    Db db(common.db);
    upgrade_run_identities(db);
    // Its own identity, never a trained run's: a sweep must not take it for its run.
    const int64_t id = db.record_measured_run(cfg, "measured-" + config_hash(config), config.seed,
                                              initscope_version(), wall, out.metrics, artifacts);
    const auto r = db.run(id);
    IS_CHECK(r.has_value());
    if (a->json) {
      fmt::print("{}\n", record_json(*r).dump());
      return;
    }
    fmt::print("run {} measured: {} ({} layers, width {}, {} parameters) on {} (m = {})\n", id,
               a->weights, depth, width, net.num_params, config.dataset, data.train.n);
    for (const auto& [name, value] : r->metrics) fmt::print("  {:<32} {:.10g}\n", name, value);
    fmt::print("  stored in {} (initscope show {} --db {})\n", common.db, id, common.db);
  });
}

}  // namespace initscope::cli
