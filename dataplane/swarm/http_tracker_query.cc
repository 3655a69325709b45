#include "dataplane/swarm/http_tracker_query.h"
#include "dataplane/http/percent_decode.h"

#include <cstring>

namespace ep::swarm::httpt {

const char *query_error_name(QueryError e) {
    switch (e) {
        case QueryError::ok:
            return "ok";
#define EP_X(n, h)      \
    case QueryError::n: \
        return #n;
            EP_HTTPT_QUERY_ERRORS(EP_X)
#undef EP_X
    }
    return "?";
}

const char *query_error_text(QueryError e) {
    switch (e) {
        case QueryError::ok:
            return "ok";
#define EP_X(n, h)      \
    case QueryError::n: \
        return h;
            EP_HTTPT_QUERY_ERRORS(EP_X)
#undef EP_X
    }
    return "bad request";
}

namespace {

// Calls fn(key, value) for each '&'-separated pair (value still encoded).
// Stops at the first pair fn refuses (returns an error).
template <typename Fn>
QueryError for_each_pair(std::string_view q, Fn &&fn) {
    size_t i = 0;
    while (i < q.size()) {
        size_t j = q.find('&', i);
        if (j == std::string_view::npos) j = q.size();
        const std::string_view pair = q.substr(i, j - i);
        i = j + 1;
        if (pair.empty()) continue;  // "a=1&&b=2"
        const size_t eq = pair.find('=');
        const std::string_view k = eq == std::string_view::npos ? pair : pair.substr(0, eq);
        const std::string_view v =
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        const QueryError e = fn(k, v);
        if (e != QueryError::ok) return e;
    }
    return QueryError::ok;
}

// Exactly 20 bytes once decoded (an info hash or a peer id).
QueryError decode20(std::string_view v, uint8_t out[20], QueryError bad) {
    uint8_t tmp[21];
    const int n = percent_decode(v, tmp, sizeof tmp);
    if (n == -2) return QueryError::bad_escape;
    if (n != 20) return bad;
    std::memcpy(out, tmp, 20);
    return QueryError::ok;
}

// Unsigned decimal that fits 64 bits (no sign, no escapes: digits are
// unreserved and never escaped by clients).
bool parse_u64(std::string_view v, uint64_t *out) {
    if (v.empty() || v.size() > 20) return false;
    uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        const uint64_t d = static_cast<uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10) return false;
        n = n * 10 + d;
    }
    *out = n;
    return true;
}

bool parse_ipv4(std::string_view v, udpt::Addr *out) {
    uint8_t b[4];
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part) {
            if (i >= v.size() || v[i] != '.') return false;
            ++i;
        }
        unsigned n = 0, digits = 0;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9' && digits < 4)
            n = n * 10 + static_cast<unsigned>(v[i++] - '0'), ++digits;
        if (digits == 0 || digits > 3 || n > 255) return false;
        b[part] = static_cast<uint8_t>(n);
    }
    if (i != v.size()) return false;
    *out = udpt::Addr{};
    out->family = 4;
    std::memcpy(out->ip, b, 4);
    return true;
}

}  // namespace

std::string_view query_of(std::string_view target) {
    const size_t q = target.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view rest = target.substr(q + 1);
    const size_t frag = rest.find('#');
    return frag == std::string_view::npos ? rest : rest.substr(0, frag);
}

int percent_decode(std::string_view s, uint8_t *out, size_t cap) {
    const uri::PercentResult r = uri::percent_decode(s, reinterpret_cast<char *>(out), cap);
    if (r.bad_escape) return -2;
    if (r.truncated) return -1;
    return static_cast<int>(r.len);
}

QueryError parse_announce(std::string_view query, Announce *out) {
    *out = Announce{};
    bool ih = false, pid = false, port = false;
    const QueryError e =
        for_each_pair(query, [&](std::string_view k, std::string_view v) -> QueryError {
            if (k == "info_hash") {
                if (ih) return QueryError::repeated_info_hash;
                ih = true;
                return decode20(v, out->info_hash, QueryError::bad_info_hash);
            }
            if (k == "peer_id") {
                pid = true;
                return decode20(v, out->peer_id, QueryError::bad_peer_id);
            }
            if (k == "port") {
                uint64_t p = 0;
                if (!parse_u64(v, &p) || p == 0 || p > 65535) return QueryError::bad_port;
                out->port = static_cast<uint16_t>(p);
                port = true;
                return QueryError::ok;
            }
            if (k == "uploaded" || k == "downloaded" || k == "left") {
                uint64_t n = 0;
                if (!parse_u64(v, &n)) return QueryError::bad_number;
                if (k == "uploaded")
                    out->uploaded = n;
                else if (k == "downloaded")
                    out->downloaded = n;
                else
                    out->left = n, out->has_left = true;
                return QueryError::ok;
            }
            if (k == "numwant") {
                // Some clients send -1 for "your default".
                uint64_t n = 0;
                if (!v.empty() && v[0] == '-') {
                    if (!parse_u64(v.substr(1), &n)) return QueryError::bad_number;
                    out->numwant = -1;
                    return QueryError::ok;
                }
                if (!parse_u64(v, &n)) return QueryError::bad_number;
                out->numwant = n > INT32_MAX ? INT32_MAX : static_cast<int32_t>(n);
                return QueryError::ok;
            }
            if (k == "event") {
                // BEP 3 events; BEP 21 adds "paused" (a partial seed that stopped
                // downloading): for the swarm it is a regular announce.
                if (v.empty() || v == "paused")
                    out->event = udpt::Event::kNone;
                else if (v == "started")
                    out->event = udpt::Event::kStarted;
                else if (v == "completed")
                    out->event = udpt::Event::kCompleted;
                else if (v == "stopped")
                    out->event = udpt::Event::kStopped;
                else
                    return QueryError::bad_event;
                return QueryError::ok;
            }
            if (k == "compact") {
                out->compact = v != "0";
                return QueryError::ok;
            }
            if (k == "ip") {
                // BEP 3: "optional", an address or a DNS name. Parsed when it is
                // an IPv4 address; the tracker does not use it (docs/swarm.md).
                char tmp[64];
                const int n = percent_decode(v, reinterpret_cast<uint8_t *>(tmp), sizeof tmp);
                if (n == -2) return QueryError::bad_escape;
                if (n == -1) return QueryError::bad_value;
                out->has_ip = parse_ipv4({tmp, static_cast<size_t>(n)}, &out->ip);
                return QueryError::ok;
            }
            return QueryError::ok;  // a parameter we do not use
        });
    if (e != QueryError::ok) return e;
    if (!ih) return QueryError::missing_info_hash;
    if (!pid) return QueryError::missing_peer_id;
    if (!port) return QueryError::missing_port;
    return QueryError::ok;
}

QueryError parse_scrape(std::string_view query, Scrape *out) {
    out->count = 0;
    return for_each_pair(query, [&](std::string_view k, std::string_view v) -> QueryError {
        if (k != "info_hash") return QueryError::ok;
        if (out->count == kMaxScrapeHashes) return QueryError::too_many_hashes;
        const QueryError e = decode20(v, out->info_hash[out->count], QueryError::bad_info_hash);
        if (e == QueryError::ok) ++out->count;
        return e;
    });
}

}  // namespace ep::swarm::httpt
