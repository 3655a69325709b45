// What a UDP service implements, and the per-queue table that binds local
// ports to services. The packet path parses and checks each datagram
// (udp.h), then hands the one for a bound port to its handler, which may
// answer in the received buffer itself (l3fwd style: no allocation, the
// packet path swaps addresses and ports and fixes the checksums).
#pragma once

#include <cstdint>

namespace ep::net::udp {

struct Datagram {
    uint32_t src_ip = 0;         // network order
    uint32_t dst_ip = 0;         // network order
    uint16_t src_port = 0;       // host order
    uint16_t dst_port = 0;       // host order
    uint8_t *payload = nullptr;  // writable: the reply may be built over it
    uint16_t len = 0;
    uint16_t room = 0;  // bytes writable at payload for a reply (buffer and MTU bound)
};

class Handler {
  public:
    virtual ~Handler() = default;
    // Returns the length of the reply left at d.payload (<= d.room), or -1
    // when the datagram was consumed without a reply. Fast path: no locks,
    // no syscalls, no allocation.
    virtual int on_datagram(Datagram &d) = 0;
};

// Local port -> handler, per queue. A handful of services: a linear scan of
// a fixed array beats hashing at this size.
class Bindings {
  public:
    static constexpr uint32_t kMax = 8;
    bool bind(uint16_t port, Handler *h) {
        if (n_ == kMax || find(port)) return false;
        ports_[n_] = port;
        handlers_[n_++] = h;
        return true;
    }
    Handler *find(uint16_t port) const {
        for (uint32_t i = 0; i < n_; ++i)
            if (ports_[i] == port) return handlers_[i];
        return nullptr;
    }

  private:
    uint16_t ports_[kMax] = {};
    Handler *handlers_[kMax] = {};
    uint32_t n_ = 0;
};

}  // namespace ep::net::udp
