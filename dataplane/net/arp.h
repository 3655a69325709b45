// ARP for IPv4 over Ethernet (RFC 826), with gratuitous ARP (RFC 5227 §3)
// announcements. Pure: frames in, verdicts and rewritten frames out.
#pragma once

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/net/arp_table.h"
#include "dataplane/net/port_address.h"

namespace ep::net {

enum class ArpAction : uint8_t {
    reply,     // the frame was rewritten in place into a reply: transmit it
    consumed,  // learned or refreshed a neighbour; nothing to send
    drop,      // see reason
};

struct ArpVerdict {
    ArpAction action = ArpAction::drop;
    Drop reason = Drop::none;
    bool learned = false;  // a new neighbour entry was created
};

// Handles one received ARP frame (Ethernet header included). `len` is the
// frame length; `now` is any monotonic clock the table's ages are kept in.
ArpVerdict process_arp(uint8_t *frame, uint32_t len, const PortAddress &port, ArpTable &table,
                       uint64_t now);

inline constexpr uint32_t kArpFrameLen = 60;  // 42 bytes padded to the Ethernet minimum

// Writes a broadcast ARP request for target_ip into buf (kArpFrameLen bytes).
// A gratuitous announcement is a request whose target is our own address.
// With `unicast_to`, the frame goes to that MAC only: RFC 1122 2.3.2.1's
// unicast poll of a neighbour whose entry is getting old.
uint32_t build_arp_request(uint8_t *buf, const PortAddress &port, uint32_t target_ip,
                           const rte_ether_addr *unicast_to = nullptr);

}  // namespace ep::net
