// `edgebench dns`'s check that a response answers a query in flight: the
// 16-bit id of every query sent and not yet answered, so that a response
// with an id never sent, or a second response to one query, is counted as
// bad instead of as an answer (RFC 1035 4.1.1: the id "is copied to the
// corresponding reply ... to match up replies to outstanding queries").
// Ids are the query's sequence number mod 2^16, so the window must stay
// under 65,536 queries (the command refuses more).
#pragma once

#include <bitset>
#include <cstdint>

namespace ep::bench {

class DnsIdsInFlight {
  public:
    static constexpr uint32_t kMaxWindow = 65535;
    static uint16_t id_of(uint64_t seq) { return static_cast<uint16_t>(seq); }
    void sent(uint64_t seq) { flight_.set(id_of(seq)); }
    // True once per id sent: clears it.
    bool answer(uint16_t id) {
        if (!flight_.test(id)) return false;
        flight_.reset(id);
        return true;
    }

  private:
    std::bitset<65536> flight_;
};

}  // namespace ep::bench
