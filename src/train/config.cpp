// Parsing, validation and hashing of TrainConfig.
#include "train/config.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "common/error.hpp"
#include "model/mlp.hpp"
#include "objective/loss.hpp"

namespace initscope {

namespace {

double parse_number(const std::string& s, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v))
    throw Error(
        fmt::format("--stop {}: '{}' is not a number (expected e.g. loss<=0.01, "
                    "loss<=0.1*initial, margin:10:0.99 or train_error<=0)",
                    text, s));
  return v;
}

}  // namespace

StopCriterion parse_stop(const std::string& text) {
  StopCriterion c;
  c.text = text;
  const auto bad = [&](const std::string& why) {
    return Error(
        fmt::format("--stop {}: {} (expected loss<=X, loss<=F*initial, margin:G:Q or "
                    "train_error<=X)",
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
  } else if (text.rfind("margin:", 0) == 0) {
    const std::string rest = text.substr(7);
    const auto colon = rest.find(':');
    if (colon == std::string::npos) throw bad("margin needs a margin and a quantile");
    c.kind = StopCriterion::Kind::margin;
    c.value = parse_number(rest.substr(0, colon), text);
    c.quantile = parse_number(rest.substr(colon + 1), text);
    if (c.quantile <= 0 || c.quantile > 1) throw bad("the quantile must be in (0, 1]");
  } else {
    throw bad("unknown criterion");
  }
  return c;
}

nlohmann::json to_json(const TrainConfig& c) {
  return {{"dataset", c.dataset},
          {"m", c.m},
          {"subset", c.subset},
          {"classes", c.classes},
          {"noise", c.noise},
          {"standardize", c.standardize},
          {"depth", c.depth},
          {"width", c.width},
          {"activation", c.activation},
          {"init", c.init},
          {"init_gain", c.init_gain},
          {"init_from", c.init_from},
          {"loss", c.loss},
          {"lr", c.lr},
          {"momentum", c.momentum},
          {"batch", c.batch},
          {"shuffle", c.shuffle},
          {"stop", c.stop},
          {"max_epochs", c.max_epochs},
          {"max_steps", c.max_steps},
          {"measure_every", c.measure_every},
          {"seed", c.seed},
          {"threads", c.threads},
          {"train_eval", c.train_eval}};
}

TrainConfig config_from_json(const nlohmann::json& j, const std::string& where) {
  const std::string at = where.empty() ? "" : where + ": ";
  if (!j.is_object()) throw Error(fmt::format("{}expected a table of run options", at));
  TrainConfig c;
  const nlohmann::json defaults = to_json(c);
  for (const auto& [key, value] : j.items()) {
    if (!defaults.contains(key))
      throw Error(fmt::format("{}unknown option '{}' (known: {})", at, key, [&] {
        std::string names;
        for (const auto& [k, v] : defaults.items()) names += (names.empty() ? "" : ", ") + k;
        return names;
      }()));
    const auto& def = defaults[key];
    const bool ok = (def.is_number() && value.is_number() &&
                     (def.is_number_float() || value.is_number_integer())) ||
                    (def.is_string() && value.is_string()) ||
                    (def.is_boolean() && value.is_boolean()) ||
                    (def.is_array() && value.is_array());
    if (!ok)
      throw Error(
          fmt::format("{}option '{}' has value {} of the wrong type (expected a {} like {})", at,
                      key, value.dump(), def.type_name(), def.dump()));
  }
  const auto get = [&](const char* key, auto& field) {
    if (j.contains(key)) field = j[key].get<std::remove_reference_t<decltype(field)>>();
  };
  try {
    get("dataset", c.dataset);
    get("m", c.m);
    get("subset", c.subset);
    get("classes", c.classes);
    get("noise", c.noise);
    get("standardize", c.standardize);
    get("depth", c.depth);
    get("width", c.width);
    get("activation", c.activation);
    get("init", c.init);
    get("init_gain", c.init_gain);
    get("init_from", c.init_from);
    get("loss", c.loss);
    get("lr", c.lr);
    get("momentum", c.momentum);
    get("batch", c.batch);
    get("shuffle", c.shuffle);
    get("stop", c.stop);
    get("max_epochs", c.max_epochs);
    get("max_steps", c.max_steps);
    get("measure_every", c.measure_every);
    get("seed", c.seed);
    get("threads", c.threads);
    get("train_eval", c.train_eval);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}bad option value: {}", at, e.what()));
  }
  try {
    validate(c);
  } catch (const Error& e) {
    throw Error(at + e.what());
  }
  return c;
}

void validate(const TrainConfig& c) {
  const auto fail = [](const std::string& msg) { throw Error(msg); };
  if (c.m < 0) fail(fmt::format("--m {}: must be positive (or 0 for the whole training set)", c.m));
  if (c.subset != "random" && c.subset != "stratified" && c.subset != "first")
    fail(fmt::format("--subset {}: expected random, stratified or first", c.subset));
  if (!(c.noise >= 0.0 && c.noise <= 1.0))
    fail(fmt::format("--noise {}: must be a fraction in [0, 1]", c.noise));
  if (c.depth < 1 || c.depth > 64)
    fail(fmt::format("--depth {}: expected 1 to 64 weight layers", c.depth));
  if (c.width < 1 || c.width > (1 << 16))
    fail(fmt::format("--width {}: expected a width from 1 to 65536", c.width));
  parse_activation(c.activation);
  parse_init(c.init);
  if (!(c.init_gain > 0.0) || !std::isfinite(c.init_gain))
    fail(fmt::format("--init-gain {}: must be positive", c.init_gain));
  const Loss loss = parse_loss(c.loss);
  const bool binary = c.classes.size() == 2;
  if (binary && loss == Loss::ce)
    fail("--loss ce: a two-class task has one output with labels ±1; use --loss mse or logistic");
  if (!binary && loss == Loss::logistic)
    fail("--loss logistic: needs a binary task (--classes A,B)");
  if (c.classes.size() == 1) fail("--classes: give at least two classes, e.g. --classes 0,1");
  if (!(c.lr > 0.0) || !std::isfinite(c.lr)) fail(fmt::format("--lr {}: must be positive", c.lr));
  if (!(c.momentum >= 0.0 && c.momentum < 1.0))
    fail(fmt::format("--momentum {}: expected a value in [0, 1)", c.momentum));
  if (c.batch < 1) fail(fmt::format("--batch {}: must be at least 1", c.batch));
  for (const auto& s : c.stop) parse_stop(s);
  if (c.max_epochs < 0) fail(fmt::format("--max-epochs {}: must be ≥ 0", c.max_epochs));
  if (c.max_steps < -1)
    fail(fmt::format("--max-steps {}: expected -1 (no cap), 0 (no training) or a step count",
                     c.max_steps));
  if (c.measure_every < 0) fail(fmt::format("--measure-every {}: must be ≥ 0", c.measure_every));
  if (c.threads < 1 || c.threads > 256)
    fail(fmt::format("--threads {}: expected 1 to 256", c.threads));
  if (c.train_eval != "early" && c.train_eval != "full")
    fail(fmt::format("--train-eval {}: expected early or full", c.train_eval));
}

std::string config_hash(const TrainConfig& c) {
  nlohmann::json j = to_json(c);
  j.erase("threads");
  j.erase("train_eval");  // the same run either way: only the trajectory's detail differs
  const std::string text = j.dump();  // keys sorted: a canonical form
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ULL;
  return fmt::format("{:016x}", h);
}

}  // namespace initscope
