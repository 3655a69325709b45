// Rendezvous (highest random weight) hashing: which appliances of a cluster
// hold a title, so a cluster caches each title k times instead of on every
// box (Thaler and Ravishankar, "Using name-based mappings to increase hit
// rates", IEEE/ACM ToN 1998). Every appliance computes the same placement
// from the same member list, with no coordination: each (title, member)
// pair gets a pseudo-random weight and the k highest win. When a member
// leaves, only the titles it held move (to each one's next-highest member);
// when one joins, it takes about 1/n of the titles and nothing else moves.
// Chosen over Maglev because member lists are small (an appliance per
// server of one cluster) and the DNS answer is computed per (title,
// cluster) once per recompute, not per packet: k x n hashes cost nothing
// here and need no lookup table to rebuild.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace ep::cluster {

// The weight of `member` for `title`: XXH3-64 of the title seeded with a
// hash of the member's name (libxxhash, already used by the chunk store).
uint64_t hrw_weight(std::string_view title, std::string_view member);

// Indices into `members` of the min(k, n) highest-weight members for
// `title`, best first. Ties (a 2^-64 event) are broken by name order so
// every appliance agrees.
std::vector<uint32_t> hrw_top(std::string_view title, const std::vector<std::string_view> &members,
                              unsigned k);

}  // namespace ep::cluster
