// Locates the shared traces for tests (EP_TRACES_DIR, set by meson).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace ep::cache::testing {

// Returns the path of a shared trace, or "" when it is not available (the
// caller then GTEST_SKIPs with the returned reason).
inline std::string shared_trace(const std::string &file, std::string *why) {
    const char *dir = std::getenv("EP_TRACES_DIR");
    if (dir == nullptr) {
        *why = "EP_TRACES_DIR not set (run through meson test)";
        return "";
    }
    std::filesystem::path p = std::filesystem::path(dir) / file;
    if (!std::filesystem::exists(p)) {
        *why = "shared trace " + p.string() + " not found; reference checks need ../shared/traces";
        return "";
    }
    return p.string();
}

}  // namespace ep::cache::testing
