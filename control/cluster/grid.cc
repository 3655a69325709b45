#include "control/cluster/grid.h"

#include <algorithm>
#include <cmath>

namespace ep::cluster {

uint32_t CandidateGrid::cell_of(double lat, double lon) {
    int r = static_cast<int>((lat + 90) / kCellDeg);
    int c = static_cast<int>((lon + 180) / kCellDeg);
    r = std::clamp(r, 0, static_cast<int>(kRows) - 1);
    c = std::clamp(c, 0, static_cast<int>(kCols) - 1);
    return static_cast<uint32_t>(r) * kCols + static_cast<uint32_t>(c);
}

void CandidateGrid::build(const std::vector<Vec3> &clusters, const std::vector<uint8_t> &usable,
                          unsigned k, const std::vector<uint32_t> &cells) {
    std::vector<std::vector<uint16_t>> lists(kRows * kCols);
    std::vector<std::pair<double, uint16_t>> d;
    for (uint32_t cell : cells) {
        const double lat0 = -90 + (cell / kCols) * kCellDeg,
                     lon0 = -180 + (cell % kCols) * kCellDeg;
        const double clat = lat0 + kCellDeg / 2, clon = lon0 + kCellDeg / 2;
        double r = 0;
        for (double a : {lat0, lat0 + kCellDeg})
            for (double b : {lon0, lon0 + kCellDeg})
                r = std::max(r, haversine_km(clat, clon, a, b));
        for (double b : {lon0, lon0 + kCellDeg}) r = std::max(r, haversine_km(clat, clon, clat, b));
        r += 1;  // float rounding of the unit vectors
        const Vec3 c = unit_vector(clat, clon);
        // Ranked and cut in chord space: no trigonometry per cluster.
        d.clear();
        for (uint32_t i = 0; i < clusters.size(); ++i)
            if (usable[i]) d.push_back({chord2(c, clusters[i]), static_cast<uint16_t>(i)});
        if (d.empty()) continue;
        const std::size_t kk = std::min<std::size_t>(k, d.size());
        std::nth_element(d.begin(), d.begin() + static_cast<long>(kk - 1), d.end());
        const double limit_km = chord2_to_km(static_cast<float>(d[kk - 1].first)) + 2 * r;
        const double half = std::min(limit_km / (2 * kEarthKm), 3.14159265358979 / 2);
        const double limit = 4 * std::sin(half) * std::sin(half) * (1 + 1e-5);
        auto &l = lists[cell];
        for (const auto &[c2, id] : d)
            if (c2 <= limit) l.push_back(id);
    }
    start_.assign(kRows * kCols + 1, 0);
    ids_.clear();
    for (uint32_t i = 0; i < kRows * kCols; ++i) {
        start_[i] = static_cast<uint32_t>(ids_.size());
        ids_.insert(ids_.end(), lists[i].begin(), lists[i].end());
    }
    start_[kRows * kCols] = static_cast<uint32_t>(ids_.size());
}

}  // namespace ep::cluster
