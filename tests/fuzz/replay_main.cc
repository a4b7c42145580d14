// Copyright memlog authors.
//
// Runs a libFuzzer entry point over a checked-in corpus, as an ordinary
// program: `replay <file or directory>...`. Every file found (directories
// are walked recursively, in sorted order) is passed once to
// LLVMFuzzerTestOneInput; a difference the fuzzer detects aborts. Finding no
// input at all is an error too, so that a missing corpus cannot pass.
//
// This is how the seed corpus runs with gcc in `bazel test //...` and under
// the sanitizer configs, without libFuzzer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::filesystem::path> CollectInputs(const char* argument) {
  std::vector<std::filesystem::path> inputs;
  const std::filesystem::path path(argument);
  if (std::filesystem::is_directory(path)) {
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(path)) {
      if (entry.is_regular_file()) inputs.push_back(entry.path());
    }
  } else if (std::filesystem::is_regular_file(path)) {
    inputs.push_back(path);
  } else {
    std::fprintf(stderr, "replay: %s is neither a file nor a directory\n",
                 argument);
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    std::vector<std::filesystem::path> found = CollectInputs(argv[i]);
    inputs.insert(inputs.end(), found.begin(), found.end());
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  size_t bytes = 0;
  for (const std::filesystem::path& input : inputs) {
    std::ifstream file(input, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    if (!file.good() && !file.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", input.c_str());
      return 1;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", input.c_str(),
                 data.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()),
                           data.size());
    bytes += data.size();
  }
  std::printf("replay: %zu inputs, %zu bytes, no difference found\n",
              inputs.size(), bytes);
  return 0;
}
