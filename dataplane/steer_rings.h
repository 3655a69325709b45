// The steering stage's rings (tcp/port_steer.h, LcoreQueue::steer_*): one
// multi-producer/single-consumer rte_ring per lcore and port, made on the
// control thread before the lcores run, freed (with what they still hold)
// after they stopped.
#pragma once

#include <string>
#include <vector>

#include "dataplane/lcore.h"

namespace ep {

// Gives every lcore its slice of `ephemeral` (written to *slices, one per
// lcore in order) and wires the rings; fails (with *err) on too many lcores
// or no memory. With one lcore it does nothing.
bool steer_setup(const std::vector<Lcore *> &lcores, const tcp::PortSteer &ephemeral,
                 std::vector<tcp::PortSteer> *slices, std::string *err);
void steer_teardown(const std::vector<Lcore *> &lcores);

}  // namespace ep
