// One EAL per test process: no PCI, no hugepages, a unique file prefix.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rte_eal.h>

namespace {

class EalEnv : public testing::Environment {
  public:
    void SetUp() override {
        std::string prefix = "--file-prefix=cs-test-" + std::to_string(getpid());
        std::vector<std::string> args = {"test",
                                         "--no-pci",
                                         prefix,
                                         "--no-huge",
                                         "-m",
                                         "768",
                                         "--no-shconf",
                                         "--no-telemetry",
                                         "-l",
                                         "0",
                                         "--log-level=*:warning"};
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        ASSERT_GE(rte_eal_init(static_cast<int>(argv.size()), argv.data()), 0);
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
