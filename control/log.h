// The daemon's log: one structured line per event on stderr (journald takes
// it as it is), key=value by default or JSON lines (--log-format):
//   ts=2026-12-01T16:44:27.123Z level=notice msg="drain: no new connections; ..."
//   {"ts":"2026-12-01T16:44:27.123Z","level":"notice","msg":"drain: ..."}
// Levels are rte_log's, so --log-level (and a reload of it) filters our lines
// the way it filters DPDK's. Call sites keep their printf-style EP_LOG.
// Control thread only: it formats into a stack buffer and writes once.
#pragma once

#include <rte_log.h>

#include <cstdint>
#include <string>

namespace ep {
int log_type();

enum class LogFormat { kKeyValue, kJson };
void set_log_format(LogFormat f);
LogFormat log_format_of(const std::string &name);  // "json" or key=value

void log_line(uint32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// The line log_line would write for msg (tests). unix_ms: the time stamp.
std::string format_log_line(LogFormat f, uint32_t level, std::string_view msg, int64_t unix_ms);
}  // namespace ep

#define EP_LOG(level, fmt, ...) ::ep::log_line(RTE_LOG_##level, fmt, ##__VA_ARGS__)
