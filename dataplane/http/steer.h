// Cluster steering in HTTP (issue 16, "How clients are steered"): the pure
// decisions, given what the control side published for the client.
//
//  - HTTP redirect: a manifest request that reached a cluster other than the
//    client's chosen one, when the chosen one scores better by
//    HttpConfig::redirect_margin_ms, gets 302 Found with Location on the
//    chosen cluster's host (RFC 9110 §15.4.3). Loop prevention: the
//    redirected URL carries the query parameter `ep_steered=1`, and a
//    request carrying it is never redirected again (whatever the tables
//    say on the other side). Segments are never redirected: a player that
//    followed the manifest's redirect resolves segment URLs against the
//    redirected manifest URL, so segments in play never bounce.
//  - DASH content steering (DASH-IF CTS-001 v1.0 / ETSI TS 103 998): the
//    steering manifest is a small JSON document answered per client:
//    PATHWAY-PRIORITY lists cluster names (the MPD's BaseURL@serviceLocation),
//    best first. The player's query parameters: `_DASH_pathway` names the
//    pathway it uses (CTS-001 §6.2; dash.js 4.7 sends a quoted, comma
//    separated list of its service locations sorted by measured throughput,
//    best first: the first is taken) and `_DASH_throughput` the throughput
//    measured on it in bits/s (dash.js: the mean of its last samples, one
//    value per listed location with samples; the first is taken). The
//    pathway is kept first while it is within the redirect margin of the
//    best (players do not switch for nothing); a throughput below
//    steer_min_kbps demotes it one place (its cluster serves this player
//    badly, whatever the model thinks).
//
// No allocation, no exceptions: runs on the data lcore per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/http/config.h"

namespace ep::http {

inline constexpr unsigned kMaxRanked = 4;
inline constexpr uint16_t kNoCluster = 0xffff;

// The clusters best for one client network, best (the chosen) first, with
// their scores (ms of expected RTT, lower is better). Published per client
// network by the control side.
struct ClientRanking {
    uint8_t n = 0;
    uint16_t cluster[kMaxRanked] = {};
    float score_ms[kMaxRanked] = {};
    // The score of `c`, or a negative value when c is not ranked.
    float score_of(uint16_t c) const {
        for (unsigned i = 0; i < n; ++i)
            if (cluster[i] == c) return score_ms[i];
        return -1;
    }
};

struct ClusterInfo {
    std::string_view name;  // the MPD's serviceLocation / the pathway id
    std::string_view host;  // "HOST[:PORT]" for Location and BaseURL; empty: none
    bool up = true;
};

// What the glue hands the decisions for the request being answered.
struct SteerView {
    std::span<const ClusterInfo> clusters;
    uint16_t self = kNoCluster;  // this appliance's cluster
    bool client_known = false;   // the client is in a published client network
    ClientRanking ranking;
};

// The source of SteerViews: the HTTP glue, which knows the connection being
// fed and reads the published table (RCU). false: no table (steering off).
class SteerSource {
  public:
    virtual ~SteerSource() = default;
    virtual bool steer_view(SteerView *out) const noexcept = 0;
};

enum class RedirectVerdict : uint8_t {
    kRedirect,
    kLoopMarker,     // the URL carries the marker: redirected once already
    kUnknownClient,  // in no client network: we serve it
    kLocalBest,      // we are the chosen cluster
    kWithinMargin,   // the chosen one is not better by the margin
    kNoHost,         // the chosen cluster has no host to redirect to
};

struct RedirectDecision {
    RedirectVerdict verdict = RedirectVerdict::kUnknownClient;
    uint16_t target = kNoCluster;
};

// For a manifest request (the caller checks the class and the config).
// `target` is the raw request-target (origin or absolute form).
RedirectDecision decide_redirect(const HttpConfig &cfg, const SteerView &v,
                                 std::string_view target);

// The value of query parameter `name` in `target` ("/p?a=1&b=2"); found
// says whether it is there (a parameter without '=' has an empty value).
std::string_view query_param(std::string_view target, std::string_view name, bool *found);

// Writes "http://HOST" + the target's path and query + the loop marker into
// out; returns the length, 0 when it does not fit.
std::size_t redirect_location(const HttpConfig &cfg, std::string_view host, std::string_view target,
                              char *out, std::size_t cap);

// _DASH_pathway and _DASH_throughput of `target`, percent-decoded (into buf)
// and reduced to their first list element; empty / 0 when absent.
void steer_query(std::string_view target, char *buf, std::size_t cap, std::string_view *pathway,
                 uint64_t *throughput_bps);

enum class PathwayNote : uint8_t { kNone, kKept, kDemoted };

// The steering manifest's pathway order for this client: cluster indices,
// best first, every cluster that is up exactly once. Ranked clusters first
// (the control side's order), then the others in model order; without a
// ranking, this appliance's cluster first. `pathway`: _DASH_pathway (may
// be empty); `throughput_bps`: _DASH_throughput (0: not sent).
std::size_t pathway_order(const HttpConfig &cfg, const SteerView &v, std::string_view pathway,
                          uint64_t throughput_bps, uint16_t *out, std::size_t cap,
                          PathwayNote *note);

// The whole steering manifest (CTS-001 §6.1: VERSION, TTL, RELOAD-URI,
// PATHWAY-PRIORITY) into out; returns the length, 0 when it does not fit.
std::size_t steering_manifest(const HttpConfig &cfg, const SteerView &v,
                              std::span<const uint16_t> order, char *out, std::size_t cap);

}  // namespace ep::http
