// Parsing and validation of run options: every bad value names its flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "common/error.hpp"
#include "train/config.hpp"

namespace initscope {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Stop, ParsesEveryForm) {
  auto s = parse_stop("margin:10:0.99");
  EXPECT_EQ(s.kind, StopCriterion::Kind::margin);
  EXPECT_EQ(s.value, 10);
  EXPECT_EQ(s.quantile, 0.99);
  s = parse_stop("loss<=0.001");
  EXPECT_EQ(s.kind, StopCriterion::Kind::loss);
  EXPECT_EQ(s.value, 0.001);
  s = parse_stop("loss<=0.1*initial");
  EXPECT_EQ(s.kind, StopCriterion::Kind::loss_relative);
  EXPECT_EQ(s.value, 0.1);
  s = parse_stop("train_error<=0.01");
  EXPECT_EQ(s.kind, StopCriterion::Kind::train_error);
  s = parse_stop("plateau:30");
  EXPECT_EQ(s.kind, StopCriterion::Kind::plateau);
  EXPECT_EQ(s.value, 30);
  EXPECT_FALSE(s.on_loss());
}

TEST(Stop, RejectsMalformed) {
  for (const char* bad : {"margin:abc", "margin:10", "margin:10:1.5", "loss<=x", "loss<=-1",
                          "acc>=0.9", "train_error<=2", "loss<=", "margin:10:0.9x", "plateau:0",
                          "plateau:2.5", "plateau:", "plateau:-3"}) {
    const std::string msg = error_of([&] { parse_stop(bad); });
    EXPECT_NE(msg.find("--stop"), std::string::npos) << bad << ": " << msg;
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  }
}

// Reliability B14: a criterion's numbers are plain decimals. strtod alone read "loss<=0x10" as
// 16 and skipped leading spaces, so odd spellings ran (as configs of their own); an underflow
// was "not a number".
TEST(Stop, NumbersArePlainDecimals) {
  for (const char* bad :
       {"loss<=0x10", "loss<= 0.5", "loss<=0.5 ", "loss<=inf", "loss<=nan", "loss<=1e", "loss<=.",
        "loss<=1e999", "margin:0x1:0.5", "train_error<=+-0"}) {
    const std::string msg = error_of([&] { parse_stop(bad); });
    EXPECT_NE(msg.find(std::string("--stop ") + bad + ":"), std::string::npos)
        << bad << ": " << msg;
  }
  EXPECT_EQ(parse_stop("train_error<=1e-400").value, 0.0);
  EXPECT_EQ(parse_stop("loss<=.5").value, 0.5);
  EXPECT_EQ(parse_stop("loss<=5.").value, 5.0);
  EXPECT_EQ(parse_stop("loss<=+1E-3").value, 1e-3);
  EXPECT_EQ(parse_stop("psnr>=-3").value, -3.0);
}

TEST(Config, ValidationNamesTheFlag) {
  const auto check = [](auto mutate, const char* flag) {
    TrainConfig c;
    mutate(c);
    const std::string msg = error_of([&] { validate(c); });
    EXPECT_NE(msg.find(flag), std::string::npos) << flag << ": '" << msg << "'";
  };
  check([](TrainConfig& c) { c.width = -5; }, "--width");
  check([](TrainConfig& c) { c.depth = 0; }, "--depth");
  check([](TrainConfig& c) { c.noise = 1.5; }, "--noise");
  check([](TrainConfig& c) { c.lr = 0; }, "--lr");
  check([](TrainConfig& c) { c.momentum = 1.0; }, "--momentum");
  check([](TrainConfig& c) { c.batch = 0; }, "--batch");
  check([](TrainConfig& c) { c.init = static_cast<InitScheme>(99); }, "--init");
  check([](TrainConfig& c) { c.subset = static_cast<SubsetMode>(99); }, "--subset");
  check([](TrainConfig& c) { c.classes = {0, 1}; }, "--loss");  // ce on a binary task
  check([](TrainConfig& c) { c.max_steps = -2; }, "--max-steps");
  // The RM23 model options: their own ranges, and each one only with what uses it.
  check([](TrainConfig& c) { c.omega0 = 0; }, "--omega0 0.0: must be positive");
  check([](TrainConfig& c) { c.omega0 = 10; }, "--omega0 10: only --activation sine");
  check([](TrainConfig& c) { c.omega0_hidden = 10; }, "--omega0-hidden 10: needs");
  check([](TrainConfig& c) { c.gauss_width = -1; }, "--gauss-width -1.0: must be positive");
  check([](TrainConfig& c) { c.gauss_width = 0.2; },
        "--gauss-width 0.2: only --activation gaussian");
  check([](TrainConfig& c) { c.init_gain_first = -1; }, "--init-gain-first");
  check(
      [](TrainConfig& c) {
        c.encoding = EncodingKind::fourier;
        c.fourier_features = 0;
      },
      "--fourier-features 0: must be at least 1");
  check([](TrainConfig& c) { c.fourier_features = 64; },
        "--fourier-features 64: needs --encoding fourier");
  check([](TrainConfig& c) { c.fourier_sigma = 1; }, "--fourier-sigma 1: needs --encoding fourier");
  check([](TrainConfig& c) { c.pe_levels = 4; }, "--pe-levels 4: needs --encoding positional");
  check(
      [](TrainConfig& c) {
        c.encoding = EncodingKind::positional;
        c.pe_levels = 0;
      },
      "--pe-levels 0");
  for (const auto& good : std::vector<std::function<void(TrainConfig&)>>{
           [](TrainConfig& c) {
             c.activation = Activation::sine;
             c.omega0 = 10;
             c.omega0_hidden = 5;
           },
           [](TrainConfig& c) {  // the siren init's ω₀ on another activation
             c.init = InitScheme::siren;
             c.omega0_hidden = 5;
           },
           [](TrainConfig& c) {
             c.activation = Activation::gaussian;
             c.gauss_width = 0.2;
           },
           [](TrainConfig& c) {  // allowed: SIREN's activation with another init
             c.activation = Activation::sine;
             c.init = InitScheme::xavier_normal;
           },
           [](TrainConfig& c) {
             c.encoding = EncodingKind::fourier;
             c.fourier_features = 16;
             c.fourier_sigma = 1;
           }}) {
    TrainConfig c;
    good(c);
    EXPECT_NO_THROW(validate(c));
  }
  TrainConfig ok;
  EXPECT_NO_THROW(validate(ok));
}

TEST(Config, JsonRoundTripAndUnknownKeys) {
  TrainConfig c;
  c.width = 1024;
  c.stop = {"margin:10:0.99"};
  c.seed = 18446744073709551615ULL;
  const TrainConfig back = config_from_json(to_json(c));
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(config_hash(back), config_hash(c));
  const std::string msg = error_of([] { config_from_json({{"widht", 5}}, "sweep.toml line 3"); });
  EXPECT_NE(msg.find("sweep.toml line 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("widht"), std::string::npos) << msg;
  EXPECT_NE(error_of([] {
              config_from_json({{"width", "wide"}});
            }).find("width"),
            std::string::npos);
  EXPECT_NE(error_of([] { config_from_json({{"width", 1.5}}); }).find("width"), std::string::npos);
}

TEST(Config, HashIgnoresThreadsButNotResults) {
  TrainConfig a, b;
  b.threads = 2;
  EXPECT_EQ(config_hash(a), config_hash(b));
  b.width = 512;
  EXPECT_NE(config_hash(a), config_hash(b));
  EXPECT_EQ(config_hash(a).size(), 16u);
}

// What an absent key means is part of every stored run's identity: changing a default needs a
// k_config_schema bump (and then this pin), never a quiet edit.
TEST(Config, DefaultsArePinnedToTheSchema) {
  EXPECT_EQ(k_config_schema, 2);
  EXPECT_EQ(
      to_json(TrainConfig{}).dump(),
      R"({"activation":"relu","batch":64,"beta1":0.9,"beta2":0.999,"classes":[],)"
      R"("dataset":"mnist","depth":5,"encoding":"none","eps":1e-08,)"
      R"("flatness":"","flatness_rows":4096,)"
      R"("fourier_features":256,"fourier_sigma":10.0,"gauss_width":1.0,)"
      R"("image_size":256,"init":"xavier_normal","init_from":"","init_gain":1.0,"init_gain_first":0.0,)"
      R"("labels":"given","line_cutoff":0.0,"line_mode":"pairs","line_points":256,)"
      R"("line_segments":0,"loss":"ce","lr":0.01,"m":0,"max_epochs":1000,"max_steps":-1,)"
      R"("measure_every":0,"mechanism":false,"momentum":0.9,"noise":0.0,"omega0":30.0,)"
      R"("omega0_hidden":30.0,"optimizer":"sgd","pe_levels":10,)"
      R"("pretrain":"none","pretrain_stop":[],"rademacher_draws":20,)"
      R"("rademacher_radius":0.0,"seed":1,"shuffle":true,)"
      R"("signal_amps":[],"signal_freqs":[1.0,2.0,3.0],"signal_grid":false,)"
      R"("standardize":false,"stop":[],"subset":"random","target_noise":0.0,)"
      R"("test_grid":2048,"threads":1,"train_eval":"early","train_stride":2,"width":256})");
  EXPECT_EQ(identity_json(TrainConfig{}).dump(), R"({"schema":2})");
}

// RM23's optional measures: line spectra only for classifiers and their options only with
// --line-segments; --mechanism only on signal1d; at their defaults out of the run's identity.
TEST(Config, LineSpectrumAndMechanismOptions) {
  const auto msg = [](const char* text) {
    return error_of([&] { config_from_json(nlohmann::json::parse(text)); });
  };
  EXPECT_EQ(msg(R"({"line_segments": 200, "line_cutoff": 2.5, "line_mode": "directions"})"), "");
  EXPECT_NE(msg(R"({"dataset": "signal1d", "line_segments": 10})").find("--line-segments 10"),
            std::string::npos);
  EXPECT_NE(msg(R"({"line_points": 128})").find("--line-points 128: needs --line-segments"),
            std::string::npos);
  EXPECT_NE(msg(R"({"line_segments": 5, "line_mode": "grid"})").find("--line-mode"),
            std::string::npos);
  EXPECT_NE(msg(R"({"mechanism": true})").find("--mechanism"), std::string::npos);
  EXPECT_EQ(msg(R"({"dataset": "signal1d", "mechanism": true})"), "");
  TrainConfig c;
  const std::string plain = config_hash(c);
  c.line_points = 256;
  EXPECT_EQ(config_hash(c), plain);
  c.line_segments = 200;
  EXPECT_NE(config_hash(c), plain);
}

// --flatness: each bad name and the refused combination name the flag; at their defaults the
// flatness options stay out of the run's identity, and when given they enter it (as axes).
TEST(Config, FlatnessOptions) {
  const auto msg = [](const char* text) {
    return error_of([&] { config_from_json(nlohmann::json::parse(text)); });
  };
  EXPECT_EQ(msg(R"({"flatness": "lambda_max,trace,sharpness,pacbayes"})"), "");
  EXPECT_NE(msg(R"({"flatness": "lambda_max,curvature"})")
                .find("--flatness lambda_max,curvature: unknown measure 'curvature'"),
            std::string::npos);
  EXPECT_NE(msg(R"({"flatness_rows": -1})").find("--flatness-rows -1"), std::string::npos);
  EXPECT_NE(msg(R"({"dataset": "signal1d", "flatness": "trace,pacbayes"})")
                .find("--flatness trace,pacbayes: pacbayes needs a classification task"),
            std::string::npos);
  EXPECT_EQ(msg(R"({"dataset": "signal1d", "flatness": "lambda_max,trace"})"), "");
  TrainConfig c;
  const std::string plain = config_hash(c);
  c.flatness_rows = 4096;
  EXPECT_EQ(config_hash(c), plain);
  c.flatness = "trace";
  EXPECT_NE(config_hash(c), plain);
}

// The optimizer's options: each range check, and the combinations that are refused rather
// than ignored, each naming the flag at fault.
TEST(Config, OptimizerOptionsAndTheirCombinations) {
  const auto msg = [](const char* text) {
    return error_of([&] { config_from_json(nlohmann::json::parse(text)); });
  };
  const auto names = [&](const char* text, const char* flag) {
    const std::string m = msg(text);
    EXPECT_NE(m.find(flag), std::string::npos) << text << ": '" << m << "'";
    return m;
  };
  names(R"({"optimizer": "rmsprop"})", "--optimizer rmsprop");
  names(R"({"optimizer": "adam", "beta1": 1})", "--beta1 1: expected a value in [0, 1)");
  names(R"({"optimizer": "adam", "beta2": -0.1})", "--beta2 -0.1");
  names(R"({"optimizer": "adam", "eps": 0})", "--eps 0: must be positive");
  names(R"({"beta1": 0.8})", "--beta1: an Adam option needs --optimizer adam");
  names(R"({"optimizer": "gd", "eps": 1e-6})", "--eps: an Adam option needs --optimizer adam");
  names(R"({"optimizer": "gd", "batch": 128})", "--batch 128: --optimizer gd");
  names(R"({"optimizer": "adam", "momentum": 0.5})", "--momentum: --optimizer adam");
  // What is allowed: Adam with its options, gd with momentum, sgd as before.
  EXPECT_EQ(msg(R"({"optimizer": "adam", "beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "lr": 1e-3})"),
            "");
  EXPECT_EQ(msg(R"({"optimizer": "gd", "momentum": 0})"), "");
  EXPECT_EQ(msg(R"({"optimizer": "sgd", "momentum": 0.5, "batch": 32})"), "");
  TrainConfig c;
  c.optimizer = Optimizer::adam;
  c.beta1 = 0.5;
  EXPECT_EQ(identity_json(c).dump(), R"({"beta1":0.5,"optimizer":"adam","schema":2})");
}

TEST(Config, IdentityHasOnlyWhatDiffersFromTheDefaults) {
  TrainConfig c;
  c.width = 1024;
  c.threads = 2;                   // execution: never in the identity
  c.train_eval = TrainEval::full;  // likewise
  c.lr = 0.01;                     // the default: left out
  EXPECT_EQ(identity_json(c).dump(), R"({"schema":2,"width":1024})");
  TrainConfig d;
  d.width = 1024;
  EXPECT_EQ(config_hash(c), config_hash(d));
}

// --labels random-pm1: a binary task (one output) of every image; it refuses --noise (every
// label is random already) and --loss ce, and enters the identity only when set.
TEST(Config, RandomPm1Labels) {
  const auto msg = [](const char* text) {
    return error_of([&] { config_from_json(nlohmann::json::parse(text)); });
  };
  TrainConfig c =
      config_from_json(nlohmann::json::parse(R"({"labels": "random-pm1", "loss": "mse"})"));
  EXPECT_EQ(c.labels, LabelMode::random_pm1);
  EXPECT_TRUE(is_binary_task(c));
  EXPECT_FALSE(is_binary_task(TrainConfig{}));
  EXPECT_EQ(identity_json(c).dump(), R"({"labels":"random-pm1","loss":"mse","schema":2})");
  EXPECT_NE(msg(R"({"labels": "random"})").find("--labels random: expected given or random-pm1"),
            std::string::npos);
  EXPECT_NE(msg(R"({"labels": "random-pm1", "loss": "ce"})").find("--loss ce"), std::string::npos);
  EXPECT_NE(msg(R"({"labels": "random-pm1", "loss": "mse", "noise": 0.5})").find("--noise 0.5"),
            std::string::npos);
  EXPECT_EQ(msg(R"({"labels": "random-pm1", "loss": "logistic"})"), "");
  EXPECT_EQ(msg(R"({"labels": "given", "classes": [0, 1], "loss": "mse", "noise": 0.5})"), "");
}

// Theorem 5.1's estimate is asked for by --rademacher-radius, only on linear networks with one
// output; --rademacher-draws needs it.
TEST(Config, RademacherOptions) {
  const auto msg = [](const char* text) {
    return error_of([&] { config_from_json(nlohmann::json::parse(text)); });
  };
  EXPECT_EQ(msg(R"({"activation": "linear", "labels": "random-pm1", "loss": "mse",
                    "rademacher_radius": 1.0, "rademacher_draws": 50})"),
            "");
  EXPECT_NE(msg(R"({"labels": "random-pm1", "loss": "mse", "rademacher_radius": 1.0})")
                .find("--rademacher-radius 1: Theorem 5.1's estimate needs --activation linear"),
            std::string::npos);
  EXPECT_NE(msg(R"({"activation": "linear", "rademacher_radius": 1.0})").find("one output"),
            std::string::npos);
  EXPECT_NE(msg(R"({"rademacher_draws": 50})").find("--rademacher-draws 50: needs"),
            std::string::npos);
  EXPECT_NE(msg(R"({"rademacher_radius": -1})").find("--rademacher-radius -1"), std::string::npos);
  EXPECT_NE(msg(R"({"rademacher_draws": 1})").find("--rademacher-draws 1"), std::string::npos);
}

TEST(Config, NumbersAreNeverNarrowed) {
  const auto msg = [](const char* text) {
    return error_of([&] { config_from_json(nlohmann::json::parse(text), "f.toml line 2"); });
  };
  EXPECT_NE(msg(R"({"depth": 4294967301})").find("--depth 4294967301"), std::string::npos);
  EXPECT_NE(msg(R"({"seed": -1})").find("--seed -1"), std::string::npos);
  EXPECT_NE(msg(R"({"width": 1.5})").find("--width 1.5: expected a whole number"),
            std::string::npos);
  EXPECT_NE(msg(R"({"lr": "fast"})").find("--lr \"fast\": expected a number"), std::string::npos);
  EXPECT_NE(msg(R"({"classes": [0, -3]})").find("--classes"), std::string::npos);
  EXPECT_NE(msg(R"({"shuffle": 1})").find("--shuffle 1: expected true or false"),
            std::string::npos);
  EXPECT_NE(msg(R"({"dataset": "imagenet"})").find("--dataset imagenet"), std::string::npos);
  EXPECT_EQ(msg(R"({"seed": 18446744073709551615, "depth": 64, "m": 0})"), "");
}

TEST(Config, EveryOptionRoundTripsThroughItsText) {
  // The CLI path: text → JSON by the option's kind → config_from_json, for one value each.
  const std::map<std::string, std::string> texts = {
      {"dataset", "fashion-mnist"},
      {"m", "1024"},
      {"subset", "stratified"},
      {"classes", "3,8"},
      {"noise", "0.25"},
      {"labels", "given"},  // default: random-pm1 refuses --noise (tested above)
      {"standardize", ""},
      {"depth", "3"},
      {"width", "64"},
      {"activation", "sine"},
      {"init", "siren"},
      {"init_gain", "0.5"},
      {"omega0", "20"},
      {"omega0_hidden", "25"},
      {"gauss_width", "1"},  // default: not gaussian
      {"init_gain_first", "2"},
      {"encoding", "fourier"},
      {"fourier_features", "64"},
      {"fourier_sigma", "3"},
      {"pe_levels", "10"},  // default: not positional
      {"init_from", "w.safetensors"},
      {"loss", "mse"},
      {"lr", "0.1"},
      {"optimizer", "adam"},
      {"beta1", "0.5"},
      {"beta2", "0.99"},
      {"eps", "1e-06"},
      {"momentum", "0.9"},  // adam refuses another momentum; sgd's values are tested above
      {"batch", "32"},
      {"shuffle", "off"},
      {"stop", "loss<=0.01"},
      {"max_epochs", "7"},
      {"max_steps", "0"},
      {"measure_every", "2"},
      {"rademacher_radius", "0"},  // default: the estimate needs a linear network
      {"rademacher_draws", "20"},
      {"flatness", "lambda_max,pacbayes"},
      {"flatness_rows", "512"},
      {"line_segments", "100"},
      {"line_points", "128"},
      {"line_cutoff", "0.5"},
      {"line_mode", "directions"},
      {"seed", "18446744073709551615"},
      {"threads", "2"},
      {"train_eval", "full"}};
  // The options of regression tasks and pretraining, each with the task it needs
  // (RegressionOptionsRoundTrip below; --mechanism in LineSpectrumAndMechanismOptions); here
  // absent.
  const std::set<std::string> elsewhere = {
      "signal_freqs", "signal_amps",  "signal_grid", "test_grid",     "target_noise",
      "image_size",   "train_stride", "pretrain",    "pretrain_stop", "mechanism"};
  nlohmann::json j = nlohmann::json::object();
  for (const auto& spec : run_options()) {
    if (elsewhere.count(spec.name)) continue;
    ASSERT_TRUE(texts.count(spec.name)) << spec.name << " has no test value";
    j[spec.name] = option_value_from_text(spec, texts.at(spec.name));
  }
  const TrainConfig c = config_from_json(j);
  nlohmann::json all = to_json(c);
  for (const auto& name : elsewhere) all.erase(name);
  EXPECT_EQ(all, j);
  EXPECT_EQ(c.classes, (std::vector<int>{3, 8}));
  EXPECT_EQ(c.subset, SubsetMode::stratified);
  EXPECT_FALSE(c.shuffle);
  EXPECT_TRUE(c.standardize);
  EXPECT_EQ(c.seed, 18446744073709551615ULL);
  for (const auto& spec : run_options()) {
    TrainConfig d;
    EXPECT_NO_THROW(spec.set(d, spec.get(c))) << spec.name;
    EXPECT_EQ(spec.get(d), spec.get(c)) << spec.name;
  }
  EXPECT_NE(
      error_of([] { option_value_from_text(*find_option("width"), "12x"); }).find("--width 12x"),
      std::string::npos);
  EXPECT_NE(error_of([] {
              option_value_from_text(*find_option("shuffle"), "yes");
            }).find("--shuffle yes: expected on or off"),
            std::string::npos);
}

TEST(Config, RegressionOptionsRoundTripThroughTheirText) {
  const auto parse = [](const std::map<std::string, std::string>& texts) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, text] : texts)
      j[name] = option_value_from_text(*find_option(name), text);
    const TrainConfig c = config_from_json(j);
    EXPECT_EQ(to_json(c)["loss"], "mse");  // chosen for a regression task when not given
    j["loss"] = "mse";
    EXPECT_EQ(to_json(c).dump(), [&] {
      nlohmann::json all = to_json(TrainConfig{});
      for (auto& [k, v] : j.items()) all[k] = v;
      return all.dump();
    }());
    return c;
  };
  const TrainConfig s = parse({{"dataset", "signal1d"},
                               {"signal_freqs", "1,2.5"},
                               {"signal_amps", "1,0.5"},
                               {"signal_grid", ""},
                               {"test_grid", "512"},
                               {"target_noise", "0.1"},
                               {"pretrain", "noise-targets"},
                               {"pretrain_stop", "mse<=0.001"}});
  EXPECT_EQ(s.signal_freqs, (std::vector<double>{1, 2.5}));
  EXPECT_TRUE(s.signal_grid);
  EXPECT_EQ(s.pretrain, Pretrain::noise_targets);
  const TrainConfig i = parse({{"dataset", "image:camera"},
                               {"image_size", "64"},
                               {"train_stride", "4"},
                               {"stop", "psnr>=30"}});
  EXPECT_EQ(i.image_size, 64);
  EXPECT_EQ(i.train_stride, 4);
  EXPECT_EQ(parse({{"dataset", "image:/tmp/my image.png"}}).dataset, "image:/tmp/my image.png");
}

// Every bad combination of a task's options: one message naming the flag and what it needs.
TEST(Config, RegressionTasksRefuseWhatTheyCannotTake) {
  const auto refused = [](const nlohmann::json& j, std::initializer_list<std::string> pieces) {
    const std::string e = error_of([&] { config_from_json(j); });
    EXPECT_FALSE(e.empty()) << j.dump();
    for (const auto& p : pieces) EXPECT_NE(e.find(p), std::string::npos) << e << " ∌ " << p;
  };
  refused({{"signal_freqs", {1, 2}}}, {"--signal-freqs 1,2", "needs --dataset signal1d"});
  refused({{"dataset", "mnist"}, {"image_size", 64}}, {"--image-size 64", "image:NAME"});
  refused({{"dataset", "signal1d"}, {"train_stride", 4}}, {"--train-stride 4", "image:NAME"});
  refused({{"target_noise", 0.1}}, {"--target-noise", "regression task"});
  refused({{"dataset", "signal1d"}, {"loss", "ce"}}, {"--loss ce", "--loss mse"});
  refused({{"dataset", "signal1d"}, {"classes", {0, 1}}}, {"--classes", "no classes"});
  refused({{"dataset", "signal1d"}, {"noise", 0.1}}, {"--noise 0.1", "--target-noise"});
  refused({{"dataset", "signal1d"}, {"subset", "stratified"}}, {"--subset stratified"});
  refused({{"dataset", "signal1d"}, {"signal_freqs", nlohmann::json::array()}},
          {"--signal-freqs", "at least one"});
  refused({{"dataset", "signal1d"}, {"signal_amps", {1, 2}}},
          {"--signal-amps 1,2", "2 amplitudes for 3 frequencies"});
  refused({{"dataset", "image:camera"}, {"image_size", 8}, {"train_stride", 8}},
          {"--train-stride 8", "not smaller than the 8-pixel image"});
  refused({{"dataset", "signal1d"}, {"stop", "psnr>=30"}}, {"psnr>=30", "image task"});
  refused({{"stop", "mse<=0.1"}}, {"--stop mse<=0.1", "regression task"});
  refused({{"dataset", "image:camera"}, {"stop", "margin:1:0.9"}},
          {"--stop margin:1:0.9", "mse<=X or psnr>=X"});
  refused({{"dataset", "signal1d"}, {"pretrain", "noise-targets"}}, {"--pretrain-stop"});
  refused({{"pretrain_stop", "loss<=1"}}, {"--pretrain-stop loss<=1", "needs --pretrain"});
  refused({{"dataset", "signal1d"}, {"pretrain", "random-labels"}, {"pretrain_stop", "mse<=1"}},
          {"--pretrain random-labels", "noise-targets"});
  refused({{"pretrain", "noise-targets"}, {"pretrain_stop", "loss<=1"}},
          {"--pretrain noise-targets", "random-labels"});
  refused({{"pretrain", "random-labels"}, {"pretrain_stop", "bogus"}},
          {"--pretrain-stop bogus", "unknown criterion"});
  refused({{"dataset", "image:"}}, {"--dataset image:", "unknown dataset"});
  refused({{"dataset", "signal2d"}}, {"--dataset signal2d", "signal1d"});
}

TEST(Config, StopCriteriaOnTheFit) {
  StopCriterion m = parse_stop("mse<=0.001");
  EXPECT_EQ(m.kind, StopCriterion::Kind::mse);
  EXPECT_TRUE(m.on_loss());
  EXPECT_EQ(m.loss_bound(NAN), 0.001);
  StopCriterion p = parse_stop("psnr>=30");
  p.range = 2.0;
  EXPECT_EQ(p.kind, StopCriterion::Kind::psnr);
  EXPECT_NEAR(p.loss_bound(NAN), 4e-3, 1e-15);  // 30 dB on [0, 1] pixels is an MSE of 1e-3
  EXPECT_FALSE(parse_stop("margin:1:0.5").on_loss());
  EXPECT_NE(error_of([] { parse_stop("mse<=-1"); }).find("non-negative"), std::string::npos);
  TrainConfig c;
  c.dataset = "signal1d";
  c.loss = Loss::mse;
  c.stop = {"plateau:10"};
  const std::string msg = error_of([&] { validate(c); });
  EXPECT_NE(msg.find("--stop plateau:10"), std::string::npos) << msg;
  EXPECT_NE(msg.find("regression"), std::string::npos) << msg;
}

// The README's option table is generated from the option table; this keeps them one.
TEST(Config, ReadmeOptionTableIsGenerated) {
  std::ifstream in(std::filesystem::path(INITSCOPE_TEST_DIR) / ".." / ".." / "README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  const std::string begin = "<!-- options:begin (initscope options --markdown) -->\n";
  const std::string end = "<!-- options:end -->";
  const auto b = readme.find(begin), e = readme.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(readme.substr(b + begin.size(), e - b - begin.size()), options_markdown())
      << "regenerate the README's table with: build/initscope options --markdown";
}

}  // namespace
}  // namespace initscope
