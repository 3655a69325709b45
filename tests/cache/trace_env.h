// Locates the shared traces for tests (EP_TRACES_DIR, set by meson).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace ep::cache::testing {

// True under CI (CI=true): what a test needs must be there, or it fails.
inline bool in_ci() {
    const char *c = std::getenv("CI");
    return c != nullptr && std::string(c) == "true";
}

// Skips the test with `why` on a developer's machine; fails it under CI=true,
// where nothing the README promises may skip.
#define EP_SKIP_OR_FAIL_IN_CI(why)                                          \
    do {                                                                    \
        if (::ep::cache::testing::in_ci()) FAIL() << (why) << " (CI=true)"; \
        GTEST_SKIP() << (why);                                              \
    } while (0)

// Returns the path of a shared trace, or "" when it is not available (the
// caller then uses EP_SKIP_OR_FAIL_IN_CI with the returned reason).
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
