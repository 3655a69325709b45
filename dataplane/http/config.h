// Tunables of the HTTP server. One HttpConfig per process, read by every core.
#pragma once

#include <cstdint>
#include <string_view>

namespace ep::http {

// Compile-time capacities: the per-connection state is sized by these, so the
// run-time limits below may only lower them.
inline constexpr std::size_t kTargetCapacity = 2048;   // request-target bytes
inline constexpr std::size_t kFieldArenaBytes = 2048;  // values of the fields we keep
inline constexpr std::size_t kMaxStoredFields = 16;    // occurrences of fields we keep
inline constexpr std::size_t kMaxRanges = 16;          // RFC 9110 §14.2 DoS bound
inline constexpr std::size_t kIndexNameCapacity = 64;  // directory index object name

struct HttpConfig {
    // "/" and any path ending in "/" map to this object under that directory.
    std::string_view index_object = "index.html";
    // Cache-Control by content class: manifests change every segment for
    // live streams, segments never change once written (RFC 8246 immutable).
    std::string_view cache_control_manifest = "public, max-age=2";
    std::string_view cache_control_media = "public, max-age=31536000, immutable";
    std::string_view cache_control_other = "public, max-age=60";

    uint32_t max_head_bytes = 8192;               // request line + fields; beyond → 431
    uint32_t max_headers = 64;                    // field lines; beyond → 431
    uint32_t max_target_bytes = kTargetCapacity;  // beyond → 414
    uint64_t max_discard_body = 64 * 1024;        // GET bodies are read and dropped; beyond → 413
    uint32_t max_ranges = kMaxRanges;             // more ranges → 200 full (RFC 9110 §14.2)
    bool multipart_ranges = true;   // several ranges → multipart/byteranges (false: 200 full)
    uint32_t cors_max_age = 86400;  // Access-Control-Max-Age of preflight answers

    // Slowloris bound: a request head (and its discarded body) must arrive
    // completely within this time after its first byte, else 408 and close.
    uint64_t header_timeout_ms = 10'000;
    // A connection with no request in progress and nothing to send is closed
    // after this long.
    uint64_t idle_timeout_ms = 60'000;
    // A response whose bytes see no acknowledgement for this long is aborted
    // (reset), whatever the TCP window does: a peer that stops reading must
    // not hold a session and pinned chunks forever. 0 = off.
    uint64_t send_timeout_ms = 60'000;
    // Pinned RAM (docs/http.md "Pinned RAM"). Every chunk a connection's
    // unacknowledged data refers to stays pinned in the RAM tier. A
    // connection queues at most pin_conn_bytes of chunks (in whole 256 KiB
    // chunks, at least one) ahead of its ACK point, and all connections
    // together at most pin_ram_pct of the RAM tier (split evenly between
    // pin_servers HTTP servers). When that total is reached, connections
    // that acknowledged nothing for pin_stall_ms are reset, largest first.
    uint32_t pin_conn_bytes = 1024 * 1024;
    uint32_t pin_ram_pct = 50;
    uint32_t pin_servers = 1;  // HTTP servers (data lcore queues) sharing the RAM tier
    uint64_t pin_stall_ms = 1'000;
    // 0 = unlimited; else the Nth response carries Connection: close.
    uint32_t max_requests_per_connection = 0;
    // Retry-After seconds sent with 503 (object known but not yet available).
    uint32_t retry_after_s = 1;

    // Cluster steering (dataplane/http/steer.h, docs/cluster_selection.md
    // "How clients are steered"). Off unless the daemon runs cluster
    // selection (--clusters) and knows its own cluster (--cluster-self).
    // redirect: manifests that reached a cluster worse than the client's
    // chosen one by redirect_margin_ms get 302 to it, once (the marker).
    bool redirect = false;
    double redirect_margin_ms = 10;
    std::string_view steer_marker = "ep_steered";
    // dash_steering: GET /<steer_path> answers the DASH content steering
    // manifest for the client, TTL steer_ttl_s; a player reporting less
    // than steer_min_kbps (0: never) has its pathway demoted.
    bool dash_steering = false;
    std::string_view steer_path = "steer";
    uint32_t steer_ttl_s = 10;
    uint32_t steer_min_kbps = 0;
};

}  // namespace ep::http
