// fuzz_tcp_input's cheaper setup must not change what the stack does with an
// input: every input of the given corpus directories runs with the fuzzer's
// 64-slot timer wheel and with the 1024 slots it had before, and again after
// all the others (nothing may carry over from one input to the next through
// static state); each time the emitted segments, the application's events
// and the stack's counters must be the same.
//   test_fuzz_tcp_input DIR_OR_FILE...   (meson: the committed corpus)
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_tcp_input.h"

namespace {

std::vector<uint8_t> slurp(const std::filesystem::path &f) {
    std::ifstream in(f, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string trace(const std::vector<uint8_t> &in, uint32_t wheel_slots) {
    std::string t;
    ep::tcp::test::TcpInputRun run;
    run.wheel_slots = wheel_slots;
    run.trace = &t;
    ep::tcp::test::fuzz_tcp_input(in.data(), in.size(), run);
    return t;
}

}  // namespace

int main(int argc, char **argv) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        if (fs::is_directory(argv[i])) {
            for (const auto &e : fs::directory_iterator(argv[i]))
                if (e.is_regular_file()) files.push_back(e.path());
        } else {
            files.emplace_back(argv[i]);
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> first;
    size_t lines_total = 0;
    for (const auto &f : files) {
        const auto in = slurp(f);
        first.push_back(trace(in, 64));
        const auto lines =
            static_cast<size_t>(std::count(first.back().begin(), first.back().end(), '\n'));
        lines_total += lines;
        if (in.empty()) continue;
        if (lines < 3) {  // the first window of data, the application's line, the counters
            std::fprintf(stderr, "%s: the stack sent nothing\n", f.c_str());
            return 1;
        }
        if (trace(in, 1024) != first.back()) {
            std::fprintf(stderr, "%s: 64 and 1024 wheel slots differ\n", f.c_str());
            return 1;
        }
    }
    for (size_t i = files.size(); i-- > 0;) {
        if (trace(slurp(files[i]), 64) != first[i]) {
            std::fprintf(stderr, "%s: differs on a second run\n", files[i].c_str());
            return 1;
        }
    }
    if (files.empty()) return 2;
    std::printf("test_fuzz_tcp_input: %zu inputs, %zu trace lines, same both ways\n", files.size(),
                lines_total);
    return 0;
}
