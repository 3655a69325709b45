#include "dataplane/http/steer.h"
#include "dataplane/http/percent_decode.h"

namespace ep::http {
namespace {

// A bounded writer into a caller's buffer; ok() false once anything did not fit.
struct Out {
    char *p;
    std::size_t cap, n = 0;
    bool fits = true;
    void put(std::string_view s) {
        if (n + s.size() > cap) {
            fits = false;
            return;
        }
        for (char c : s) p[n++] = c;
    }
    void u64(uint64_t v) {
        char tmp[20];
        int len = 0;
        do {
            tmp[len++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (len > 0) put({&tmp[--len], 1});
    }
    std::size_t done() const { return fits ? n : 0; }
};

// The path and query of a request-target: an absolute-form target
// (RFC 9112 §3.2.2) loses its scheme and authority.
std::string_view path_and_query(std::string_view target) {
    if (!target.empty() && target[0] != '/') {
        const std::size_t scheme = target.find("://");
        if (scheme != std::string_view::npos) {
            const std::size_t slash = target.find('/', scheme + 3);
            return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        }
    }
    return target;
}

bool is_up(const SteerView &v, uint16_t c) {
    return c < v.clusters.size() && v.clusters[c].up;
}

}  // namespace

std::string_view query_param(std::string_view target, std::string_view name, bool *found) {
    *found = false;
    const std::size_t q = target.find('?');
    if (q == std::string_view::npos) return {};
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            *found = true;
            return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return {};
}

namespace {

// Percent-decodes `in` into buf (URLSearchParams also writes ' ' as '+'; a
// stray '%' stays literal, as browsers keep it); returns what fit.
std::string_view decode(std::string_view in, char *buf, std::size_t cap) {
    const uri::PercentResult r =
        uri::percent_decode(in, buf, cap, {.plus_is_space = true, .strict = false});
    return {buf, r.len};
}

std::string_view first_element(std::string_view v) {
    if (!v.empty() && v.front() == '"') v.remove_prefix(1);
    if (!v.empty() && v.back() == '"') v.remove_suffix(1);
    return v.substr(0, v.find(','));
}

}  // namespace

void steer_query(std::string_view target, char *buf, std::size_t cap, std::string_view *pathway,
                 uint64_t *throughput_bps) {
    bool found = false;
    *pathway = {};
    *throughput_bps = 0;
    const std::size_t half = cap / 2;
    const std::string_view p = query_param(target, "_DASH_pathway", &found);
    if (found) *pathway = first_element(decode(p, buf, half));
    const std::string_view t = query_param(target, "_DASH_throughput", &found);
    if (!found) return;
    const std::string_view tv = first_element(decode(t, buf + half, cap - half));
    uint64_t v = 0;
    for (std::size_t i = 0; i < tv.size() && i < 19 && tv[i] >= '0' && tv[i] <= '9'; ++i)
        v = v * 10 + static_cast<uint64_t>(tv[i] - '0');
    *throughput_bps = v;
}

RedirectDecision decide_redirect(const HttpConfig &cfg, const SteerView &v,
                                 std::string_view target) {
    RedirectDecision d;
    bool marked = false;
    query_param(target, cfg.steer_marker, &marked);
    if (marked) return {RedirectVerdict::kLoopMarker, kNoCluster};
    if (!v.client_known || v.ranking.n == 0) return {RedirectVerdict::kUnknownClient, kNoCluster};
    const uint16_t best = v.ranking.cluster[0];
    if (best == v.self) return {RedirectVerdict::kLocalBest, best};
    // Our own score for this client; not ranked means not even among its
    // best few candidates (or down): worse than any margin.
    const float ours = v.ranking.score_of(v.self);
    if (ours >= 0 && static_cast<double>(ours - v.ranking.score_ms[0]) < cfg.redirect_margin_ms)
        return {RedirectVerdict::kWithinMargin, best};
    if (best >= v.clusters.size() || v.clusters[best].host.empty())
        return {RedirectVerdict::kNoHost, best};
    d.verdict = RedirectVerdict::kRedirect;
    d.target = best;
    return d;
}

std::size_t redirect_location(const HttpConfig &cfg, std::string_view host, std::string_view target,
                              char *out, std::size_t cap) {
    Out o{out, cap};
    const std::string_view pq = path_and_query(target);
    o.put("http://");
    o.put(host);
    o.put(pq);
    o.put(pq.find('?') == std::string_view::npos ? "?" : "&");
    o.put(cfg.steer_marker);
    o.put("=1");
    return o.done();
}

std::size_t pathway_order(const HttpConfig &cfg, const SteerView &v, std::string_view pathway,
                          uint64_t throughput_bps, uint16_t *out, std::size_t cap,
                          PathwayNote *note) {
    *note = PathwayNote::kNone;
    std::size_t n = 0;
    auto add = [&](uint16_t c) {
        if (!is_up(v, c) || n == cap) return;
        for (std::size_t i = 0; i < n; ++i)
            if (out[i] == c) return;
        out[n++] = c;
    };
    if (v.client_known)
        for (unsigned i = 0; i < v.ranking.n; ++i) add(v.ranking.cluster[i]);
    else
        add(v.self);
    for (std::size_t c = 0; c < v.clusters.size(); ++c) add(static_cast<uint16_t>(c));
    if (pathway.empty() || n < 2) return n;
    std::size_t cur = n;
    for (std::size_t i = 0; i < n; ++i)
        if (v.clusters[out[i]].name == pathway) cur = i;
    if (cur == n) return n;  // a pathway we do not know (or down): our order stands
    const uint16_t c = out[cur];
    if (cfg.steer_min_kbps != 0 && throughput_bps != 0 &&
        throughput_bps < uint64_t{cfg.steer_min_kbps} * 1000) {
        // The player's measurement beats the model: its pathway serves it
        // badly. Demote it one place (below the next), not to the end, so
        // one bad sample does not throw a good cluster away.
        if (cur + 1 < n) {
            out[cur] = out[cur + 1];
            out[cur + 1] = c;
            *note = PathwayNote::kDemoted;
        }
        return n;
    }
    if (cur == 0 || !v.client_known) return n;
    // Hysteresis, as for redirects: the player stays where it plays while
    // its pathway is within the margin of the best.
    const float s = v.ranking.score_of(c);
    if (s >= 0 && static_cast<double>(s - v.ranking.score_ms[0]) < cfg.redirect_margin_ms) {
        for (std::size_t i = cur; i > 0; --i) out[i] = out[i - 1];
        out[0] = c;
        *note = PathwayNote::kKept;
    }
    return n;
}

std::size_t steering_manifest(const HttpConfig &cfg, const SteerView &v,
                              std::span<const uint16_t> order, char *out, std::size_t cap) {
    // Names and hosts come from the validated cluster model (DNS-name
    // characters), so they need no JSON escaping.
    Out o{out, cap};
    o.put("{\"VERSION\":1,\"TTL\":");
    o.u64(cfg.steer_ttl_s);
    if (v.self < v.clusters.size() && !v.clusters[v.self].host.empty()) {
        o.put(",\"RELOAD-URI\":\"http://");
        o.put(v.clusters[v.self].host);
        o.put("/");
        o.put(cfg.steer_path);
        o.put("\"");
    }
    o.put(",\"PATHWAY-PRIORITY\":[");
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i) o.put(",");
        o.put("\"");
        o.put(v.clusters[order[i]].name);
        o.put("\"");
    }
    o.put("]}\n");
    return o.done();
}

}  // namespace ep::http
