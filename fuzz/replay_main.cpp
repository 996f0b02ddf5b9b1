// A plain main for a fuzz target, so the normal build runs it as a ctest test: every file of
// the directories (or the files) named on the command line is fed to LLVMFuzzerTestOneInput once.
// A broken invariant aborts; a clean run prints how many inputs it replayed.
//   fuzz_urlencoded_replay fuzz/corpus/urlencoded fuzz/regressions/urlencoded

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace {

/// The bytes of the file at `path`.
std::vector<std::uint8_t> read_file(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    if (std::filesystem::is_regular_file(arg)) {
      inputs.push_back(arg);
    } else if (std::filesystem::is_directory(arg)) {
      // Dot files (.gitkeep) are no inputs.
      for (const auto &entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file() && !entry.path().filename().string().starts_with('.')) {
          inputs.push_back(entry.path());
        }
      }
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  for (const auto &path : inputs) {
    const std::vector<std::uint8_t> bytes = read_file(path);
    // An allocation of exactly the input's size, so AddressSanitizer sees a read past its end.
    const std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), copy.get());
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", path.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(copy.get(), bytes.size());
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
