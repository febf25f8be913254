// The run-option table and everything derived from it: JSON in and out, validation, the run's
// identity, command-line values, and the README's table.
#include "train/config.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "common/error.hpp"
#include "measure/flatness.hpp"

namespace initscope {

namespace {

// Whether `s` is a plain decimal number: an optional sign, digits with an optional point, and
// an optional exponent ("0.5", "-1", "1e-3", ".5"). strtod alone also skips leading spaces and
// reads hex ("0x10" is 16), "inf" and "nan", so odd spellings of a criterion ran (reliability
// B14).
bool is_decimal(const std::string& s) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

double parse_number(const std::string& s, const std::string& text) {
  const auto bad = [&](const char* why) {
    return Error(
        fmt::format("--stop {}: '{}' {} (expected e.g. loss<=0.01, loss<=0.1*initial, "
                    "margin:10:0.99 or train_error<=0)",
                    text, s, why));
  };
  if (!is_decimal(s)) throw bad("is not a decimal number");
  errno = 0;
  const double v = std::strtod(s.c_str(), nullptr);
  // ERANGE on an underflow ("1e-400") returns the nearest double, 0 or subnormal: what a number
  // written that small means. On an overflow it returns ±HUGE_VAL.
  if (!std::isfinite(v)) throw bad("is too large");
  return v;
}

std::string dashed(const std::string& name) {
  std::string f = "--" + name;
  for (char& ch : f)
    if (ch == '_') ch = '-';
  return f;
}

std::string joined(const std::vector<std::string>& names, const char* last = " or ") {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i)
    s += (i == 0 ? "" : i + 1 == names.size() ? last : ", ") + names[i];
  return s;
}

// ---- option makers: one per kind, each binding a field of TrainConfig ----------------------

// A whole number within [lo, hi]. JSON integers only: 1.5 or "5" are type errors, and values
// outside the field's range are errors, never narrowed.
template <class T>
OptionSpec integer(std::string name, T TrainConfig::*field, OptionRole role, int64_t lo, int64_t hi,
                   std::string expected, std::string help, std::string doc) {
  OptionSpec s;
  s.name = std::move(name);
  s.kind = OptionKind::integer;
  s.role = role;
  s.help = std::move(help);
  s.doc = std::move(doc);
  s.get = [field](const TrainConfig& c) { return nlohmann::json(c.*field); };
  const std::string flag = dashed(s.name);
  s.set = [field, lo, hi, flag, expected](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_number_integer())
      throw Error(fmt::format("{} {}: expected a whole number ({})", flag, v.dump(), expected));
    // Compared as written, never narrowed: 4294967301 is not 5, and -1 is not 2^64 − 1.
    const bool in_range = v.is_number_unsigned()
                              ? hi >= 0 && v.get<uint64_t>() <= static_cast<uint64_t>(hi) &&
                                    (lo <= 0 || v.get<uint64_t>() >= static_cast<uint64_t>(lo))
                              : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
    if (!in_range) throw Error(fmt::format("{} {}: {}", flag, v.dump(), expected));
    c.*field = v.get<T>();
  };
  return s;
}

// The seed: any unsigned 64-bit value.
OptionSpec seed_option() {
  OptionSpec s;
  s.name = "seed";
  s.kind = OptionKind::integer;
  s.role = OptionRole::axis;
  s.help = "run seed; init, order, subset and noise derive from it";
  s.doc =
      "the run seed; init, data order, subset and label noise each derive their own stream "
      "from it";
  s.get = [](const TrainConfig& c) { return nlohmann::json(c.seed); };
  s.set = [](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0))
      throw Error(fmt::format("--seed {}: expected a whole number from 0 to 2^64 − 1", v.dump()));
    c.seed = v.get<uint64_t>();
  };
  return s;
}

// A real number; `check` returns "" if the value is fine, else what is expected.
OptionSpec real(std::string name, double TrainConfig::*field, OptionRole role,
                std::function<std::string(double)> check, std::string help, std::string doc) {
  OptionSpec s;
  s.name = std::move(name);
  s.kind = OptionKind::real;
  s.role = role;
  s.help = std::move(help);
  s.doc = std::move(doc);
  s.get = [field](const TrainConfig& c) { return nlohmann::json(c.*field); };
  const std::string flag = dashed(s.name);
  s.set = [field, flag, check](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_number()) throw Error(fmt::format("{} {}: expected a number", flag, v.dump()));
    const double x = v.get<double>();
    const std::string why = std::isfinite(x) ? check(x) : "must be finite";
    if (!why.empty()) throw Error(fmt::format("{} {}: {}", flag, v.dump(), why));
    c.*field = x;
  };
  return s;
}

OptionSpec boolean(std::string name, bool TrainConfig::*field, OptionKind kind, std::string help,
                   std::string doc) {
  OptionSpec s;
  s.name = std::move(name);
  s.kind = kind;
  s.role = OptionRole::result;
  s.help = std::move(help);
  s.doc = std::move(doc);
  s.get = [field](const TrainConfig& c) { return nlohmann::json(c.*field); };
  const std::string flag = dashed(s.name);
  s.set = [field, flag](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_boolean()) throw Error(fmt::format("{} {}: expected true or false", flag, v.dump()));
    c.*field = v.get<bool>();
  };
  return s;
}

OptionSpec text(std::string name, std::string TrainConfig::*field, OptionRole role,
                std::string help, std::string doc) {
  OptionSpec s;
  s.name = std::move(name);
  s.kind = OptionKind::text;
  s.role = role;
  s.help = std::move(help);
  s.doc = std::move(doc);
  s.get = [field](const TrainConfig& c) { return nlohmann::json(c.*field); };
  const std::string flag = dashed(s.name);
  s.set = [field, flag](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_string()) throw Error(fmt::format("{} {}: expected a string", flag, v.dump()));
    c.*field = v.get<std::string>();
  };
  return s;
}

// One of a fixed set of names, parsed once into the field's type by `parse` (which throws
// Error naming the flag) and written back by `name_of`.
template <class T>
OptionSpec choice(std::string name, T TrainConfig::*field, OptionRole role,
                  std::vector<std::string> names, std::function<T(const std::string&)> parse,
                  std::function<std::string(T)> name_of, std::string help, std::string doc) {
  OptionSpec s;
  s.name = std::move(name);
  s.kind = OptionKind::choice;
  s.role = role;
  s.help = std::move(help);
  s.doc = std::move(doc);
  s.choices = std::move(names);
  s.get = [field, name_of](const TrainConfig& c) { return nlohmann::json(name_of(c.*field)); };
  const std::string flag = dashed(s.name);
  const std::string expected = joined(s.choices);
  s.set = [field, flag, parse, expected](TrainConfig& c, const nlohmann::json& v) {
    if (!v.is_string())
      throw Error(fmt::format("{} {}: expected one of {}", flag, v.dump(), expected));
    c.*field = parse(v.get<std::string>());
  };
  return s;
}

// A list of finite reals (TOML: an array of numbers; the command line: "1,2,3").
OptionSpec real_list(std::string name, std::vector<double> TrainConfig::*field, std::string what,
                     std::string help, std::string doc) {
  OptionSpec s;
  s.name = std::move(name);
  s.kind = OptionKind::real_list;
  s.role = OptionRole::result;
  s.help = std::move(help);
  s.doc = std::move(doc);
  s.get = [field](const TrainConfig& c) { return nlohmann::json(c.*field); };
  const std::string flag = dashed(s.name);
  s.set = [field, flag, what](TrainConfig& c, const nlohmann::json& v) {
    const auto bad = [&] {
      return Error(
          fmt::format("{} {}: expected a list of finite {}, e.g. 1,2,3", flag, v.dump(), what));
    };
    if (!v.is_array()) throw bad();
    std::vector<double> out;
    for (const auto& e : v) {
      if (!e.is_number() || !std::isfinite(e.get<double>())) throw bad();
      out.push_back(e.get<double>());
    }
    c.*field = std::move(out);
  };
  return s;
}

const std::vector<OptionSpec>& make_options() {
  using R = OptionRole;
  static const std::vector<OptionSpec> options = [] {
    std::vector<OptionSpec> o;
    // ---- data
    {
      OptionSpec s = text("dataset", &TrainConfig::dataset, R::result,
                          "mnist, fashion-mnist, cifar10, signal1d or image:NAME", "");
      s.kind = OptionKind::choice;
      s.choices = dataset_names();
      s.choices.push_back("signal1d");
      s.choices.push_back("image:NAME");
      for (const auto& n : s.choices) s.doc += (s.doc.empty() ? "`" : ", `") + n + "`";
      s.doc +=
          " (regression: `signal1d`, a sum of sines on [−1, 1]; `image:NAME`, a grayscale "
          "image as a function of (row, column) in [−1, 1]², NAME a standard image or a PNG "
          "path)";
      const auto base = s.set;
      const auto names = s.choices;
      s.set = [base, names](TrainConfig& c, const nlohmann::json& v) {
        base(c, v);
        if (c.dataset.rfind("image:", 0) == 0 && c.dataset.size() > 6) return;
        for (const auto& n : names)
          if (c.dataset == n && n != "image:NAME") return;
        throw Error(
            fmt::format("--dataset {}: unknown dataset (expected {})", c.dataset, joined(names)));
      };
      o.push_back(std::move(s));
    }
    o.push_back(integer("m", &TrainConfig::m, R::axis, 0, int64_t{1} << 40,
                        "expected a training-set size ≥ 1, or 0 for the whole training set",
                        "training-set size (0 = all)", "training-set size (`0`: all)"));
    o.push_back(choice<SubsetMode>(
        "subset", &TrainConfig::subset, R::result, {"random", "stratified", "first"}, parse_subset,
        [](SubsetMode s) { return to_string(s); },
        "how to pick m examples: random, stratified, first",
        "how the m examples are chosen: seeded `random`, `stratified` by class, or the `first` m"));
    {
      OptionSpec s;
      s.name = "classes";
      s.kind = OptionKind::int_list;
      s.role = R::result;
      s.help = "keep only these classes, e.g. 0,1 (two = binary task, labels ±1)";
      s.doc =
          "keep only these classes (`A,B`; all by default); two classes make a binary task "
          "with labels ±1 and one output";
      s.get = [](const TrainConfig& c) { return nlohmann::json(c.classes); };
      s.set = [](TrainConfig& c, const nlohmann::json& v) {
        const auto bad = [&] {
          return Error(
              fmt::format("--classes {}: expected a list of class numbers from 0 to "
                          "9999, e.g. 0,1",
                          v.dump()));
        };
        if (!v.is_array()) throw bad();
        std::vector<int> out;
        for (const auto& e : v) {
          if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > 9999)
            throw bad();
          out.push_back(e.get<int>());
        }
        c.classes = std::move(out);
      };
      o.push_back(std::move(s));
    }
    o.push_back(real(
        "noise", &TrainConfig::noise, R::axis,
        [](double x) { return x >= 0 && x <= 1 ? "" : "must be a fraction in [0, 1]"; },
        "fraction of training labels replaced by random labels",
        "replace a seeded fraction p of training labels by uniformly random labels (test set "
        "stays clean; `1` is fully random labels)"));
    {
      OptionSpec s = choice<LabelMode>(
          "labels", &TrainConfig::labels, R::result, {"given", "random-pm1"}, parse_labels,
          [](LabelMode l) { return to_string(l); },
          "given (the dataset's) or random-pm1 (random ±1 labels for every image: binary)",
          "`given`: the dataset's labels; `random-pm1`: every training and test image gets +1 or "
          "−1 with equal probability, drawn independently from the seed's `random-labels` "
          "stream whatever its class, a binary task with one output (Appendix D.2, Figure 5)");
      s.init_distribution = true;  // one output instead of one per class
      o.push_back(std::move(s));
    }
    o.push_back(boolean("standardize", &TrainConfig::standardize, OptionKind::flag,
                        "per-feature standardization instead of [0,1] pixels",
                        "per-feature standardization instead of pixels in [0, 1]"));
    o.push_back(real_list("signal_freqs", &TrainConfig::signal_freqs, "frequencies",
                          "signal1d: frequencies f_k of Σ a_k sin(2π f_k x + φ_k)",
                          "`signal1d`: the frequencies f_k (cycles on [0, 1]) of the target "
                          "y = Σ a_k sin(2π f_k x + φ_k), x ∈ [−1, 1]; the phases φ_k come from a "
                          "fixed stream, so the target is the same for every seed"));
    o.push_back(
        real_list("signal_amps", &TrainConfig::signal_amps, "amplitudes",
                  "signal1d: amplitudes a_k (default all 1)",
                  "`signal1d`: the amplitudes a_k, one per frequency (all `1` by default)"));
    o.push_back(boolean("signal_grid", &TrainConfig::signal_grid, OptionKind::flag,
                        "signal1d: training points on a grid instead of uniform random",
                        "`signal1d`: the m training points on linspace(−1, 1, m) instead of "
                        "uniform random ones from the seed (m: `--m`, 32 if 0)"));
    o.push_back(integer("test_grid", &TrainConfig::test_grid, R::result, 2, int64_t{1} << 24,
                        "expected at least 2 test points", "signal1d: test points on a grid",
                        "`signal1d`: the test set, linspace(−1, 1, N) without noise"));
    o.push_back(real(
        "target_noise", &TrainConfig::target_noise, R::axis,
        [](double x) { return x >= 0 ? "" : "must be ≥ 0"; },
        "regression: std of Gaussian noise on the training targets",
        "regression tasks: standard deviation of seeded Gaussian noise added to the training "
        "targets (the test targets stay clean)"));
    o.push_back(integer("image_size", &TrainConfig::image_size, R::result, 2, 8192,
                        "expected a side of 2 to 8192 pixels",
                        "image: side of the image after a central square crop",
                        "`image:NAME`: the side in pixels after a central square crop (area "
                        "averaging down, bilinear up)"));
    o.push_back(integer("train_stride", &TrainConfig::train_stride, R::result, 1, 4096,
                        "expected a stride of 1 or more pixels",
                        "image: train on every stride-th pixel per axis, test on the rest",
                        "`image:NAME`: train on pixels whose row and column are multiples of "
                        "the stride, test on the others (`2`: a quarter trains, three quarters "
                        "test); `1` trains and tests on every pixel"));
    // ---- model
    o.push_back(integer("depth", &TrainConfig::depth, R::result, 1, 64,
                        "expected 1 to 64 weight layers",
                        "number of weight layers (hidden layers + 1)",
                        "weight layers (`5`: 4 hidden layers, as in the paper)"));
    o.push_back(integer("width", &TrainConfig::width, R::axis, 1, int64_t{1} << 16,
                        "expected a width from 1 to 65536", "hidden units per layer, H",
                        "hidden units per layer, H"));
    o.push_back(choice<Activation>(
        "activation", &TrainConfig::activation, R::result, activation_names(), parse_activation,
        [](Activation a) { return to_string(a); }, "hidden-layer nonlinearity",
        "hidden-layer nonlinearity: " +
            [] {
              std::string s;
              for (const auto& n : activation_names()) s += (s.empty() ? "`" : ", `") + n + "`";
              return s;
            }()));
    const auto positive = [](double x) { return x > 0 ? "" : "must be positive"; };
    o.push_back(real("omega0", &TrainConfig::omega0, R::result, positive,
                     "sine: ω of the first layer, sin(ω·(Wx+b)) (SIREN's first_omega_0)",
                     "`sine` only: ω₀ of the first layer, φ = sin(ω₀·(Wx + b)) as in SIREN's "
                     "code (ω₀ multiplies the bias too)"));
    o.push_back(real("omega0_hidden", &TrainConfig::omega0_hidden, R::result, positive,
                     "sine: ω of the later hidden layers; also the siren init's ω₀",
                     "`sine`: ω₀ of the later hidden layers (SIREN's hidden_omega_0); also the ω₀ "
                     "of `--init siren`'s bound √(6/n)/ω₀"));
    o.push_back(real("gauss_width", &TrainConfig::gauss_width, R::result, positive,
                     "gaussian: width s of exp(-z²/(2s²))",
                     "`gaussian` only: the width s of φ(z) = exp(−z²/(2s²))"));
    o.push_back(choice<InitScheme>(
        "init", &TrainConfig::init, R::result, init_names(), parse_init,
        [](InitScheme s) { return to_string(s); }, "weight initialization scheme",
        "`xavier_normal` (std √(2/(fan_in+fan_out))), `xavier_uniform`, `he_normal`, "
        "`lecun_normal` (biases start at 0); `siren` (first layer U(±1/n), later U(±√(6/n)/ω₀), "
        "biases U(±1/√n) as SIREN's code leaves them); `torch_default` (PyTorch's nn.Linear: "
        "weights and biases U(±1/√n)); n = fan_in"));
    o.push_back(real("init_gain", &TrainConfig::init_gain, R::result, positive,
                     "multiplier on the init's standard deviation",
                     "multiplies the init's standard deviation (the bound for uniform schemes; "
                     "never the biases')"));
    o.push_back(real(
        "init_gain_first", &TrainConfig::init_gain_first, R::result,
        [](double x) { return x >= 0 ? "" : "must be positive, or 0 for --init-gain's value"; },
        "gain of the first layer (0 = --init-gain)",
        "the first layer's gain in place of `--init-gain` (`0`: the same as `--init-gain`)"));
    o.push_back(text("init_from", &TrainConfig::init_from, R::result,
                     "start from the weights in this .safetensors file",
                     "start from the weights in a `.safetensors` file"));
    o.push_back(choice<EncodingKind>(
        "encoding", &TrainConfig::encoding, R::result, encoding_names(), parse_encoding,
        [](EncodingKind k) { return to_string(k); },
        "input encoding before the first layer: none, fourier, positional",
        "input encoding γ applied before the first layer, part of the model: `none`; `fourier` "
        "γ(v) = [cos 2πBv, sin 2πBv], B ~ N(0, σ²) (features × input) from the seed's "
        "`fourier` stream, saved with the weights; `positional` (NeRF) [sin 2^kπv, cos 2^kπv] "
        "for k < L, v itself not included"));
    o.push_back(integer("fourier_features", &TrainConfig::fourier_features, R::result, 1,
                        int64_t{1} << 20, "must be at least 1 (rows of B)",
                        "fourier: number of frequencies m (γ has 2m values)",
                        "`--encoding fourier`: rows m of B; γ has 2m values"));
    o.push_back(real("fourier_sigma", &TrainConfig::fourier_sigma, R::result, positive,
                     "fourier: standard deviation σ of B's entries",
                     "`--encoding fourier`: standard deviation σ of B's entries"));
    o.push_back(integer("pe_levels", &TrainConfig::pe_levels, R::result, 1, 30,
                        "expected 1 to 30 levels", "positional: number of levels L",
                        "`--encoding positional`: levels L (frequencies 2^0 π … 2^{L−1} π); γ has "
                        "2·L·d values"));
    // ---- optimization
    o.push_back(choice<Loss>(
        "loss", &TrainConfig::loss, R::result, loss_names(), parse_loss,
        [](Loss l) { return to_string(l); }, "ce, mse (squared, Appendix D) or logistic (binary)",
        "`ce` (softmax cross-entropy), `mse` ((1/k)·Σ(f_i − y_i)², Appendix D), `logistic` "
        "(binary)"));
    o.push_back(choice<Optimizer>(
        "optimizer", &TrainConfig::optimizer, R::result, optimizer_names(), parse_optimizer,
        [](Optimizer x) { return to_string(x); },
        "sgd (minibatch, momentum), adam (minibatch, PyTorch's Adam) or gd (full batch)",
        "`sgd`: minibatch SGD with momentum; `adam`: PyTorch's `torch.optim.Adam` on the "
        "minibatch gradient (no weight decay, no amsgrad); `gd`: full-batch gradient descent, "
        "each step on the gradient of the mean loss over the whole training set (one step per "
        "epoch; takes `--momentum`, refuses `--batch`)"));
    o.push_back(real(
        "lr", &TrainConfig::lr, R::result, [](double x) { return x > 0 ? "" : "must be positive"; },
        "learning rate",
        "learning rate of the optimizer; for `sgd` and `gd` with PyTorch's momentum: "
        "v ← μv + g, w ← w − lr·v"));
    o.push_back(real(
        "momentum", &TrainConfig::momentum, R::result,
        [](double x) { return x >= 0 && x < 1 ? "" : "expected a value in [0, 1)"; },
        "SGD momentum (PyTorch semantics; sgd and gd)",
        "μ of SGD with momentum (PyTorch's semantics), for `sgd` and `gd`"));
    const auto unit_interval = [](double x) {
      return x >= 0 && x < 1 ? "" : "expected a value in [0, 1)";
    };
    o.push_back(real("beta1", &TrainConfig::beta1, R::result, unit_interval,
                     "Adam's β₁ (--optimizer adam)",
                     "Adam's β₁: m ← β₁m + (1 − β₁)g (`--optimizer adam` only)"));
    o.push_back(real("beta2", &TrainConfig::beta2, R::result, unit_interval,
                     "Adam's β₂ (--optimizer adam)",
                     "Adam's β₂: v ← β₂v + (1 − β₂)g² (`--optimizer adam` only)"));
    o.push_back(real(
        "eps", &TrainConfig::eps, R::result,
        [](double x) { return x > 0 ? "" : "must be positive"; }, "Adam's ε (--optimizer adam)",
        "Adam's ε, added to √v̂ after bias correction: w ← w − lr·m̂/(√v̂ + ε) (`--optimizer "
        "adam` only)"));
    o.push_back(integer("batch", &TrainConfig::batch, R::result, 1, int64_t{1} << 30,
                        "must be at least 1", "minibatch size",
                        "minibatch size; the last batch of an epoch may be smaller, as in "
                        "PyTorch's DataLoader"));
    o.push_back(boolean("shuffle", &TrainConfig::shuffle, OptionKind::on_off,
                        "reshuffle each epoch (on) or keep file order (off)",
                        "reshuffle every epoch from the run seed (`on`), or `off` for file order"));
    {
      OptionSpec s;
      s.name = "stop";
      s.kind = OptionKind::text_list;
      s.role = R::result;
      s.help =
          "stopping criterion, repeatable: loss<=X, loss<=F*initial, margin:G:Q, train_error<=X, "
          "plateau:N";
      s.doc =
          "repeatable; the run stops when any holds on the whole training set, checked after "
          "each epoch (see `--train-eval`): `loss<=X`, `loss<=F*initial`, `margin:γ:q` (a "
          "fraction ≥ q has margin f_y − max_{j≠y} f_j ≥ γ), `train_error<=X`; `plateau:N` ends a "
          "collapsed run (training loss at chance level, ln K for cross-entropy, for N epochs in a "
          "row) as `stopped_by plateau`, not converged";
      s.get = [](const TrainConfig& c) { return nlohmann::json(c.stop); };
      s.set = [](TrainConfig& c, const nlohmann::json& v) {
        // TOML may give one criterion as a plain string.
        const nlohmann::json list = v.is_string() ? nlohmann::json::array({v}) : v;
        if (!list.is_array())
          throw Error(fmt::format("--stop {}: expected a criterion or a list of them", v.dump()));
        std::vector<std::string> out;
        for (const auto& e : list) {
          if (!e.is_string())
            throw Error(
                fmt::format("--stop {}: expected a criterion such as loss<=0.01", e.dump()));
          parse_stop(e.get<std::string>());
          out.push_back(e.get<std::string>());
        }
        c.stop = std::move(out);
      };
      o.push_back(std::move(s));
    }
    o.push_back(integer("max_epochs", &TrainConfig::max_epochs, R::axis, 0,
                        std::numeric_limits<int64_t>::max(), "must be ≥ 0", "cap on epochs",
                        "cap; a run it stops is recorded with `stopped_by max_epochs` and "
                        "`converged = 0`"));
    o.push_back(integer("max_steps", &TrainConfig::max_steps, R::axis, -1,
                        std::numeric_limits<int64_t>::max(),
                        "expected -1 (no cap), 0 (no training) or a step count",
                        "cap on steps (-1 = none, 0 = measure the init only)",
                        "cap on steps (`-1`: none); `0` measures the initialization only"));
    o.push_back(integer("measure_every", &TrainConfig::measure_every, R::axis, 0,
                        std::numeric_limits<int64_t>::max(), "must be ≥ 0",
                        "epochs between trajectory measurements (0 = end only)",
                        "also record test error, distances and norms every N epochs in the "
                        "trajectory"));
    {
      OptionSpec s = text(
          "flatness", &TrainConfig::flatness, R::axis,
          "flatness measures at the end: lambda_max,trace,sharpness,pacbayes (costly; none by "
          "default)",
          "flatness measures taken at the end, a comma-separated list of `lambda_max` (Hessian "
          "λ_max and λ_min by Lanczos), `trace` (Hutchinson), `sharpness` (α searches and "
          "Keskar's ε-sharpness), `pacbayes` (σ searches); none by default (see Measures)");
      const auto set_text = s.set;
      s.set = [set_text](TrainConfig& c, const nlohmann::json& v) {
        set_text(c, v);
        parse_flatness(c.flatness);
      };
      o.push_back(std::move(s));
    }
    o.push_back(integer("flatness_rows", &TrainConfig::flatness_rows, R::axis, 0,
                        std::numeric_limits<int64_t>::max(), "must be ≥ 0 (0: every row)",
                        "training rows the flatness measures use (seeded subset; 0 = all)",
                        "training rows the `--flatness` measures use, a subset drawn from the "
                        "run seed (`0`: all)"));
    o.push_back(choice<Pretrain>(
        "pretrain", &TrainConfig::pretrain, R::result,
        {"none", "random-labels", "noise-targets", "noise-inputs"}, parse_pretrain,
        [](Pretrain p) { return to_string(p); },
        "train on corrupted data first, then on the task from there",
        "train first on corrupted data, until `--pretrain-stop`, and then on the task from the "
        "weights it reached: `random-labels` (every label random), `noise-targets` (regression: "
        "targets replaced by Gaussian noise of their std), `noise-inputs` (Gaussian-noise inputs "
        "with random labels, or uniform inputs with noise targets); `dist_pretrain` and "
        "`dist_init` measure from both starting points"));
    {
      OptionSpec s =
          *std::find_if(o.begin(), o.end(), [](const OptionSpec& x) { return x.name == "stop"; });
      s.name = "pretrain_stop";
      s.help = "the pretraining phase's stopping criterion (as --stop), repeatable";
      s.doc = "`--pretrain`'s criteria, in `--stop`'s syntax; the caps apply to each phase";
      s.get = [](const TrainConfig& c) { return nlohmann::json(c.pretrain_stop); };
      const auto set_stop = s.set;
      s.set = [set_stop](TrainConfig& c, const nlohmann::json& v) {
        TrainConfig tmp;
        try {
          set_stop(tmp, v);
        } catch (const Error& e) {
          std::string m = e.what();
          if (m.rfind("--stop", 0) == 0) m = "--pretrain-stop" + m.substr(6);
          throw Error(m);
        }
        c.pretrain_stop = tmp.stop;
      };
      o.push_back(std::move(s));
    }
    o.push_back(real(
        "rademacher_radius", &TrainConfig::rademacher_radius, R::result,
        [](double x) { return x >= 0 ? "" : "must be ≥ 0 (0: off)"; },
        "Theorem 5.1: estimate the Rademacher complexity of the ball of this radius around the "
        "init (linear nets, one output; 0 = off)",
        "Theorem 5.1 (`--activation linear`, one output): at the end, estimate E_ξ sup over "
        "‖θ − θ₀‖ ≤ r of (1/m)Σξ_i f_θ(x_i) on the training inputs, the ball centred on the "
        "initialization θ₀, by projected gradient ascent (a lower bound on the supremum; "
        "`rademacher*` metrics); `0`: off"));
    o.push_back(integer("rademacher_draws", &TrainConfig::rademacher_draws, R::result, 2, 100000,
                        "expected 2 to 100000 draws", "Theorem 5.1: draws of ξ (standard error)",
                        "`--rademacher-radius`: draws of ξ over which the estimate is averaged "
                        "(its standard error is over these)"));
    o.push_back(integer(
        "line_segments", &TrainConfig::line_segments, R::result, 0, 100000,
        "expected 0 (off) to 100000 segments",
        "RM23 E3: Fourier line spectra of a classifier on N segments (0 = off)",
        "Classification: the network's Fourier spectrum along N line segments through input "
        "space (RM23 E3; `fourier_centroid`, `fourier_logit_centroid`, `fourier_hf_fraction` "
        "with `--line-cutoff`), during training and at the end; `0`: off"));
    o.push_back(integer("line_points", &TrainConfig::line_points, R::result, 16, 65536,
                        "expected 16 to 65536 samples per segment", "samples per line segment",
                        "`--line-segments`: samples of the function along each segment"));
    o.push_back(real(
        "line_cutoff", &TrainConfig::line_cutoff, R::result,
        [](double x) { return x >= 0 ? "" : "must be ≥ 0 cycles per unit (0: none)"; },
        "line spectra's high-frequency cut-off, cycles per unit distance (0 = none)",
        "`--line-segments`: `fourier_hf_fraction` is the margin's energy above this frequency "
        "(cycles per unit of input-space distance) over its energy above 0; `0`: not computed"));
    o.push_back(choice<std::string>(
        "line_mode", &TrainConfig::line_mode, R::result, {"pairs", "directions"},
        [](const std::string& v) {
          if (v != "pairs" && v != "directions")
            throw Error(fmt::format("--line-mode {}: expected one of pairs, directions", v));
          return v;
        },
        [](std::string v) { return v; }, "line segments: between test pairs, or directions",
        "`--line-segments`: `pairs` joins random pairs of test points; `directions` runs from "
        "test points along random unit directions, for the pairs' median length"));
    o.push_back(boolean(
        "mechanism", &TrainConfig::mechanism, OptionKind::flag,
        "RM23 E4: ‖G(ξ, θ)‖ and the per-frequency rate bound (signal1d)",
        "`signal1d` (one input, one output): at init, every `--measure-every` epochs and at the "
        "end, ‖G(ξ, θ)‖ (the Fourier transform of the parameter-gradient field on the dense "
        "grid) and the per-frequency rate against its Cauchy–Schwarz bound (RM23 E4; `mech_*`)"));
    o.push_back(seed_option());
    // ---- execution
    o.push_back(integer("threads", &TrainConfig::threads, R::execution, 1, 256, "expected 1 to 256",
                        "threads for this run (kernels and OpenBLAS); results are the same bit "
                        "for bit",
                        "threads for this run's kernels and OpenBLAS; results are the same bit "
                        "for bit; two help one run only at H ≥ 512; a sweep sets it per run "
                        "from the machine's calibration (`sweep --placement auto`)"));
    o.push_back(choice<TrainEval>(
        "train_eval", &TrainConfig::train_eval, R::execution, {"early", "full"}, parse_train_eval,
        [](TrainEval e) { return to_string(e); },
        "stopping check each epoch: early (evaluate until decided; same run) or full (whole "
        "training set, exact train loss every epoch)",
        "how much of the training set the stopping check evaluates after each epoch: `early` "
        "stops as soon as every criterion is certainly unmet (each criterion is a mean of "
        "nonnegative per-example terms, so the examples seen bound the rest), taking first the "
        "examples that failed in this epoch's training pass; the run stops at the same epoch "
        "with the same weights as with `full`, which evaluates everything and records the exact "
        "training loss and error every epoch"));
    // The options of config schema 2, which report keys list even at their default (see
    // OptionSpec::keyed_at_default). Frozen: an option added later is never listed here.
    for (const char* name :
         {"dataset",    "m",         "subset",        "classes", "noise",     "standardize",
          "depth",      "width",     "activation",    "init",    "init_gain", "init_from",
          "loss",       "lr",        "momentum",      "batch",   "shuffle",   "stop",
          "max_epochs", "max_steps", "measure_every", "seed",    "threads",   "train_eval"})
      for (auto& spec : o)
        if (spec.name == name) spec.keyed_at_default = true;
    for (const char* name : {"dataset", "classes", "depth", "init", "init_gain", "init_from"})
      for (auto& spec : o)
        if (spec.name == name) spec.init_distribution = true;
    return o;
  }();
  return options;
}

// The task's options: those of signal1d and image:NAME only with that task, what a regression
// task cannot take (classes, label noise, class-based subsets and criteria), and the stopping
// criteria and pretraining that need one kind of task or the other.
void validate_task(const TrainConfig& c) {
  static const TrainConfig defaults;
  const bool signal = c.dataset == "signal1d", image = c.dataset.rfind("image:", 0) == 0;
  const bool regression = signal || image;
  const auto refuse = [&](const std::string& flag, const std::string& value,
                          const std::string& needs) {
    return Error(fmt::format("{} {}: needs {} (the dataset is {})", flag, value, needs, c.dataset));
  };
  if (!signal) {
    if (c.signal_freqs != defaults.signal_freqs)
      throw refuse("--signal-freqs", fmt::format("{}", fmt::join(c.signal_freqs, ",")),
                   "--dataset signal1d");
    if (c.signal_amps != defaults.signal_amps)
      throw refuse("--signal-amps", fmt::format("{}", fmt::join(c.signal_amps, ",")),
                   "--dataset signal1d");
    if (c.signal_grid) throw refuse("--signal-grid", "", "--dataset signal1d");
    if (c.test_grid != defaults.test_grid)
      throw refuse("--test-grid", std::to_string(c.test_grid), "--dataset signal1d");
  }
  if (!image) {
    if (c.image_size != defaults.image_size)
      throw refuse("--image-size", std::to_string(c.image_size), "--dataset image:NAME");
    if (c.train_stride != defaults.train_stride)
      throw refuse("--train-stride", std::to_string(c.train_stride), "--dataset image:NAME");
  }
  if (regression && c.line_segments > 0)
    throw refuse("--line-segments", std::to_string(c.line_segments),
                 "a classification task (coordinate tasks have grid spectra)");
  if (c.line_segments == 0) {
    if (c.line_points != defaults.line_points)
      throw Error(fmt::format("--line-points {}: needs --line-segments N > 0", c.line_points));
    if (c.line_cutoff != defaults.line_cutoff)
      throw Error(fmt::format("--line-cutoff {}: needs --line-segments N > 0", c.line_cutoff));
    if (c.line_mode != defaults.line_mode)
      throw Error(fmt::format("--line-mode {}: needs --line-segments N > 0", c.line_mode));
  }
  if (c.mechanism && !signal) throw refuse("--mechanism", "", "--dataset signal1d");
  if (!regression && c.target_noise != defaults.target_noise)
    throw refuse("--target-noise", fmt::format("{}", c.target_noise),
                 "a regression task (signal1d or image:NAME); label noise is --noise");
  if (signal) {
    if (c.signal_freqs.empty())
      throw Error("--signal-freqs: expected at least one frequency, e.g. 1,2,3");
    if (!c.signal_amps.empty() && c.signal_amps.size() != c.signal_freqs.size())
      throw Error(
          fmt::format("--signal-amps {}: {} amplitudes for {} frequencies; expected one "
                      "per frequency",
                      fmt::format("{}", fmt::join(c.signal_amps, ",")), c.signal_amps.size(),
                      c.signal_freqs.size()));
  }
  if (image && c.train_stride >= c.image_size)
    throw Error(
        fmt::format("--train-stride {}: not smaller than the {}-pixel image "
                    "(--image-size); expected 1 to {}",
                    c.train_stride, c.image_size, c.image_size - 1));
  if (regression) {
    if (c.loss != Loss::mse)
      throw Error(fmt::format("--loss {}: a regression task ({}) is fitted with --loss mse",
                              to_string(c.loss), c.dataset));
    if (!c.classes.empty()) throw Error(fmt::format("--classes: {} has no classes", c.dataset));
    if (c.noise != defaults.noise)
      throw Error(fmt::format("--noise {}: {} has no labels to corrupt; use --target-noise",
                              c.noise, c.dataset));
    if (c.subset == SubsetMode::stratified)
      throw Error(fmt::format("--subset stratified: {} has no classes to stratify by", c.dataset));
    if (c.standardize)
      throw Error(
          fmt::format("--standardize: {}'s inputs are coordinates in [−1, 1] already", c.dataset));
    if (c.labels != LabelMode::given)
      throw Error(fmt::format("--labels: {} has targets, not labels", c.dataset));
  }
  const auto check_criteria = [&](const std::vector<std::string>& list, const char* flag) {
    for (const auto& text : list) {
      const StopCriterion k = parse_stop(text);
      switch (k.kind) {
        case StopCriterion::Kind::mse:
          if (!regression)
            throw Error(
                fmt::format("{} {}: needs a regression task (signal1d or image:NAME); "
                            "the dataset is {}",
                            flag, text, c.dataset));
          break;
        case StopCriterion::Kind::psnr:
          if (!image)
            throw Error(
                fmt::format("{} {}: the PSNR needs an image task (image:NAME); the "
                            "dataset is {}",
                            flag, text, c.dataset));
          break;
        case StopCriterion::Kind::plateau:
          if (regression)
            throw Error(fmt::format(
                "{} {}: {} is a regression task; plateau:N watches a classifier's loss sit at "
                "chance level",
                flag, text, c.dataset));
          break;
        case StopCriterion::Kind::margin:
        case StopCriterion::Kind::train_error:
          if (regression)
            throw Error(
                fmt::format("{} {}: {} is a regression task without classes; use "
                            "mse<=X{}",
                            flag, text, c.dataset, image ? " or psnr>=X" : ""));
          break;
        case StopCriterion::Kind::loss:
        case StopCriterion::Kind::loss_relative:
          break;
      }
    }
  };
  check_criteria(c.stop, "--stop");
  check_criteria(c.pretrain_stop, "--pretrain-stop");
  switch (c.pretrain) {
    case Pretrain::none:
      if (!c.pretrain_stop.empty())
        throw Error(fmt::format("--pretrain-stop {}: needs --pretrain", c.pretrain_stop[0]));
      return;
    case Pretrain::random_labels:
      if (regression)
        throw Error(
            fmt::format("--pretrain random-labels: {} has no labels; use "
                        "noise-targets",
                        c.dataset));
      break;
    case Pretrain::noise_targets:
      if (!regression)
        throw Error(
            fmt::format("--pretrain noise-targets: {} has labels, not targets; use "
                        "random-labels",
                        c.dataset));
      break;
    case Pretrain::noise_inputs:
      break;
  }
  if (c.pretrain_stop.empty())
    throw Error(
        fmt::format("--pretrain {}: give the pretraining's criterion with "
                    "--pretrain-stop (e.g. {})",
                    to_string(c.pretrain), regression ? "mse<=1e-3" : "train_error<=0"));
  if (!c.init_from.empty())
    throw Error(
        "--pretrain: the run starts from --init-from's weights; pretrain only from a "
        "random initialization");
}

// The checks between options, after each option's own. An option of one activation, init or
// encoding given with another is refused: its value differs from the default (a value equal to
// the default cannot be told from an absent one, and changes nothing).
void validate_combinations(const TrainConfig& c) {
  static const TrainConfig defaults;
  const std::string act = to_string(c.activation);
  if (c.omega0 != defaults.omega0 && c.activation != Activation::sine)
    throw Error(
        fmt::format("--omega0 {}: only --activation sine has a frequency (the activation "
                    "is {})",
                    c.omega0, act));
  if (c.omega0_hidden != defaults.omega0_hidden && c.activation != Activation::sine &&
      c.init != InitScheme::siren)
    throw Error(
        fmt::format("--omega0-hidden {}: needs --activation sine or --init siren (the "
                    "activation is {}, the init {})",
                    c.omega0_hidden, act, to_string(c.init)));
  if (c.gauss_width != defaults.gauss_width && c.activation != Activation::gaussian)
    throw Error(
        fmt::format("--gauss-width {}: only --activation gaussian has a width (the "
                    "activation is {})",
                    c.gauss_width, act));
  if (c.encoding != EncodingKind::fourier) {
    if (c.fourier_features != defaults.fourier_features)
      throw Error(
          fmt::format("--fourier-features {}: needs --encoding fourier (the encoding is "
                      "{})",
                      c.fourier_features, to_string(c.encoding)));
    if (c.fourier_sigma != defaults.fourier_sigma)
      throw Error(fmt::format("--fourier-sigma {}: needs --encoding fourier (the encoding is {})",
                              c.fourier_sigma, to_string(c.encoding)));
  }
  if (c.pe_levels != defaults.pe_levels && c.encoding != EncodingKind::positional)
    throw Error(fmt::format("--pe-levels {}: needs --encoding positional (the encoding is {})",
                            c.pe_levels, to_string(c.encoding)));
  validate_task(c);
  if (is_regression_task(c.dataset))
    for (FlatnessMeasure m : parse_flatness(c.flatness))
      if (needs_training_error(m))
        throw Error(fmt::format(
            "--flatness {}: {} needs a classification task (it holds the training error "
            "within 0.1 of its value); expected lambda_max or trace for {}",
            c.flatness, flatness_measure_names()[static_cast<size_t>(m)], c.dataset));
  const bool binary = is_binary_task(c);
  if (c.classes.size() == 1)
    throw Error("--classes: give at least two classes, e.g. --classes 0,1");
  if (c.labels == LabelMode::random_pm1 && c.noise != defaults.noise)
    throw Error(
        fmt::format("--noise {}: --labels random-pm1 already makes every label random; leave "
                    "--noise out",
                    c.noise));
  switch (c.loss) {
    case Loss::ce:
      if (binary)
        throw Error(
            "--loss ce: a binary task (two --classes or --labels random-pm1) has one output with "
            "labels ±1; use --loss mse or logistic");
      break;
    case Loss::logistic:
      if (!binary)
        throw Error("--loss logistic: needs a binary task (--classes A,B or --labels random-pm1)");
      break;
    case Loss::mse:
      break;
  }
  if (c.rademacher_radius > 0.0 && (c.activation != Activation::linear || !is_binary_task(c)))
    throw Error(fmt::format(
        "--rademacher-radius {}: Theorem 5.1's estimate needs --activation linear and one output "
        "(--labels random-pm1 or two --classes); the activation is {}",
        c.rademacher_radius, act));
  if (c.rademacher_draws != defaults.rademacher_draws && !(c.rademacher_radius > 0.0))
    throw Error(
        fmt::format("--rademacher-draws {}: needs --rademacher-radius", c.rademacher_draws));
  // Options of one optimizer given with another are refused, never silently ignored: only
  // their defaults may stand next to a different --optimizer.
  const bool adam_options =
      c.beta1 != defaults.beta1 || c.beta2 != defaults.beta2 || c.eps != defaults.eps;
  const auto adam_flag = [&] {
    return c.beta1 != defaults.beta1 ? "--beta1" : c.beta2 != defaults.beta2 ? "--beta2" : "--eps";
  };
  switch (c.optimizer) {
    case Optimizer::sgd:
      if (adam_options)
        throw Error(fmt::format("{}: an Adam option needs --optimizer adam (the optimizer is sgd)",
                                adam_flag()));
      break;
    case Optimizer::adam:
      if (c.momentum != defaults.momentum)
        throw Error(
            "--momentum: --optimizer adam has no momentum option; its moments are --beta1 and "
            "--beta2");
      break;
    case Optimizer::gd:
      if (adam_options)
        throw Error(fmt::format("{}: an Adam option needs --optimizer adam (the optimizer is gd)",
                                adam_flag()));
      if (c.batch != defaults.batch)
        throw Error(fmt::format(
            "--batch {}: --optimizer gd steps on the whole training set; leave --batch out",
            c.batch));
      break;
  }
}

uint64_t fnv1a(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}

}  // namespace

StopCriterion parse_stop(const std::string& text) {
  StopCriterion c;
  c.text = text;
  const auto bad = [&](const std::string& why) {
    return Error(
        fmt::format("--stop {}: {} (expected loss<=X, loss<=F*initial, margin:G:Q, "
                    "train_error<=X, mse<=X, psnr>=X or plateau:N)",
                    text, why));
  };
  if (text.rfind("loss<=", 0) == 0) {
    std::string v = text.substr(6);
    const std::string suffix = "*initial";
    if (v.size() > suffix.size() &&
        v.compare(v.size() - suffix.size(), suffix.size(), suffix) == 0) {
      c.kind = StopCriterion::Kind::loss_relative;
      c.value = parse_number(v.substr(0, v.size() - suffix.size()), text);
      if (c.value <= 0) throw bad("the factor must be positive");
    } else {
      c.kind = StopCriterion::Kind::loss;
      c.value = parse_number(v, text);
      if (c.value < 0) throw bad("the loss bound must be non-negative");
    }
  } else if (text.rfind("train_error<=", 0) == 0) {
    c.kind = StopCriterion::Kind::train_error;
    c.value = parse_number(text.substr(13), text);
    if (c.value < 0 || c.value > 1) throw bad("the error bound must be in [0, 1]");
  } else if (text.rfind("mse<=", 0) == 0) {
    c.kind = StopCriterion::Kind::mse;
    c.value = parse_number(text.substr(5), text);
    if (c.value < 0) throw bad("the MSE bound must be non-negative");
  } else if (text.rfind("psnr>=", 0) == 0) {
    c.kind = StopCriterion::Kind::psnr;
    c.value = parse_number(text.substr(6), text);
  } else if (text.rfind("margin:", 0) == 0) {
    const std::string rest = text.substr(7);
    const auto colon = rest.find(':');
    if (colon == std::string::npos) throw bad("margin needs a margin and a quantile");
    c.kind = StopCriterion::Kind::margin;
    c.value = parse_number(rest.substr(0, colon), text);
    c.quantile = parse_number(rest.substr(colon + 1), text);
    if (c.quantile <= 0 || c.quantile > 1) throw bad("the quantile must be in (0, 1]");
  } else if (text.rfind("plateau:", 0) == 0) {
    c.kind = StopCriterion::Kind::plateau;
    c.value = parse_number(text.substr(8), text);
    if (!(c.value >= 1) || c.value != std::floor(c.value) || c.value > 1e9)
      throw bad("N must be a whole number of epochs, at least 1");
  } else {
    throw bad("unknown criterion");
  }
  return c;
}

double StopCriterion::loss_bound(double initial_loss) const {
  switch (kind) {
    case Kind::loss:
    case Kind::mse:
      return value;
    case Kind::loss_relative:
      return value * initial_loss;
    case Kind::psnr:
      return mse_at_psnr(value, range);
    case Kind::margin:
    case Kind::train_error:
    case Kind::plateau:
      break;
  }
  IS_CHECK(false, "loss_bound of a criterion that counts examples");
  return NAN;
}

Pretrain parse_pretrain(const std::string& name) {
  if (name == "none") return Pretrain::none;
  if (name == "random-labels") return Pretrain::random_labels;
  if (name == "noise-targets") return Pretrain::noise_targets;
  if (name == "noise-inputs") return Pretrain::noise_inputs;
  throw Error(fmt::format(
      "--pretrain {}: expected none, random-labels, noise-targets or noise-inputs", name));
}

std::string to_string(Pretrain p) {
  switch (p) {
    case Pretrain::none:
      return "none";
    case Pretrain::random_labels:
      return "random-labels";
    case Pretrain::noise_targets:
      return "noise-targets";
    case Pretrain::noise_inputs:
      return "noise-inputs";
  }
  return "?";
}

bool is_regression_task(const std::string& dataset) {
  return dataset == "signal1d" || dataset.rfind("image:", 0) == 0;
}

TrainEval parse_train_eval(const std::string& name) {
  if (name == "early") return TrainEval::early;
  if (name == "full") return TrainEval::full;
  throw Error(fmt::format("--train-eval {}: expected early or full", name));
}

std::string to_string(TrainEval e) {
  switch (e) {
    case TrainEval::early:
      return "early";
    case TrainEval::full:
      return "full";
  }
  return "?";
}

SubsetMode parse_subset(const std::string& name) {
  if (name == "random") return SubsetMode::random;
  if (name == "stratified") return SubsetMode::stratified;
  if (name == "first") return SubsetMode::first;
  throw Error(fmt::format("--subset {}: expected random, stratified or first", name));
}

std::string to_string(SubsetMode s) {
  switch (s) {
    case SubsetMode::random:
      return "random";
    case SubsetMode::stratified:
      return "stratified";
    case SubsetMode::first:
      return "first";
  }
  return "?";
}

LabelMode parse_labels(const std::string& name) {
  if (name == "given") return LabelMode::given;
  if (name == "random-pm1") return LabelMode::random_pm1;
  throw Error(fmt::format("--labels {}: expected given or random-pm1", name));
}

std::string to_string(LabelMode l) {
  switch (l) {
    case LabelMode::given:
      return "given";
    case LabelMode::random_pm1:
      return "random-pm1";
  }
  return "?";
}

bool is_binary_task(const TrainConfig& c) {
  return c.classes.size() == 2 || c.labels == LabelMode::random_pm1;
}

std::string OptionSpec::flag() const {
  return dashed(name);
}

const std::vector<OptionSpec>& run_options() {
  return make_options();
}

const OptionSpec* find_option(const std::string& name) {
  for (const auto& s : run_options())
    if (s.name == name) return &s;
  return nullptr;
}

nlohmann::json to_json(const TrainConfig& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& s : run_options()) j[s.name] = s.get(c);
  return j;
}

TrainConfig config_from_json(const nlohmann::json& j, const std::string& where) {
  const std::string at = where.empty() ? "" : where + ": ";
  if (!j.is_object()) throw Error(fmt::format("{}expected a table of run options", at));
  TrainConfig c;
  try {
    for (const auto& [key, value] : j.items()) {
      const OptionSpec* s = find_option(key);
      if (!s) {
        std::string names;
        for (const auto& o : run_options()) names += (names.empty() ? "" : ", ") + o.name;
        throw Error(fmt::format("unknown option '{}' (known: {})", key, names));
      }
      s->set(c, value);
    }
    finish_config(c, j.contains("loss"));
  } catch (const Error& e) {
    throw Error(at + e.what());
  }
  return c;
}

void finish_config(TrainConfig& c, bool loss_given) {
  // A regression task's loss is the mean squared error: when none is given it is chosen
  // here, where an absent key can still be told from a written `ce` (refused below).
  if (is_regression_task(c.dataset) && !loss_given) c.loss = Loss::mse;
  validate_combinations(c);
}

nlohmann::json option_value_from_text(const OptionSpec& spec, const std::string& text) {
  const auto whole = [&](const std::string& s) -> nlohmann::json {
    errno = 0;
    char* end = nullptr;
    if (!s.empty() && s[0] != '-') {
      const unsigned long long u = std::strtoull(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size() && errno == 0)
        return nlohmann::json(static_cast<uint64_t>(u));
    } else {
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size() && errno == 0)
        return nlohmann::json(static_cast<int64_t>(v));
    }
    throw Error(fmt::format("{} {}: '{}' is not a whole number", spec.flag(), text, s));
  };
  switch (spec.kind) {
    case OptionKind::integer:
      return whole(text);
    case OptionKind::real: {
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || errno != 0)
        throw Error(fmt::format("{} {}: expected a number", spec.flag(), text));
      return v;
    }
    case OptionKind::flag:
      return true;
    case OptionKind::on_off:
      if (text == "on") return true;
      if (text == "off") return false;
      throw Error(fmt::format("{} {}: expected on or off", spec.flag(), text));
    case OptionKind::text:
    case OptionKind::choice:
      return text;
    case OptionKind::int_list: {
      nlohmann::json out = nlohmann::json::array();
      std::stringstream ss(text);
      std::string item;
      while (std::getline(ss, item, ',')) {
        try {
          out.push_back(whole(item));
        } catch (const Error&) {
          throw Error(fmt::format("{} {}: '{}' is not a class number (expected e.g. 0,1)",
                                  spec.flag(), text, item));
        }
      }
      return out;
    }
    case OptionKind::real_list: {
      nlohmann::json out = nlohmann::json::array();
      std::stringstream ss(text);
      std::string item;
      while (std::getline(ss, item, ',')) {
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || end != item.c_str() + item.size() || errno != 0)
          throw Error(fmt::format("{} {}: '{}' is not a number (expected e.g. 1,2,3)", spec.flag(),
                                  text, item));
        out.push_back(v);
      }
      return out;
    }
    case OptionKind::text_list:
      return nlohmann::json::array({text});
  }
  return text;
}

void validate(const TrainConfig& c) {
  TrainConfig copy;
  for (const auto& s : run_options()) s.set(copy, s.get(c));
  validate_combinations(c);
}

nlohmann::json identity_json(const TrainConfig& c, const std::vector<OptionSpec>& options) {
  static const TrainConfig defaults;
  // The defaults' values of the run options, made once: a sweep's dry run hashes 10^6 configs.
  static const std::vector<nlohmann::json> default_values = [] {
    std::vector<nlohmann::json> v;
    for (const auto& s : run_options()) v.push_back(s.get(defaults));
    return v;
  }();
  const bool cached = &options == &run_options();
  nlohmann::json j = nlohmann::json::object();
  j["schema"] = k_config_schema;
  for (size_t i = 0; i < options.size(); ++i) {
    const OptionSpec& s = options[i];
    if (s.role == OptionRole::execution) continue;
    nlohmann::json v = s.get(c);
    if (cached ? v != default_values[i] : v != s.get(defaults)) j[s.name] = std::move(v);
  }
  return j;
}

std::string config_hash(const TrainConfig& c, const std::vector<OptionSpec>& options) {
  return fmt::format("{:016x}", fnv1a(identity_json(c, options).dump()));  // keys sorted
}

std::string config_hash_of_stored(const nlohmann::json& stored) {
  try {
    return config_hash(config_from_json(stored));
  } catch (const Error&) {
    return "";
  }
}

nlohmann::json normalized_config(const nlohmann::json& stored) {
  try {
    return to_json(config_from_json(stored));
  } catch (const Error&) {
    return stored;
  }
}

nlohmann::json key_of_options(const nlohmann::json& stored,
                              const std::function<bool(const OptionSpec&)>& pick) {
  static const TrainConfig defaults;
  const nlohmann::json j = normalized_config(stored);
  nlohmann::json key = nlohmann::json::object();
  for (const auto& spec : run_options()) {
    if (!pick(spec) || !j.contains(spec.name)) continue;
    const nlohmann::json& v = j[spec.name];
    if (spec.keyed_at_default || v != spec.get(defaults)) key[spec.name] = v;
  }
  return key;
}

std::string options_markdown() {
  static const TrainConfig defaults;
  std::string out = "| option | default | meaning |\n|---|---|---|\n";
  for (const auto& s : run_options()) {
    const nlohmann::json d = s.get(defaults);
    std::string def;
    switch (s.kind) {
      case OptionKind::flag:
        def = "off";
        break;
      case OptionKind::on_off:
        def = d.get<bool>() ? "on" : "off";
        break;
      case OptionKind::int_list:
      case OptionKind::real_list:
      case OptionKind::text_list:
        def = d.empty() ? "" : d.dump();
        break;
      case OptionKind::text:
      case OptionKind::choice:
        def = d.get<std::string>();
        break;
      case OptionKind::integer:
      case OptionKind::real:
        def = d.dump();
        break;
    }
    const std::string role = s.role == OptionRole::execution ? " (does not change the result)" : "";
    out += fmt::format("| `{}` | {} | {}{} |\n", s.flag(), def.empty() ? "" : "`" + def + "`",
                       s.doc, role);
  }
  return out;
}

}  // namespace initscope
