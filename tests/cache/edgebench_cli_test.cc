// End-to-end check of `edgebench tracegen` and `edgebench cachesim`: the
// binary (path in EP_EDGEBENCH) writes a trace and replays it; the JSON rows
// carry the documented fields and sizes resolve as documented.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/cache/trace_env.h"

namespace {

std::string run(const std::string &cmd, int *rc) {
    std::string out;
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    *rc = pclose(p);
    return out;
}

class EdgebenchCli : public ::testing::Test {
  protected:
    void SetUp() override {
        const char *bin = std::getenv("EP_EDGEBENCH");
        if (bin == nullptr || !std::filesystem::exists(bin))
            EP_SKIP_OR_FAIL_IN_CI("EP_EDGEBENCH not set (benchmarks disabled?)");
        bin_ = bin;
        trace_ = (std::filesystem::temp_directory_path() /
                  ("ep_cli_" + std::to_string(getpid()) + ".oracleGeneral"))
                     .string();
    }
    void TearDown() override {
        if (!trace_.empty()) std::remove(trace_.c_str());
    }
    std::string bin_, trace_;
};

TEST_F(EdgebenchCli, TracegenThenCachesimJson) {
    int rc = -1;
    run(bin_ + " tracegen -o " + trace_ +
            " --format oracleGeneral --requests 20000 --objects 1000 --alpha 0.9 --seed 4",
        &rc);
    ASSERT_EQ(rc, 0);
    std::string out = run(
        bin_ + " cachesim --trace " + trace_ + " --policy lru,default --size 10%,50 --json", &rc);
    ASSERT_EQ(rc, 0) << out;
    // 2 policies x 2 sizes, one JSON object per line.
    size_t lines = 0;
    for (char c : out) lines += c == '\n';
    EXPECT_EQ(lines, 4u) << out;
    for (const char *field :
         {"\"policy\":\"lru\"", "\"policy\":\"default\"", "\"cache_size\":50,",
          "\"requests\":20000,", "\"miss_ratio\":", "\"byte_miss_ratio\":", "\"mreq_per_s\":"})
        EXPECT_NE(out.find(field), std::string::npos) << field << "\n" << out;
}

TEST_F(EdgebenchCli, TextTableAndErrors) {
    int rc = -1;
    run(bin_ + " tracegen -o " + trace_ + " --requests 5000 --objects 500 --sizes dash", &rc);
    ASSERT_EQ(rc, 0);
    std::string out = run(
        bin_ + " cachesim --trace " + trace_ + " --format text --bytes --size 5% --policy s3fifo",
        &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("byte miss ratio"), std::string::npos) << out;
    run(bin_ + " cachesim --trace " + trace_ + " --format text --policy nope", &rc);
    EXPECT_NE(rc, 0);
    run(bin_ + " cachesim --trace /nonexistent.csv", &rc);
    EXPECT_NE(rc, 0);
    run(bin_ + " cachesim --trace " + trace_ + " --format text --size 5Q", &rc);
    EXPECT_NE(rc, 0);
}

}  // namespace
