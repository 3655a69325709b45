// The daemon's structured log lines: exact bytes of both formats, quoting.
#include <gtest/gtest.h>

#include "control/log.h"

namespace ep {
namespace {

constexpr int64_t kMs = 1'796'143'467'123;  // 2026-12-01T16:44:27.123Z

TEST(Log, KeyValueLineQuotesTheMessage) {
    EXPECT_EQ(format_log_line(LogFormat::kKeyValue, RTE_LOG_NOTICE, "drain: \"x\" done\n", kMs),
              "ts=2026-12-01T16:44:27.123Z level=notice msg=\"drain: \\\"x\\\" done\\n\"\n");
}

TEST(Log, JsonLine) {
    EXPECT_EQ(
        format_log_line(LogFormat::kJson, RTE_LOG_ERR, "a\\b\x01", kMs),
        "{\"ts\":\"2026-12-01T16:44:27.123Z\",\"level\":\"err\",\"msg\":\"a\\\\b\\u0001\"}\n");
}

TEST(Log, FormatNames) {
    EXPECT_EQ(log_format_of("json"), LogFormat::kJson);
    EXPECT_EQ(log_format_of("kv"), LogFormat::kKeyValue);
}

}  // namespace
}  // namespace ep
