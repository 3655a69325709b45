#include "control/cluster/client_index.h"

#include <algorithm>
#include <cstring>

namespace ep::cluster {

ClientIndex::Key ClientIndex::key_of(const Prefix &p) {
    Key k{0, 0};
    std::memcpy(&k.hi, p.net, 8);
    std::memcpy(&k.lo, p.net + 8, 8);
    return k;
}

void ClientIndex::build(const std::vector<ClientNet> &clients) {
    for (auto &f : by_len_)
        for (auto &m : f) m.clear();
    bool present[2][129] = {};
    for (uint32_t i = 0; i < clients.size(); ++i) {
        const Prefix &p = clients[i].prefix;
        const int f = p.family == 1 ? 0 : 1;
        by_len_[f][p.len][key_of(p)] = i;
        present[f][p.len] = true;
    }
    for (int f = 0; f < 2; ++f) {
        lengths_[f].clear();
        for (int l = 128; l >= 0; --l)
            if (present[f][l]) lengths_[f].push_back(static_cast<uint8_t>(l));
    }
}

int32_t ClientIndex::find(const Prefix &p) const {
    const int f = p.family == 1 ? 0 : 1;
    for (uint8_t l : lengths_[f]) {
        if (l > p.len) continue;
        const auto &m = by_len_[f][l];
        const auto it = m.find(key_of(truncate(p, l)));
        if (it != m.end()) return static_cast<int32_t>(it->second);
    }
    return -1;
}

}  // namespace ep::cluster
