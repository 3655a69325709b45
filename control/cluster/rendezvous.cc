#include "control/cluster/rendezvous.h"

#include <xxhash.h>

#include <algorithm>

namespace ep::cluster {

uint64_t hrw_weight(std::string_view title, std::string_view member) {
    const uint64_t seed = XXH3_64bits(member.data(), member.size());
    return XXH3_64bits_withSeed(title.data(), title.size(), seed);
}

std::vector<uint32_t> hrw_top(std::string_view title, const std::vector<std::string_view> &members,
                              unsigned k) {
    std::vector<std::pair<uint64_t, uint32_t>> w(members.size());
    for (uint32_t i = 0; i < members.size(); ++i) w[i] = {hrw_weight(title, members[i]), i};
    const std::size_t n = std::min<std::size_t>(k, w.size());
    std::partial_sort(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(n), w.end(),
                      [&](const auto &a, const auto &b) {
                          if (a.first != b.first) return a.first > b.first;
                          return members[a.second] < members[b.second];
                      });
    std::vector<uint32_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = w[i].second;
    return out;
}

}  // namespace ep::cluster
