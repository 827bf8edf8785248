// A main for fuzz targets built without libFuzzer (g++, the default build):
// runs LLVMFuzzerTestOneInput on every file named on the command line, or
// found in a directory named there, so `bazel test //fuzz/...` replays each
// target's corpus as a regression test. Prints how many inputs it ran.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "tools/flags.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  const std::vector<std::string> args = asyncspec::ParseFlagsOrExit(
      argc, argv,
      "usage: <fuzz target> FILE_OR_DIR...\n"
      "Runs the fuzz target once on every file named, and on every file below each directory\n"
      "named (a corpus), as a regression test; prints how many inputs ran.",
      std::numeric_limits<int>::max());
  std::vector<std::filesystem::path> files;
  for (const std::string& arg : args) {
    std::filesystem::path p(arg);
    if (!std::filesystem::exists(p)) {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", arg.c_str());
      return 2;
    }
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs (give corpus files or directories)\n");
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  }
  std::printf("replay: %zu inputs ran without a crash\n", files.size());
  return 0;
}
