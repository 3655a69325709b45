// One HTTP/1.1 connection: bytes and time in, responses out, in order.
//
// Glue contract (docs/http.md):
//   n = s.feed(bytes, now);      // consumes a prefix; keep bytes[n..] for later
//   while (s.has_response()) {   // answers in request order (pipelining)
//       queue s.front().head() and s.front().body() on the TCP send queue;
//       s.pop();
//   }
//   if (s.finished()) close after the send queue drains;
//   s.poll(now, send_queue_busy) on timer ticks (slowloris/idle).
// feed() stops early when the response queue is full (back-pressure) or the
// connection is to be closed; the glue retries the rest after pop().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/http/context.h"
#include "dataplane/http/request_parser.h"
#include "dataplane/http/response.h"

namespace ep::http {

inline constexpr std::size_t kResponseQueueDepth = 4;

class HttpSession {
  public:
    enum class TimerAction : uint8_t {
        kNone,
        kClose,     // idle keep-alive connection: close without a response
        kTimedOut,  // slowloris: a 408 was queued, close after sending it
        kAbort,     // a response made no progress for send_timeout_ms: reset now
    };

    explicit HttpSession(HttpContext &ctx) : ctx_(ctx), parser_(ctx.config) {}
    HttpSession(const HttpSession &) = delete;
    HttpSession &operator=(const HttpSession &) = delete;

    // (Re)start on a new connection; sessions are pooled, not allocated.
    void start(Now now);

    std::size_t feed(std::span<const uint8_t> bytes, Now now);
    std::size_t feed(std::string_view bytes, Now now) {
        return feed({reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size()}, now);
    }

    bool has_response() const { return count_ > 0; }
    // A request whose object is pending (ObjectInfo::pending: pulled from an
    // origin, length not known yet) is held: feed() stops after it, nothing
    // is queued for it. The glue calls retry() when the catalog may know
    // more; true once it was answered (then has_response()).
    bool held() const { return held_; }
    bool retry(Now now);
    const Response &front() const { return queue_[head_]; }
    void pop();

    // Timeouts. `output_pending`: the glue still has response bytes to send
    // or unacknowledged (a big object streaming is not idleness).
    // `acked_bytes`: a count that grows whenever the peer acknowledges
    // response bytes (any monotonic progress measure works); while output is
    // pending and it stays the same for send_timeout_ms, poll() says kAbort
    // (nginx's send_timeout), whatever the TCP window does.
    TimerAction poll(Now now, bool output_pending, uint64_t acked_bytes = 0);
    // Earliest mono_ms at which poll() may act, for the glue's timer wheel.
    uint64_t deadline_ms() const;

    // The peer's FIN arrived. It ends the requests, not the answers: every
    // complete request before it is still parsed (the glue keeps feeding
    // what feed() left over) and answered; then finished().
    void on_peer_closed() { peer_closed_ = true; }
    // The bytes just fed were all consumed but are not all the input: the
    // glue holds more (a receive ring offers its bytes in two parts when it
    // wraps). Until the next feed(), a FIN must not end the input.
    void more_input_follows() { unconsumed_ = true; }

    // No more requests will be read; close once all queued responses are sent.
    bool input_closed() const { return input_closed_ || (peer_closed_ && !unconsumed_); }
    bool finished() const { return input_closed() && count_ == 0 && !held_; }
    uint32_t requests_served() const { return requests_; }

  private:
    Response &push();
    void on_request(Now now);
    void on_error(Now now);
    void summarize(Response &r) const;

    HttpContext &ctx_;
    RequestParser parser_;
    std::array<Response, kResponseQueueDepth> queue_;
    uint8_t head_ = 0;
    uint8_t count_ = 0;
    bool input_closed_ = false;
    bool peer_closed_ = false;  // FIN seen: input ends with what was received
    bool unconsumed_ = false;   // the last feed() left bytes for later
    bool in_request_ = false;   // a request head or body is partly received
    bool held_ = false;         // a complete request waits for its object (retry())
    uint64_t request_start_ms_ = 0;
    uint64_t last_activity_ms_ = 0;
    uint64_t last_progress_ms_ = 0;  // output pending without progress since then
    uint64_t last_acked_ = 0;
    uint32_t requests_ = 0;
};

}  // namespace ep::http
