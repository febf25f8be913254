// Tests for .safetensors I/O (src/store/safetensors.hpp): bit-exact round trips, the exact
// header bytes we write, and one hand-made corrupt file per validation rule.
// Left out: reading files from other writers; the Python cross-check was done by hand once.
#include "store/safetensors.hpp"

#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace initscope {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "initscope_st_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ / "weights.safetensors";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  fs::path path_;
};

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes a file by hand: 8-byte length (the header's own unless `len` is given), header, data.
void write_raw(const fs::path& p, const std::string& header, const std::string& data,
               uint64_t len = std::numeric_limits<uint64_t>::max()) {
  if (len == std::numeric_limits<uint64_t>::max()) len = header.size();
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << header << data;
}

// Parses the JSON header of a file we wrote.
nlohmann::json read_header(const fs::path& p) {
  const std::string bytes = read_bytes(p);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  return nlohmann::json::parse(bytes.substr(8, len));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected initscope::Error";
  return {};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_F(SafetensorsTest, RoundTripsThreeTensorsAndMetadata) {
  std::vector<float> w(3 * 4), b(4), s(2 * 1 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * float(i) - 0.55f;
  b = {1.0f, -0.0f, std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max()};
  s = {std::nanf(""), std::numeric_limits<float>::infinity(), 1e-30f, -2.5f, 3.0f, 7.0f};
  const std::map<std::string, std::string> metadata = {{"seed", "18446744073709551615"},
                                                       {"format", "initscope"}};
  safetensors_write(
      path_, {{"layers.0.weight", {3, 4}, w}, {"layers.0.bias", {4}, b}, {"scale", {2, 1, 3}, s}},
      metadata);

  const auto back = safetensors_read(path_);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].name, "layers.0.weight");
  EXPECT_EQ(back[0].shape, (std::vector<int64_t>{3, 4}));
  EXPECT_TRUE(same_bits(back[0].data, w));
  EXPECT_EQ(back[1].name, "layers.0.bias");
  EXPECT_EQ(back[1].shape, (std::vector<int64_t>{4}));
  EXPECT_TRUE(same_bits(back[1].data, b));
  EXPECT_EQ(back[2].name, "scale");
  EXPECT_EQ(back[2].shape, (std::vector<int64_t>{2, 1, 3}));
  EXPECT_TRUE(same_bits(back[2].data, s));

  const nlohmann::json header = read_header(path_);
  EXPECT_EQ(header["__metadata__"], nlohmann::json(metadata));
  EXPECT_EQ(header["layers.0.weight"]["data_offsets"], nlohmann::json({0, 48}));
  EXPECT_EQ(header["layers.0.bias"]["data_offsets"], nlohmann::json({48, 64}));
  EXPECT_EQ(header["scale"]["data_offsets"], nlohmann::json({64, 88}));
}

TEST_F(SafetensorsTest, HeaderBytesAreExact) {
  const std::vector<float> a = {1.0f, 2.0f};
  safetensors_write(path_, {{"a", {2}, a}}, {{"k", "v"}});
  const std::string bytes = read_bytes(path_);

  const std::string json =
      R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const size_t padded = (json.size() + 7) / 8 * 8;
  ASSERT_EQ(bytes.size(), 8 + padded + 8);
  uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  EXPECT_EQ(len, padded);
  EXPECT_EQ(len % 8, 0u);
  EXPECT_EQ(bytes.substr(8, padded), json + std::string(padded - json.size(), ' '));
  const unsigned char data[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40};  // 1.0f, 2.0f
  EXPECT_EQ(std::memcmp(bytes.data() + 8 + padded, data, 8), 0);

  const nlohmann::json header = read_header(path_);
  EXPECT_EQ(header["a"]["shape"], nlohmann::json({2}));
  EXPECT_EQ(header["a"]["data_offsets"], nlohmann::json({0, 8}));
  EXPECT_EQ(header["a"]["dtype"], "F32");
}

TEST_F(SafetensorsTest, EmptyAndScalarTensorsAndNoMetadata) {
  const std::vector<float> one = {4.0f};
  safetensors_write(path_, {{"empty", {0, 5}, {}}, {"scalar", {}, one}});
  EXPECT_FALSE(read_header(path_).contains("__metadata__"));
  const auto back = safetensors_read(path_);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].name, "empty");
  EXPECT_EQ(back[0].shape, (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(back[0].data.empty());
  EXPECT_EQ(back[1].name, "scalar");
  EXPECT_TRUE(back[1].shape.empty());
  EXPECT_EQ(back[1].data, one);

  safetensors_write(path_, {});
  EXPECT_TRUE(safetensors_read(path_).empty());
}

TEST_F(SafetensorsTest, OverwritesAndLeavesNoTempFile) {
  const std::vector<float> a = {1.0f}, b = {2.0f, 3.0f};
  safetensors_write(path_, {{"x", {1}, a}});
  safetensors_write(path_, {{"x", {2}, b}});
  EXPECT_EQ(safetensors_read(path_)[0].data, b);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u);
}

TEST_F(SafetensorsTest, WriteRejectsBadInput) {
  const std::vector<float> a = {1.0f, 2.0f};
  std::string msg = error_of([&] { safetensors_write(path_, {{"a", {3}, a}}); });
  EXPECT_NE(msg.find("'a'"), std::string::npos) << msg;
  msg = error_of([&] { safetensors_write(path_, {{"a", {2}, a}, {"a", {2}, a}}); });
  EXPECT_NE(msg.find("duplicate"), std::string::npos) << msg;
  msg = error_of([&] { safetensors_write(dir_ / "missing" / "w.safetensors", {{"a", {2}, a}}); });
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(path_));
}

// Each corrupt file must give an Error naming the file and, where one is to blame, the tensor.
struct Corruption {
  const char* label;
  std::string header;
  std::string data;
  uint64_t len;
  const char* expect;  // a phrase the message must contain
};

TEST_F(SafetensorsTest, RejectsEveryCorruption) {
  const uint64_t own = std::numeric_limits<uint64_t>::max();
  const std::string f8(8, '\0'), f12(12, '\0'), f20(20, '\0');
  const std::vector<Corruption> cases = {
      {"huge length", "{}", "", 1000, "larger than"},
      {"not json", "{not json", "", own, "not valid JSON"},
      {"not an object", "[1, 2]", "", own, "expected an object"},
      {"missing dtype", R"({"w":{"shape":[2],"data_offsets":[0,8]}})", f8, own, "'dtype'"},
      {"missing shape", R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", f8, own, "'shape'"},
      {"missing offsets", R"({"w":{"dtype":"F32","shape":[2]}})", f8, own, "'data_offsets'"},
      {"f16", R"({"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", f8, own,
       "only F32 is supported"},
      {"size mismatch", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", f8, own,
       "needs 12"},
      {"negative shape", R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f8, own,
       "non-negative"},
      {"bad offsets", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", f8, own, "pair"},
      {"beyond buffer", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
       std::string(4, '\0'), own, "beyond"},
      {"overlap",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       f12, own, "overlap"},
      {"gap",
       R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("v":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
       f20, own, "gap"},
      {"trailing bytes", R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f12, own,
       "unused"},
      {"bad metadata", R"({"__metadata__":{"k":1}})", "", own, "__metadata__"},
  };
  for (const Corruption& c : cases) {
    SCOPED_TRACE(c.label);
    const fs::path p = dir_ / (std::string("corrupt_") + c.label + ".safetensors");
    write_raw(p, c.header, c.data, c.len);
    const std::string msg = error_of([&] { safetensors_read(p); });
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
    if (c.header.find("\"w\"") != std::string::npos && std::string(c.label) != "trailing bytes") {
      EXPECT_TRUE(msg.find("'w'") != std::string::npos || msg.find("'v'") != std::string::npos)
          << msg;
    }
  }
}

TEST_F(SafetensorsTest, RejectsMissingAndShortFiles) {
  const fs::path missing = dir_ / "nope.safetensors";
  std::string msg = error_of([&] { safetensors_read(missing); });
  EXPECT_NE(msg.find(missing.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;

  const fs::path short_file = dir_ / "short.safetensors";
  std::ofstream(short_file, std::ios::binary) << "12345";
  msg = error_of([&] { safetensors_read(short_file); });
  EXPECT_NE(msg.find(short_file.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("too short"), std::string::npos) << msg;
}

TEST_F(SafetensorsTest, ReadsInOffsetOrderWhateverTheHeaderOrder) {
  // The header lists "b" first but its bytes come second.
  std::string data(16, '\0');
  const float vals[4] = {1, 2, 3, 4};
  std::memcpy(data.data(), vals, 16);
  write_raw(path_,
            R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
            R"("a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}})",
            data);
  const auto back = safetensors_read(path_);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].name, "a");
  EXPECT_EQ(back[0].data, (std::vector<float>{1, 2}));
  EXPECT_EQ(back[1].name, "b");
  EXPECT_EQ(back[1].data, (std::vector<float>{3, 4}));
}

}  // namespace
}  // namespace initscope
