// Weights round-trip through .safetensors with PyTorch's names, and loading checks shapes.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "run/checkpoint.hpp"
#include "store/safetensors.hpp"

namespace initscope {
namespace {

TEST(Checkpoint, RoundTripWithPyTorchNames) {
  const auto dir = std::filesystem::temp_directory_path() / "initscope_ckpt_test";
  std::filesystem::create_directories(dir);
  const Mlp net = Mlp::make({.input_dim = 6, .width = 4, .depth = 3, .outputs = 2});
  std::vector<float> p(net.num_params);
  init_params(net, p, InitScheme::xavier_normal, 1.0, 1);
  p[net.layers[1].b_offset] = 0.25f;
  save_params(dir / "w.safetensors", net, p);

  const auto tensors = safetensors_read(dir / "w.safetensors");
  ASSERT_EQ(tensors.size(), 6u);
  EXPECT_EQ(tensors[0].name, "layers.0.weight");
  EXPECT_EQ(tensors[0].shape, (std::vector<int64_t>{4, 6}));
  EXPECT_EQ(tensors[3].name, "layers.1.bias");
  EXPECT_EQ(tensors[3].data[0], 0.25f);

  std::vector<float> q(net.num_params, -1.0f);
  load_params(dir / "w.safetensors", net, q);
  EXPECT_EQ(p, q);

  const Mlp wider = Mlp::make({.input_dim = 6, .width = 5, .depth = 3, .outputs = 2});
  std::vector<float> r(wider.num_params);
  try {
    load_params(dir / "w.safetensors", wider, r);
    FAIL() << "expected a shape error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("w.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("layers.0.weight"), std::string::npos) << msg;
  }
  const Mlp deeper = Mlp::make({.input_dim = 6, .width = 4, .depth = 4, .outputs = 2});
  std::vector<float> s(deeper.num_params);
  EXPECT_THROW(load_params(dir / "w.safetensors", deeper, s), Error);
  std::filesystem::remove_all(dir);
}

// A Fourier-feature encoding is saved as encoding.B; loading checks it against the run's.
TEST(Checkpoint, FourierEncodingIsSavedAndChecked) {
  const auto dir = std::filesystem::temp_directory_path() / "initscope_ckpt_enc_test";
  std::filesystem::create_directories(dir);
  const EncodingSpec spec{.kind = EncodingKind::fourier, .features = 3, .sigma = 2.0};
  const Encoding enc = make_encoding(spec, 2, 11);
  const Mlp net = Mlp::make({.input_dim = enc.output_dim(), .width = 4, .depth = 2, .outputs = 2});
  std::vector<float> p(net.num_params);
  init_params(net, p, InitScheme::torch_default, 1.0, 1);
  save_params(dir / "e.safetensors", net, p, {}, &enc);
  const auto tensors = safetensors_read(dir / "e.safetensors");
  ASSERT_EQ(tensors.size(), 5u);
  EXPECT_EQ(tensors[4].name, "encoding.B");
  EXPECT_EQ(tensors[4].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(tensors[4].data, enc.B);
  std::vector<float> q(net.num_params);
  load_params(dir / "e.safetensors", net, q, &enc);
  EXPECT_EQ(p, q);
  const Encoding other = make_encoding(spec, 2, 12);
  EXPECT_THROW(load_params(dir / "e.safetensors", net, q, &other), Error);
  EXPECT_THROW(load_params(dir / "e.safetensors", net, q), Error);  // no encoding in the run
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace initscope
