// One EAL per test process: no PCI, no hugepages, a unique file prefix
// (chunkstore/eal_env.h). A test binary that links this file gets it as a
// GoogleTest environment: EAL up before the first test, cleaned up after
// the last. Its meson target may set, through cpp_args:
//   EP_TEST_EAL_MB    the --no-huge heap in MiB (768: a chunk store's tests)
//   EP_TEST_EAL_VDEV  one virtual device, e.g. "net_ring0" (none by default)
#include <errno.h>  // program_invocation_short_name

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>

#include "chunkstore/eal_env.h"

#ifndef EP_TEST_EAL_MB
#define EP_TEST_EAL_MB 768
#endif

namespace {

class EalEnv : public testing::Environment {
  public:
    void SetUp() override {
        std::vector<std::string> extra;
#ifdef EP_TEST_EAL_VDEV
        extra.push_back(std::string("--vdev=") + EP_TEST_EAL_VDEV);
#endif
        ASSERT_TRUE(
            ep::chunkstore::init_tool_eal(program_invocation_short_name, EP_TEST_EAL_MB, extra));
    }
    void TearDown() override {
        // EAL leaves its runtime directory behind; a test leaves nothing.
        const std::string dir = rte_eal_get_runtime_dir();
        rte_eal_cleanup();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

[[maybe_unused]] testing::Environment *const env = testing::AddGlobalTestEnvironment(new EalEnv);

}  // namespace
