// A helper for tools/pytorch_hvp_check.py (ctest pytorch_hvp_agreement): one Hessian-vector
// product by initscope's production path (hessian_vector_product<float>, the one --flatness and
// `initscope measure` use) on weights from a safetensors file, written out so that PyTorch can
// recompute it with torch.autograd on the same weights, rows and vector.
//   hvp_dump --weights W.safetensors --out DIR [run options as for `train`: --dataset, --m,
//            --subset first, --activation, --loss, --width, --depth, --seed ...]
// Writes DIR/v.f64 and DIR/hv.f64 (num_params little-endian doubles each: v ~ N(0, I) from
// --seed's "hvp-check" stream, and ∇²L·v of the mean loss over all m training rows) and prints
// the loss. Not installed; a test tool.
#include <cblas.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "measure/hessian.hpp"
#include "run/checkpoint.hpp"
#include "run/run.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

int main(int argc, char** argv) {
  using namespace initscope;
  try {
    std::string weights, out;
    nlohmann::json j = nlohmann::json::object();
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string flag = argv[i], value = argv[i + 1];
      if (flag == "--weights") {
        weights = value;
      } else if (flag == "--out") {
        out = value;
      } else {
        const std::string name = [&] {
          std::string n = flag.substr(2);
          for (auto& c : n)
            if (c == '-') c = '_';
          return n;
        }();
        const auto& opts = run_options();
        const auto it = std::find_if(opts.begin(), opts.end(),
                                     [&](const OptionSpec& s) { return s.name == name; });
        if (it == opts.end()) throw Error(fmt::format("{}: not a run option", flag));
        j[name] = option_value_from_text(*it, value);
      }
    }
    if (weights.empty() || out.empty()) throw Error("usage: hvp_dump --weights W --out DIR ...");
    const TrainConfig c = config_from_json(j);
    openblas_set_num_threads(1);
    const PreparedData data = prepare_data(c, load_task(c, data_dir(std::nullopt)));
    const Mlp net = Mlp::make(model_spec(c, data));
    std::vector<float> w(net.num_params);
    load_params(weights, net, w, &data.encoding);
    std::vector<int64_t> idx(static_cast<size_t>(data.train.n));
    std::iota(idx.begin(), idx.end(), int64_t{0});
    const LossRows rows{data.train.x.data(), data.train.y.data(),
                        data.train.regression() ? data.train.targets.data() : nullptr, idx, c.loss};
    Rng rng(derive_seed(c.seed, "hvp-check"));
    std::vector<double> v(net.num_params), hv(net.num_params);
    std::vector<float> vf(net.num_params);
    for (size_t i = 0; i < v.size(); ++i) {
      vf[i] = static_cast<float>(rng.normal());
      v[i] = vf[i];  // the vector both sides use is the float one
    }
    HvpWorkspace<float> hw = make_hvp_workspace<float>(net);
    const double loss = hessian_vector_product<float>(net, w, rows, vf, hv, hw);
    for (const auto& [name, data_] : {std::pair{"v.f64", &v}, std::pair{"hv.f64", &hv}}) {
      std::ofstream f(out + "/" + name, std::ios::binary);
      f.write(reinterpret_cast<const char*>(data_->data()),
              static_cast<std::streamsize>(data_->size() * sizeof(double)));
      if (!f) throw Error(fmt::format("{}/{}: cannot write", out, name));
    }
    fmt::print("{{\"loss\": {:.17g}, \"num_params\": {}, \"rows\": {}}}\n", loss, net.num_params,
               data.train.n);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "hvp_dump: error: {}\n", e.what());
    return 1;
  }
}
