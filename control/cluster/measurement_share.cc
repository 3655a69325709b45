#include "control/cluster/measurement_share.h"

#include <cmath>
#include <limits>

#include "control/cluster/members.h"

namespace ep::cluster {

using nlohmann::json;

namespace {

float round2(double v) {
    return static_cast<float>(std::round(v * 100) / 100);
}
// As a double with two decimals, so the JSON says 0.1 and not 0.100000001.
double json2(float v) {
    return std::round(double{v} * 100) / 100;
}

}  // namespace

std::vector<MeasuredBlock> blocks_to_publish(const Measurements &m, uint16_t cluster, std::size_t k,
                                             double now_s) {
    std::vector<MeasuredBlock> out;
    for (const Measurements::Shared &s : m.top_local(cluster, k, now_s)) {
        MeasuredBlock b;
        b.block = s.block;
        b.rtt_ms = round2(s.rtt_ms);
        b.loss_pct = round2(s.loss_pct);
        b.weight = round2(s.weight);
        b.age_s = std::floor(s.age_s);
        if (b.weight > 0) out.push_back(b);
    }
    return out;
}

json encode_blocks(const std::vector<MeasuredBlock> &bs) {
    json a = json::array();
    for (const MeasuredBlock &b : bs)
        a.push_back(json::array(
            {to_string(b.block), json2(b.rtt_ms), json2(b.loss_pct), json2(b.weight), b.age_s}));
    return a;
}

bool decode_blocks(const json &j, std::vector<MeasuredBlock> *out, std::string *err) {
    if (!j.is_array()) return *err = "measured is not an array", false;
    out->clear();
    for (const json &e : j) {
        if (!e.is_array() || e.size() != 5 || !e[0].is_string())
            return *err = "measured: an entry is not [block, rtt_ms, loss_pct, weight, age_s]",
                   false;
        for (int i = 1; i < 5; ++i)
            if (!e[i].is_number() || e[i].get<double>() < 0)
                return *err = "measured: not a number >= 0", false;
        // rtt_ms, loss_pct and weight are floats: a larger figure would
        // convert to infinity (undefined in C++) and be written back as null.
        for (int i = 1; i < 4; ++i)
            if (e[i].get<double>() > std::numeric_limits<float>::max())
                return *err = "measured: a figure too large", false;
        MeasuredBlock b;
        std::string why;
        if (!parse_prefix(e[0].get<std::string>(), &b.block, &why))
            return *err = "measured: " + why, false;
        b.rtt_ms = e[1].get<float>();
        b.loss_pct = e[2].get<float>();
        b.weight = e[3].get<float>();
        b.age_s = e[4].get<double>();
        if (out->size() < kShareBlocks) out->push_back(b);
    }
    return true;
}

std::size_t import_members(Measurements &m, const std::vector<Member> &members,
                           const std::string &self,
                           const std::function<int32_t(const std::string &)> &cluster_of,
                           double now_s) {
    std::vector<uint16_t> stale = m.sources();  // what is not re-read below goes
    std::size_t n = 0;
    for (const Member &mb : members) {
        if (mb.name == self) continue;
        const uint16_t src = m.source_id(mb.name);
        std::erase(stale, src);
        std::vector<Measurements::Shared> entries;
        const int32_t c = cluster_of(mb.cluster);
        if (c >= 0)
            for (const MeasuredBlock &b : mb.measured)
                entries.push_back(
                    {static_cast<uint16_t>(c), b.block, b.rtt_ms, b.loss_pct, b.weight, b.age_s});
        n += entries.size();
        m.replace_source(src, entries, now_s);
    }
    for (uint16_t src : stale) m.replace_source(src, {}, now_s);
    return n;
}

}  // namespace ep::cluster
