// Candidate pruning: which clusters a client is scored against. The globe
// is cut into cells of kCellDeg x kCellDeg degrees; for every cell that
// holds a client, the list holds every usable cluster that can be among the
// k nearest of any point of the cell: with d_k the distance from the cell's
// centre to its k-th nearest cluster and r the distance from the centre to
// its farthest corner, every cluster within d_k + 2r of the centre (a point
// p of the cell has k clusters within d_k + r, by the triangle inequality;
// each of its k nearest is then within d_k + 2r of the centre). A client
// ranks its cell's list by chord length and keeps the k nearest exactly, so
// a recompute costs clients x (list length) multiply-adds, not clients x
// clusters distances.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "control/cluster/geo.h"

namespace ep::cluster {

class CandidateGrid {
  public:
    static constexpr double kCellDeg = 2.0;
    static constexpr uint32_t kRows = 90, kCols = 180;
    static uint32_t cell_of(double lat, double lon);

    // clusters: unit vectors; usable[i] false leaves cluster i out; cells:
    // the cells to fill (others stay empty).
    void build(const std::vector<Vec3> &clusters, const std::vector<uint8_t> &usable, unsigned k,
               const std::vector<uint32_t> &cells);
    std::span<const uint16_t> cell(uint32_t c) const {
        return {ids_.data() + start_[c], ids_.data() + start_[c + 1]};
    }
    std::size_t entries() const { return ids_.size(); }

  private:
    std::vector<uint32_t> start_;  // kRows * kCols + 1 offsets into ids_
    std::vector<uint16_t> ids_;
};

}  // namespace ep::cluster
