// The access log's data-plane half: one record per response a service
// completes, into a single-producer/single-consumer rte_ring per data lcore;
// the control thread (control/response_log_writer.cc) formats and writes the
// lines. Not to be confused with dataplane/access_log.h, the cache policy's
// per-chunk access stream.
//
// Fast path: a record is fixed-size (no allocation; the path and range are
// truncated, with a flag), enqueued with one rte_ring call, and a full ring
// drops the record and counts it (response_log_drops): a core never waits
// for the disk. Sampling (1 in N) is decided here, before anything is copied.
//
// Any service can produce: HTTP fills every field, one record per response
// (a response cut short too, flagged kIncomplete); the BitTorrent peer wire
// one per connection when it closes (method "PEER", the info hash as path,
// pieces in `count`, why it closed in `detail`); DNS one summary per lcore
// and interval (method "SUMMARY", `count` queries, the answers by rcode in
// `detail`), never one per query.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ep {

enum class LogService : uint8_t { kHttp, kSwarm, kDns };
// What the store had for the response: nothing to say (an error, OPTIONS),
// served from RAM, had to bring chunks in (disk now, origin later), or the
// object is not held.
enum class CacheResult : uint8_t { kNone, kHit, kFill, kMiss };

inline constexpr std::size_t kLogPathBytes = 160;
inline constexpr std::size_t kLogRangeBytes = 40;
inline constexpr std::size_t kLogDetailBytes = 96;

struct ResponseRecord {
    int64_t unix_s = 0;        // wall clock at completion
    uint64_t duration_us = 0;  // first request byte to last response byte queued
    uint64_t bytes = 0;        // body bytes sent (nginx $body_bytes_sent)
    uint64_t head_bytes = 0;   // status line and header fields
    uint64_t count = 0;        // swarm: piece blocks sent; dns: queries in the interval
    uint32_t client_ip = 0;    // host order (IPv4)
    uint16_t client_port = 0;
    uint16_t status = 0;  // HTTP status; DNS: rcode
    LogService service = LogService::kHttp;
    CacheResult cache = CacheResult::kNone;
    uint8_t lcore = 0;
    uint8_t flags = 0;  // kPathTruncated, kRangeTruncated, kHttp10, kIncomplete
    uint8_t path_len = 0;
    uint8_t range_len = 0;
    char method[10] = {};  // NUL-padded: "GET", "HEAD", "-"
    char range[kLogRangeBytes] = {};
    char path[kLogPathBytes] = {};
    // NUL-padded token list without spaces: swarm the close reason, dns
    // "noerror:N,nxdomain:N,...". Never escaped by the writer: set_detail
    // keeps [A-Za-z0-9_.:,=-] only.
    char detail[kLogDetailBytes] = {};

    static constexpr uint8_t kPathTruncated = 1;
    static constexpr uint8_t kRangeTruncated = 2;
    static constexpr uint8_t kHttp10 = 4;
    // The response did not complete: the connection was reset (client gone,
    // send timeout, drain deadline) after part of it was sent; `bytes` is
    // the body bytes handed to TCP by then.
    static constexpr uint8_t kIncomplete = 8;

    void set_method(std::string_view m) {
        const std::size_t n = m.size() < sizeof method ? m.size() : sizeof method - 1;
        std::memcpy(method, m.data(), n);
        method[n] = 0;
    }
    void set_path(std::string_view p) {
        const std::size_t n = p.size() < kLogPathBytes ? p.size() : kLogPathBytes;
        std::memcpy(path, p.data(), n);
        path_len = static_cast<uint8_t>(n);
        if (n < p.size()) flags |= kPathTruncated;
    }
    void set_range(std::string_view r) {
        const std::size_t n = r.size() < kLogRangeBytes ? r.size() : kLogRangeBytes;
        std::memcpy(range, r.data(), n);
        range_len = static_cast<uint8_t>(n);
        if (n < r.size()) flags |= kRangeTruncated;
    }
    void set_detail(std::string_view d) {
        std::size_t n = 0;
        for (char ch : d) {
            if (n + 1 >= kLogDetailBytes) break;
            const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                            (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' ||
                            ch == ',' || ch == '=' || ch == '-';
            detail[n++] = ok ? ch : '_';
        }
        detail[n] = 0;
    }
    std::string_view detail_view() const { return {detail}; }
    std::string_view path_view() const { return {path, path_len}; }
    std::string_view range_view() const { return {range, range_len}; }
};
static_assert(sizeof(ResponseRecord) % 4 == 0, "rte_ring elements are multiples of 4 bytes");
static_assert(kLogPathBytes <= 255 && kLogRangeBytes <= 255, "lengths are uint8_t");

class ResponseLog {
  public:
    // `mem` must hold memsize(count) bytes (count: power of two). sample:
    // keep one response in that many (1: all). drops: the lcore's counter.
    static size_t memsize(uint32_t count);
    bool init(void *mem, uint32_t count, uint32_t sample, uint8_t lcore, uint64_t *drops);
    rte_ring *ring() const { return ring_; }
    // Control thread (reload): the lcore sees it at its next response.
    void set_sample(uint32_t n) { sample_.store(n ? n : 1, std::memory_order_relaxed); }

    // Lcore: true when this response is to be logged (sampling); then fill a
    // record and push() it.
    bool wanted() {
        const uint32_t n = sample_.load(std::memory_order_relaxed);
        if (n <= 1) return true;
        if (++seq_ < n) return false;
        seq_ = 0;
        return true;
    }
    void push(ResponseRecord &r) {
        r.lcore = lcore_;
        if (rte_ring_sp_enqueue_elem(ring_, &r, sizeof r) != 0) ++*drops_;
    }
    // Control thread: up to max records into out.
    unsigned drain(ResponseRecord *out, unsigned max) {
        return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(ResponseRecord), max, nullptr);
    }

  private:
    rte_ring *ring_ = nullptr;
    uint64_t *drops_ = nullptr;
    std::atomic<uint32_t> sample_{1};  // a reload may change it
    uint32_t seq_ = 0;
    uint8_t lcore_ = 0;
};

}  // namespace ep
