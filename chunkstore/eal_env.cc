#include "chunkstore/eal_env.h"

#include <unistd.h>

#include <rte_eal.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "chunkstore/log.h"

namespace ep::chunkstore {

bool init_tool_eal(const std::string &tag, unsigned mem_mb, const std::vector<std::string> &extra) {
    std::vector<std::string> args = {
        tag,
        "--no-pci",
        "--no-huge",
        "-m",
        std::to_string(mem_mb),
        "--no-shconf",
        "--no-telemetry",
        "--file-prefix=" + tag + "-" + std::to_string(getpid()),
        "-l",
        "0",
        "--log-level=*:warning",
    };
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
        log_warn("EAL init failed");
        return false;
    }
    // A tool leaves nothing behind: EAL's runtime directory goes at exit.
    static std::string runtime_dir;
    runtime_dir = rte_eal_get_runtime_dir();
    std::atexit([] {
        std::error_code ec;
        std::filesystem::remove_all(runtime_dir, ec);
    });
    return true;
}

}  // namespace ep::chunkstore
