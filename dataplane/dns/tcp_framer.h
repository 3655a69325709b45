// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766 8): each message is
// preceded by its length as two bytes. Bytes arrive in arbitrary pieces; the
// framer hands on each whole message in order, so pipelined queries are
// answered in the order they were sent (RFC 7766 6.2.1.1 allows any order;
// in order is what every client handles). Pure, one per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ep::dns {

class TcpFramer {
  public:
    // A query is a header, one question and an OPT record: far below this.
    // Longer ones are refused (the connection closes) rather than buffered.
    static constexpr uint32_t kMaxQuery = 1024;

    // Calls on_msg(const uint8_t *msg, uint32_t len) for every complete
    // message; false when a length prefix is over kMaxQuery.
    template <class F>
    bool feed(const uint8_t *p, size_t n, F &&on_msg) {
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
                on_msg(buf_ + 2, want());
                have_ = 0;
            }
        }
        return true;
    }
    void reset() { have_ = 0; }
    bool idle() const { return have_ == 0; }

  private:
    uint32_t want() const { return static_cast<uint32_t>(buf_[0]) << 8 | buf_[1]; }
    uint32_t have_ = 0;
    uint8_t buf_[2 + kMaxQuery];
};

}  // namespace ep::dns
