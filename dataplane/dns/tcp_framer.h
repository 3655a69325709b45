// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): each message is
// preceded by its length as two bytes. Bytes arrive in arbitrary pieces; the
// framer hands on each whole message in order, so pipelined queries are
// answered in the order they were sent (RFC 7766 6.2.1.1 allows any order;
// in order is what every client handles). Pure, one per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "dataplane/net/byte_order.h"

namespace ep::dns {

class TcpFramer {
  public:
    // A query is a header, one question and an OPT record: far below this.
    // Longer ones are refused (the connection closes) rather than buffered.
    static constexpr uint32_t kMaxQuery = 1024;

    // Calls on_msg(const uint8_t *msg, uint32_t len) for every complete
    // message; false when a length prefix is over kMaxQuery. on_msg may
    // return bool: false means "cannot take it now" (no room for the
    // answer); the framer then keeps that message, stops, and *used says
    // how many of the n bytes it consumed; retry() offers the message again,
    // and feeding resumes with the bytes after *used.
    template <class F>
    bool feed(const uint8_t *p, size_t n, F &&on_msg, size_t *used = nullptr) {
        const size_t total = n;
        if (used) *used = 0;
        if (held_) return true;  // retry() first
        while (n > 0) {
            if (have_ < 2) {
                buf_[have_++] = *p++;
                --n;
                if (have_ == 2 && want() > kMaxQuery) return false;
                if (have_ < 2 || want() > 0) continue;
            } else {
                const uint32_t need = 2 + want() - have_;
                const uint32_t take = n < need ? static_cast<uint32_t>(n) : need;
                std::memcpy(buf_ + have_, p, take);
                have_ += take;
                p += take;
                n -= take;
            }
            if (have_ == 2 + want()) {
                if (!deliver(on_msg)) {
                    held_ = true;
                    if (used) *used = total - n;
                    return true;
                }
                have_ = 0;
            }
        }
        if (used) *used = total;
        return true;
    }
    // Offers the held message again; true when it was taken (or none was held).
    template <class F>
    bool retry(F &&on_msg) {
        if (!held_) return true;
        if (!deliver(on_msg)) return false;
        held_ = false;
        have_ = 0;
        return true;
    }
    void reset() { have_ = 0, held_ = false; }
    bool idle() const { return have_ == 0; }
    bool held() const { return held_; }

  private:
    template <class F>
    bool deliver(F &on_msg) {
        if constexpr (std::is_same_v<decltype(on_msg(buf_, 0u)), bool>) {
            return on_msg(buf_ + 2, want());
        } else {
            on_msg(buf_ + 2, want());
            return true;
        }
    }
    uint32_t want() const { return net::get16(buf_); }
    uint32_t have_ = 0;
    bool held_ = false;  // a whole message in buf_ waits for retry()
    uint8_t buf_[2 + kMaxQuery];
};

}  // namespace ep::dns
