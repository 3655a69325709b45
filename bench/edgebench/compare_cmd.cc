// `edgebench compare`: edgeplane (one data core, net_memif to edgebench http)
// against nginx (one worker, wrk over loopback) on the same content, in
// server-core cycles per request and per byte. The orchestration (processes,
// namespaces-free memif socket, nginx config, stats deltas, CSV, chart) lives
// in compare.py next to this file; this subcommand finds and runs it.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/edgebench/http_commands.h"

namespace ep::bench {

namespace {

// compare.py: $EDGEBENCH_COMPARE, else the source tree the build dir sits in
// (BUILD/bench/edgebench → SRC/bench/edgebench/compare.py), else the install.
std::string find_script() {
    namespace fs = std::filesystem;
    if (const char *e = std::getenv("EDGEBENCH_COMPARE")) return e;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    for (fs::path d = exe.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path()) {
        const fs::path cand = d / "bench" / "edgebench" / "compare.py";
        if (fs::exists(cand, ec)) return cand.string();
    }
    return {};
}

}  // namespace

void register_compare(CLI::App &app) {
    auto args = std::make_shared<std::vector<std::string>>();
    CLI::App *c =
        app.add_subcommand("compare",
                           "edgeplane vs nginx: server-core cycles per request and per byte "
                           "(runs bench/edgebench/compare.py)");
    c->set_help_flag();  // --help goes to compare.py
    c->allow_extras();
    c->prefix_command();
    c->callback([c, args]() {
        const std::string script = find_script();
        if (script.empty())
            throw CLI::RuntimeError("compare.py not found (set EDGEBENCH_COMPARE)", 2);
        std::vector<std::string> av = {"/usr/bin/python3", script};
        std::error_code ec;
        const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        av.push_back("--edgebench=" + self);
        for (const std::string &s : c->remaining()) av.push_back(s);
        std::vector<char *> argv;
        for (auto &s : av) argv.push_back(s.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        throw CLI::RuntimeError("exec /usr/bin/python3 failed", 2);
    });
}

}  // namespace ep::bench
