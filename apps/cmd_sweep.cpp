#include "cli.hpp"
namespace initscope::cli {
void add_sweep(CLI::App&, Common&) {}
}  // namespace initscope::cli
