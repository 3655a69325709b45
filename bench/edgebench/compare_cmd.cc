// `edgebench compare`: edgeplane (one data core, net_memif to edgebench http)
// against nginx (one worker, wrk over loopback) on the same content, in
// server-core cycles per request and per byte. The orchestration (processes,
// namespaces-free memif socket, nginx config, stats deltas, CSV, chart) lives
// in compare.py next to this file; this subcommand finds it (find_script.h:
// $EDGEBENCH_COMPARE, the tree the build dir sits in, the configured source
// tree) and runs it.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/edgebench/find_script.h"
#include "bench/edgebench/http_commands.h"

namespace ep::bench {

namespace {

// CLI11 exits quietly on a RuntimeError: say why first.
[[noreturn]] void fail(const std::string &why) {
    std::fprintf(stderr, "edgebench compare: %s\n", why.c_str());
    throw CLI::RuntimeError(2);
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
        std::string tried;
        const std::string script = find_script("compare.py", "EDGEBENCH_COMPARE", &tried);
        if (script.empty())
            fail("compare.py not found; looked for:\n" + tried +
                 "set EDGEBENCH_COMPARE=/path/to/bench/edgebench/compare.py");
        if (access("/usr/bin/python3", X_OK) != 0)
            fail("/usr/bin/python3 not found (compare.py needs Debian's python3)");
        std::vector<std::string> av = {"/usr/bin/python3", script};
        std::error_code ec;
        const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        av.push_back("--edgebench=" + self);
        for (const std::string &s : c->remaining()) av.push_back(s);
        std::vector<char *> argv;
        for (auto &s : av) argv.push_back(s.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        fail(std::string("exec /usr/bin/python3 failed: ") + std::strerror(errno));
    });
}

}  // namespace ep::bench
