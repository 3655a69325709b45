#include "control/cluster/members.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ep::cluster {

using nlohmann::json;

bool Member::operator==(const Member &o) const {
    return name == o.name && cluster == o.cluster && v4 == o.v4 && v6 == o.v6 &&
           health == o.health && conns == o.conns && tx_gbps == o.tx_gbps && titles == o.titles &&
           titles_more == o.titles_more && measured == o.measured;
}

std::string encode_member(const Member &m) {
    json j;
    j["name"] = m.name;
    j["cluster"] = m.cluster;
    json v4 = json::array(), v6 = json::array();
    char b[INET6_ADDRSTRLEN];
    for (const auto &a : m.v4) v4.push_back(inet_ntop(AF_INET, a.data(), b, sizeof b));
    for (const auto &a : m.v6) v6.push_back(inet_ntop(AF_INET6, a.data(), b, sizeof b));
    j["v4"] = v4;
    j["v6"] = v6;
    j["health"] = health_name(m.health);
    j["conns"] = m.conns;
    j["tx_gbps"] = m.tx_gbps;
    j["titles"] = m.titles;
    j["titles_more"] = m.titles_more;
    if (!m.measured.empty()) j["measured"] = encode_blocks(m.measured);
    return j.dump();
}

bool decode_member(std::string_view text, Member *out, std::string *err) {
    const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return *err = "not a JSON object", false;
    Member m;
    auto str = [&](const char *k, std::string *v) {
        auto it = j.find(k);
        if (it == j.end() || !it->is_string()) return false;
        *v = it->get<std::string>();
        return true;
    };
    std::string health;
    if (!str("name", &m.name) || m.name.empty() || !str("cluster", &m.cluster) || m.cluster.empty())
        return *err = "name and cluster are required strings", false;
    if (str("health", &health) && !parse_health(health, &m.health))
        return *err = "bad health '" + health + "'", false;
    for (const char *fam : {"v4", "v6"}) {
        auto it = j.find(fam);
        if (it == j.end()) continue;
        if (!it->is_array()) return *err = std::string(fam) + " is not an array", false;
        for (const json &a : *it) {
            if (!a.is_string()) return *err = std::string(fam) + ": not a string", false;
            const std::string s = a.get<std::string>();
            if (fam[1] == '4') {
                std::array<uint8_t, 4> v;
                if (inet_pton(AF_INET, s.c_str(), v.data()) != 1)
                    return *err = "bad IPv4 address '" + s + "'", false;
                m.v4.push_back(v);
            } else {
                std::array<uint8_t, 16> v;
                if (inet_pton(AF_INET6, s.c_str(), v.data()) != 1)
                    return *err = "bad IPv6 address '" + s + "'", false;
                m.v6.push_back(v);
            }
        }
    }
    if (auto it = j.find("conns"); it != j.end() && it->is_number_unsigned())
        m.conns = it->get<uint64_t>();
    if (auto it = j.find("tx_gbps"); it != j.end() && it->is_number())
        m.tx_gbps = it->get<double>();
    if (auto it = j.find("titles_more"); it != j.end() && it->is_number_unsigned())
        m.titles_more = it->get<uint64_t>();
    if (auto it = j.find("titles"); it != j.end()) {
        if (!it->is_array()) return *err = "titles is not an array", false;
        for (const json &t : *it)
            if (t.is_string() && m.titles.size() < kMaxTitles)
                m.titles.push_back(t.get<std::string>());
        std::sort(m.titles.begin(), m.titles.end());
    }
    if (auto it = j.find("measured"); it != j.end()) {
        std::string why;
        if (!decode_blocks(*it, &m.measured, &why)) return *err = why, false;
    }
    *out = std::move(m);
    return true;
}

bool member_holds(const Member &m, std::string_view title) {
    return std::binary_search(m.titles.begin(), m.titles.end(), title);
}

}  // namespace ep::cluster
