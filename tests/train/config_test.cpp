// Parsing and validation of run options: every bad value names its flag.
#include <gtest/gtest.h>

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
}

TEST(Stop, RejectsMalformed) {
  for (const char* bad : {"margin:abc", "margin:10", "margin:10:1.5", "loss<=x", "loss<=-1",
                          "acc>=0.9", "train_error<=2", "loss<=", "margin:10:0.9x"}) {
    const std::string msg = error_of([&] { parse_stop(bad); });
    EXPECT_NE(msg.find("--stop"), std::string::npos) << bad << ": " << msg;
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  }
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
  check([](TrainConfig& c) { c.loss = "hinge"; }, "--loss");
  check([](TrainConfig& c) { c.init = "glorot"; }, "--init");
  check([](TrainConfig& c) { c.subset = "best"; }, "--subset");
  check([](TrainConfig& c) { c.classes = {0, 1}; }, "--loss");  // ce on a binary task
  check([](TrainConfig& c) { c.max_steps = -2; }, "--max-steps");
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

}  // namespace
}  // namespace initscope
