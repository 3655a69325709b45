// What the control thread and the probing data lcore say to each other over
// their two SPSC rings (dataplane/probe_service.h): one Request per probe to
// send, one Result per probe answered or given up. Plain structs, no DPDK:
// control/cluster/probe_targets.h builds requests and reads results too.
#pragma once

#include <cstdint>

namespace ep::probe {

// ICMP echo (RFC 792) or a TCP SYN (RFC 9293 3.5: a SYN-ACK or a RST for the
// SYN both answer it).
enum class Method : uint8_t { kIcmp = 0, kTcp = 1 };

struct Request {
    uint32_t target = 0;  // IPv4 address, network order
    uint32_t cookie = 0;  // the asker's id, given back in the Result
    uint16_t port = 0;    // TCP destination port, host order (ICMP: 0)
    Method method = Method::kIcmp;
    uint8_t pad = 0;
    uint32_t pad2 = 0;
};
static_assert(sizeof(Request) == 16, "rte_ring elements: a multiple of 4 bytes");

enum class Outcome : uint8_t {
    kAnswered = 0,    // echo reply, or SYN-ACK (we then sent a RST)
    kReset = 1,       // a RST for our SYN: the host is there, the port closed
    kUnanswered = 2,  // nothing within the timeout
    kNoRoute = 3,     // the next hop never answered ARP: the probe was not sent
};

struct Result {
    uint32_t target = 0;  // network order
    uint32_t cookie = 0;
    uint32_t rtt_us = 0;  // answered / reset: send to receipt
    uint16_t port = 0;
    Method method = Method::kIcmp;
    Outcome outcome = Outcome::kUnanswered;
};
static_assert(sizeof(Result) == 16, "rte_ring elements: a multiple of 4 bytes");

inline bool answered(Outcome o) {
    return o == Outcome::kAnswered || o == Outcome::kReset;
}
inline const char *method_name(Method m) {
    return m == Method::kIcmp ? "icmp" : "tcp";
}

}  // namespace ep::probe
