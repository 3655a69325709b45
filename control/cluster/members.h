// Appliances as membership reports them (etcd, control/membership.h): what
// one appliance says of itself under its lease, and the JSON it is stored
// as. Pure: the record and its encoding, no I/O.
//
// Value of the key <prefix><cluster>/<name>, JSON (etcd stores it as bytes):
//   {"name":"paris-1","cluster":"paris","v4":["10.77.0.2"],"v6":[],
//    "health":"up","conns":12,"tx_gbps":0.4,
//    "titles":["6Y7B23V"],"titles_more":0,
//    "measured":[["198.51.100.0/24",9.25,0.5,3.2,4]]}   (measurement_share.h)
// The title summary is the list of title names the appliance holds (the
// first path component of its objects), cut at kMaxTitles with the number
// left out in titles_more: a catalog of a few hundred titles is a few KiB,
// well under etcd's 1.5 MiB request limit. A Bloom filter would bound the
// size for big catalogs at the price of false positives; not needed yet.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control/cluster/measurement_share.h"
#include "control/cluster/model.h"

namespace ep::cluster {

inline constexpr std::size_t kMaxTitles = 1024;

struct Member {
    std::string name;
    std::string cluster;
    std::vector<std::array<uint8_t, 4>> v4;
    std::vector<std::array<uint8_t, 16>> v6;
    Health health = Health::kUp;
    uint64_t conns = 0;               // open TCP connections (load)
    double tx_gbps = 0;               // transmit rate over the last report (load)
    std::vector<std::string> titles;  // sorted, at most kMaxTitles
    uint64_t titles_more = 0;         // titles left out of the list
    // Its own cluster's measurements it shares (measurement_share.h).
    std::vector<MeasuredBlock> measured;
    bool operator==(const Member &o) const;
};

std::string encode_member(const Member &m);
// False with *err on anything malformed (a foreign writer under our prefix).
bool decode_member(std::string_view json, Member *m, std::string *err);

// True when the member says it holds `title`.
bool member_holds(const Member &m, std::string_view title);

}  // namespace ep::cluster
