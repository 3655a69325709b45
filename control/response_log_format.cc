#include "control/response_log_format.h"

#include <cstdio>
#include <ctime>

namespace ep {

const char *cache_result_name(CacheResult c) {
    switch (c) {
        case CacheResult::kHit:
            return "hit";
        case CacheResult::kFill:
            return "fill";
        case CacheResult::kMiss:
            return "miss";
        case CacheResult::kNone:
            break;
    }
    return "-";
}

const char *log_service_name(LogService s) {
    switch (s) {
        case LogService::kHttp:
            return "http";
        case LogService::kSwarm:
            return "swarm";
        case LogService::kDns:
            return "dns";
    }
    return "-";
}

namespace {

void append_escaped(std::string *out, std::string_view s, bool json) {
    char buf[8];
    for (unsigned char c : s) {
        // combined: a space would split the request field for a parser.
        if ((c > 0x20 && c < 0x7f && c != '"' && c != '\\') || (json && c == ' ')) {
            out->push_back(static_cast<char>(c));
        } else {
            std::snprintf(buf, sizeof buf, json ? "\\u%04x" : "\\x%02X", c);
            out->append(buf);
        }
    }
}

std::string ipv4(uint32_t host) {
    char b[16];
    std::snprintf(b, sizeof b, "%u.%u.%u.%u", host >> 24, (host >> 16) & 255, (host >> 8) & 255,
                  host & 255);
    return b;
}

}  // namespace

void format_access_line(const ResponseRecord &r, AccessLogFormat f, std::string *out) {
    const time_t t = static_cast<time_t>(r.unix_s);
    tm utc{};
    gmtime_r(&t, &utc);
    char tbuf[40], num[160];
    const std::string_view method(r.method);
    const char *proto = r.service == LogService::kSwarm     ? "BT/1.0"
                        : r.service == LogService::kDns     ? "DNS"
                        : r.flags & ResponseRecord::kHttp10 ? "HTTP/1.0"
                                                            : "HTTP/1.1";
    const bool http = r.service == LogService::kHttp;
    const bool incomplete = r.flags & ResponseRecord::kIncomplete;
    const unsigned long long us = static_cast<unsigned long long>(r.duration_us);
    if (f == AccessLogFormat::kCombined) {
        std::strftime(tbuf, sizeof tbuf, "%d/%b/%Y:%H:%M:%S +0000", &utc);
        out->append(ipv4(r.client_ip)).append(" - - [").append(tbuf).append("] \"");
        append_escaped(out, method, false);
        out->push_back(' ');
        append_escaped(out, r.path_view(), false);
        std::snprintf(num, sizeof num, " %s\" %u %llu \"-\" \"-\" rt=%llu.%03llu cache=%s range=\"",
                      proto, r.status, static_cast<unsigned long long>(r.bytes), us / 1'000'000,
                      us / 1000 % 1000, cache_result_name(r.cache));
        out->append(num);
        append_escaped(out, r.range_view(), false);
        // Our fields follow nginx's combined as key=value: a parser of
        // combined reads the line and ignores them (svc= names the service).
        std::snprintf(num, sizeof num, "\" svc=%s lcore=%u%s%s%s", log_service_name(r.service),
                      r.lcore, r.flags & ResponseRecord::kPathTruncated ? " path_truncated=1" : "",
                      r.flags & ResponseRecord::kRangeTruncated ? " range_truncated=1" : "",
                      incomplete ? " incomplete=1" : "");
        out->append(num);
        if (!http) {
            std::snprintf(num, sizeof num,
                          " count=%llu detail=", static_cast<unsigned long long>(r.count));
            out->append(num).append(r.detail_view().empty() ? "-" : r.detail_view());
        }
        out->push_back('\n');
        return;
    }
    std::strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    out->append("{\"time\":\"").append(tbuf).append("\",\"client\":\"").append(ipv4(r.client_ip));
    std::snprintf(num, sizeof num, "\",\"client_port\":%u,\"service\":\"%s\",\"method\":\"",
                  r.client_port, log_service_name(r.service));
    out->append(num);
    append_escaped(out, method, true);
    out->append("\",\"path\":\"");
    append_escaped(out, r.path_view(), true);
    std::snprintf(num, sizeof num,
                  "\",\"protocol\":\"%s\",\"status\":%u,\"bytes\":%llu,\"head_bytes\":%llu,"
                  "\"range\":\"",
                  proto, r.status, static_cast<unsigned long long>(r.bytes),
                  static_cast<unsigned long long>(r.head_bytes));
    out->append(num);
    append_escaped(out, r.range_view(), true);
    std::snprintf(num, sizeof num, "\",\"duration_ms\":%llu.%03llu,\"cache\":\"%s\",\"lcore\":%u",
                  us / 1000, us % 1000, cache_result_name(r.cache), r.lcore);
    out->append(num);
    if (r.flags & ResponseRecord::kPathTruncated) out->append(",\"path_truncated\":true");
    if (r.flags & ResponseRecord::kRangeTruncated) out->append(",\"range_truncated\":true");
    if (incomplete) out->append(",\"complete\":false");
    if (!http) {
        std::snprintf(num, sizeof num, ",\"count\":%llu,\"detail\":\"",
                      static_cast<unsigned long long>(r.count));
        out->append(num).append(r.detail_view()).append("\"");
    }
    out->append("}\n");
}

}  // namespace ep
