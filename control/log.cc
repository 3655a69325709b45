#include "control/log.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace ep {

namespace {
LogFormat g_format = LogFormat::kKeyValue;

const char *level_name(uint32_t level) {
    static constexpr const char *kNames[] = {"emerg",   "alert",  "crit", "err",
                                             "warning", "notice", "info", "debug"};
    return level >= 1 && level <= 8 ? kNames[level - 1] : "info";
}

void append_quoted(std::string *out, std::string_view s, bool json) {
    out->push_back('"');
    char buf[8];
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out->push_back('\\');
            out->push_back(static_cast<char>(c));
        } else if (c == '\n') {
            out->append("\\n");
        } else if (c < 0x20 || c == 0x7f) {
            std::snprintf(buf, sizeof buf, json ? "\\u%04x" : "\\x%02x", c);
            out->append(buf);
        } else {
            out->push_back(static_cast<char>(c));
        }
    }
    out->push_back('"');
}
}  // namespace

int log_type() {
    static const int type = [] {
        int t = rte_log_register_type_and_pick_level("edgeplane", RTE_LOG_INFO);
        return t < 0 ? RTE_LOGTYPE_USER1 : t;
    }();
    return type;
}

void set_log_format(LogFormat f) {
    g_format = f;
}

LogFormat log_format_of(const std::string &name) {
    return name == "json" ? LogFormat::kJson : LogFormat::kKeyValue;
}

std::string format_log_line(LogFormat f, uint32_t level, std::string_view msg, int64_t unix_ms) {
    const time_t secs = static_cast<time_t>(unix_ms / 1000);
    tm utc{};
    gmtime_r(&secs, &utc);
    char ts[40];
    const size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(ts + n, sizeof ts - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
    std::string out;
    out.reserve(msg.size() + 64);
    if (f == LogFormat::kJson) {
        out.append("{\"ts\":\"").append(ts).append("\",\"level\":\"").append(level_name(level));
        out.append("\",\"msg\":");
        append_quoted(&out, msg, true);
        out.append("}\n");
    } else {
        out.append("ts=").append(ts).append(" level=").append(level_name(level)).append(" msg=");
        append_quoted(&out, msg, false);
        out.push_back('\n');
    }
    return out;
}

void log_line(uint32_t level, const char *fmt, ...) {
    if (!rte_log_can_log(static_cast<uint32_t>(log_type()), level)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    const std::string line =
        format_log_line(g_format, level, msg, now.tv_sec * 1000LL + now.tv_nsec / 1'000'000);
    // One write: lines from EAL's threads never land inside ours.
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace ep
