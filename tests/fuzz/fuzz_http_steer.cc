// Cluster steering's parsing of request-targets (dataplane/http/steer.h):
// the loop marker, _DASH_pathway / _DASH_throughput (percent-decoding,
// quotes, lists), the Location and the steering manifest built from them.
// The first byte picks the client's ranking; the rest is the target.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "dataplane/http/steer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace ep::http;
    if (size == 0) return 0;
    static const ClusterInfo kClusters[] = {
        {"paris", "10.77.0.2", true}, {"london", "10.77.0.3:8081", true}, {"newyork", "", false}};
    HttpConfig cfg;
    cfg.steer_min_kbps = 1000;
    SteerView v;
    v.clusters = kClusters;
    v.self = data[0] % 3;
    v.client_known = data[0] & 0x80;
    v.ranking.n = static_cast<uint8_t>((data[0] >> 2) % (kMaxRanked + 1));
    for (unsigned i = 0; i < v.ranking.n; ++i) {
        v.ranking.cluster[i] = static_cast<uint16_t>((data[0] + i) % 4);  // 3: out of range
        v.ranking.score_ms[i] = static_cast<float>(i * 7);
    }
    const std::string_view target(reinterpret_cast<const char *>(data + 1), size - 1);
    char buf[256];
    std::string_view pathway;
    uint64_t bps = 0;
    steer_query(target, buf, sizeof buf, &pathway, &bps);
    uint16_t order[8];
    PathwayNote note;
    const std::size_t n = pathway_order(cfg, v, pathway, bps, order, 8, &note);
    char out[1024];
    steering_manifest(cfg, v, {order, n}, out, sizeof out);
    const RedirectDecision d = decide_redirect(cfg, v, target);
    if (d.verdict == RedirectVerdict::kRedirect) {
        if (d.target >= 3) __builtin_trap();  // a redirect names a known cluster
        redirect_location(cfg, kClusters[d.target].host, target, out, sizeof out);
    }
    return 0;
}
