// Great-circle distances. Locations are also kept as unit vectors so the
// hot loop ranks clusters by squared chord length (three multiply-adds, no
// trigonometry): the chord grows with the great-circle angle, so the
// ranking is the haversine's, and only the few kept get the asin.
#pragma once

#include <algorithm>
#include <cmath>

namespace ep::cluster {

inline constexpr double kEarthKm = 6371.0088;  // mean radius (IUGG)
inline constexpr double kDeg = 3.14159265358979323846 / 180.0;

// The haversine formula (R. W. Sinnott, "Virtues of the Haversine", 1984).
inline double haversine_km(double lat1, double lon1, double lat2, double lon2) {
    const double dlat = (lat2 - lat1) * kDeg, dlon = (lon2 - lon1) * kDeg;
    const double a =
        std::sin(dlat / 2) * std::sin(dlat / 2) +
        std::cos(lat1 * kDeg) * std::cos(lat2 * kDeg) * std::sin(dlon / 2) * std::sin(dlon / 2);
    return 2 * kEarthKm * std::asin(std::min(1.0, std::sqrt(a)));
}

struct Vec3 {
    float x = 0, y = 0, z = 0;
};

inline Vec3 unit_vector(double lat, double lon) {
    return {static_cast<float>(std::cos(lat * kDeg) * std::cos(lon * kDeg)),
            static_cast<float>(std::cos(lat * kDeg) * std::sin(lon * kDeg)),
            static_cast<float>(std::sin(lat * kDeg))};
}

inline float chord2(const Vec3 &a, const Vec3 &b) {
    const float dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
    return dx * dx + dy * dy + dz * dz;
}

// Squared chord of unit vectors to kilometres along the surface.
inline double chord2_to_km(float c2) {
    return 2 * kEarthKm * std::asin(std::min(1.0, std::sqrt(static_cast<double>(c2)) / 2));
}

// The same in float, for the hot loop (0.01 km resolution is plenty for
// a score in milliseconds).
inline float chord2_to_km_f(float c2) {
    return 2 * static_cast<float>(kEarthKm) * std::asin(std::min(1.0f, std::sqrt(c2) / 2));
}

}  // namespace ep::cluster
