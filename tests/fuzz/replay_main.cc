// Corpus replay: runs a libFuzzer target's LLVMFuzzerTestOneInput over every
// file of the given files or directories, once each, no mutation. Built with
// the normal compiler (gcc has no libFuzzer) so `meson test` replays every
// committed corpus in every build, including the sanitizer build.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size);

int main(int argc, char **argv) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        if (fs::is_directory(argv[i], ec)) {
            for (const auto &e : fs::directory_iterator(argv[i]))
                if (e.is_regular_file()) files.push_back(e.path());
        } else if (fs::is_regular_file(argv[i], ec)) {
            files.emplace_back(argv[i]);
        } else {
            std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            return 2;
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        std::fprintf(stderr, "replay: empty corpus\n");
        return 2;
    }
    for (const auto &f : files) {
        std::ifstream in(f, std::ios::binary);
        std::vector<char> buf((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
        // A copy of exactly `size` bytes on the heap, as libFuzzer hands it over,
        // so reads past the end are caught by ASan.
        auto *p = new uint8_t[buf.size() ? buf.size() : 1];
        std::copy(buf.begin(), buf.end(), p);
        LLVMFuzzerTestOneInput(p, buf.size());
        delete[] p;
    }
    std::printf("replay: %zu inputs ok\n", files.size());
    return 0;
}
