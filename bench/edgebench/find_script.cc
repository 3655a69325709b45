#include "bench/edgebench/find_script.h"

#include <cstdlib>
#include <filesystem>

namespace ep::bench {

std::string find_script(const char *name, const char *env, std::string *tried) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (const char *e = std::getenv(env)) {
        if (fs::exists(e, ec)) return e;
        *tried += std::string("  $") + env + "=" + e + " (no such file)\n";
        return {};
    }
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    for (fs::path d = exe.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path()) {
        const fs::path cand = d / "bench" / "edgebench" / name;
        if (fs::exists(cand, ec)) return cand.string();
    }
    *tried +=
        std::string("  bench/edgebench/") + name + " in every parent of " + exe.string() + "\n";
#ifdef EP_SOURCE_ROOT
    const fs::path cand = fs::path(EP_SOURCE_ROOT) / "bench" / "edgebench" / name;
    if (fs::exists(cand, ec)) return cand.string();
    *tried += "  " + cand.string() + " (the source tree this build was configured from)\n";
#endif
    return {};
}

}  // namespace ep::bench
