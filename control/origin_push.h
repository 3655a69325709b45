// Off-peak push (issue 14, docs/origin.md "Off-peak push"): during the
// configured local-time window the control thread reads the origin's
// popularity list and fetches the most popular titles that fit, before any
// client asks, through the pull-on-miss fill path of a data lcore
// (OriginFill's push slots): every chunk is one 256 KiB-aligned range,
// verified and published exactly as a reader's miss would have it.
//
// The bandwidth cap is enforced here, on the fetches this thread starts: a
// chunk is asked for only when the token bucket (control/origin_push/
// token_bucket.h, rate --push-mbps, burst one chunk) holds its length, and
// at most kMaxInFlight chunks are asked at once. So the bytes the push has
// started by time t are at most one chunk + rate * t; `edgectl fill` shows
// the rate measured from the chunks that landed.
//
// Outside the window nothing is pushed (pull on miss fills as ever). The
// decisions (window, list, what fits) are pure: control/origin_push/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/admin_socket.h"
#include "control/config.h"
#include "control/origin_push/plan.h"
#include "control/origin_push/token_bucket.h"
#include "control/origin_push/window.h"
#include "dataplane/origin/origin_table.h"

namespace ep {

namespace chunkstore {
class Store;
}
class OriginFill;
struct PushAsk;

class OriginPush {
  public:
    // `fills`: every data lcore's fill client (asked in turn). False + *err
    // on a bad config (checked by config.cc already).
    bool init(const Config &cfg, chunkstore::Store *store, std::vector<OriginFill *> fills,
              std::string *err);
    bool enabled() const { return !list_path_.empty() && !fills_.empty(); }
    // Every control-loop tick, holding the store gate.
    void poll(uint64_t mono_ns, int64_t unix_s);
    // `edgectl fill`: the window, the clock, the budget, every listed title.
    void report(Reply &out, int64_t unix_s) const;
    // `edgectl fill now HH:MM[:SS]`, tests only: the window's clock reads
    // this local time now (an offset, kept until changed).
    void set_clock_offset(int64_t s) { offset_s_ = s; }
    int64_t clock_offset() const { return offset_s_; }
    // `edgectl fill again`: read the list again now and plan a new round.
    void restart_round() { phase_ = Phase::kOutside; }

    static constexpr uint32_t kMaxInFlight = 2;

  private:
    enum class Phase : uint8_t { kOutside, kList, kFill, kDone };
    enum class State : uint8_t { kPlanned, kFilling, kPushed, kSkipped };
    struct Item {
        push::Entry e;
        std::string key;  // store name: the path without '/'
        State st = State::kPlanned;
        push::Skip skip = push::Skip::none;
        uint64_t size = 0;    // known: from the list or the first chunk
        uint32_t chunks = 0;  // from the listed size, else 0 until chunk 0 is in
        bool known = false;   // chunk 0 is in: size and chunks are the origin's
        uint32_t next = 0;    // next chunk to ask
        uint32_t landed = 0;  // chunks in the store
        uint64_t oid = 0;
        uint64_t bytes = 0;  // bytes of the chunks this push fetched
        std::string detail;  // why skipped, in numbers
    };
    struct Pending {
        size_t item = SIZE_MAX;  // SIZE_MAX: the list
        uint32_t index = 0;
        uint32_t len = 0;         // tokens taken
        PushAsk *slot = nullptr;  // asked, answer not read yet
        bool asked = false;       // the lcore started or joined a fetch: wait for the chunk
        uint64_t since_ns = 0;
        uint32_t tries = 0;
        uint32_t paid_tries = 0;  // `tries` the bucket has paid for (an ask again pays anew)
    };

    uint32_t day_seconds(int64_t unix_s) const;
    void begin_round(uint64_t now_ns, int64_t unix_s);
    void close_round();
    bool ask(Pending &p, const std::string &key);
    void poll_list(uint64_t now_ns, int64_t unix_s);
    void poll_fill(uint64_t now_ns);
    bool chunk_in(uint64_t oid, uint32_t index) const;
    void landed(Pending &p, uint64_t now_ns);
    void give_up(Item &it, push::Skip why, std::string detail);

    chunkstore::Store *store_ = nullptr;
    std::vector<OriginFill *> fills_;
    uint32_t next_fill_ = 0;
    origin::Table routes_;
    std::string list_path_, list_key_;
    push::Window window_;
    push::TokenBucket bucket_;
    double mbps_ = 0;
    uint32_t share_pct_ = 0;
    uint64_t share_bytes_ = 0, share_used_ = 0, budget_left_ = 0;
    uint64_t timeout_ns_ = 0;
    int64_t offset_s_ = 0;
    Phase phase_ = Phase::kOutside;
    std::vector<Item> items_;
    std::vector<Pending> pending_;
    std::string list_error_;
    uint64_t retry_ns_ = 0;     // the list is asked again after a failure
    int64_t round_unix_s_ = 0;  // when this round began (clock of the window)
    uint32_t rounds_ = 0;
    // Measured: the bytes of pushed chunks that landed, from the first ask
    // of the round to the last landing.
    uint64_t bytes_ = 0, chunks_ = 0, first_ask_ns_ = 0, last_land_ns_ = 0;
};

}  // namespace ep
