// Finds a helper script of edgebench (compare.py, swarm_sim_plot.py): the
// environment variable `env` if set, else bench/edgebench/NAME in every
// parent of the running binary (a build dir inside the tree), else the
// source tree this build was configured from (EP_SOURCE_ROOT). Every place
// tried is appended to *tried for the error message when none has it.
#pragma once

#include <string>

namespace ep::bench {

std::string find_script(const char *name, const char *env, std::string *tried);

}  // namespace ep::bench
