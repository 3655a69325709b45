// What cluster selection hands the DNS server: for each steered owner name,
// client prefixes and the address set that should serve each of them. Plain
// data, built on the control thread (by the static --dns-steer table today,
// by cluster selection's compiler later), then compiled into the per-lcore
// read-only lookup tables (LPM) that implement dns::Steering and published
// with RCU. Adjacent prefixes with the same answer should be aggregated by
// whoever builds the map, because the prefix length of a route is the ECS
// SCOPE sent back (RFC 7871 7.2.1) and so decides how many answers
// resolvers cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ep::dns {

struct SteerMap {
    struct AnswerSet {
        uint32_t ttl = 60;
        std::vector<uint8_t> v4;  // n x 4 bytes, answers to A
        std::vector<uint8_t> v6;  // n x 16 bytes, answers to AAAA
    };
    struct Route {
        std::string owner;  // lower-case wire name of the steered owner
        uint16_t family = 1;  // 1 IPv4, 2 IPv6 (RFC 7871 FAMILY)
        uint8_t prefix = 0;   // client prefix length: the SCOPE answered
        uint8_t net[16] = {};
        uint32_t set = 0;  // index into sets
    };
    std::vector<AnswerSet> sets;
    std::vector<Route> routes;
    uint64_t version = 0;  // increases with every publication
};

}  // namespace ep::dns
