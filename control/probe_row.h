// The service table's "probe" row (control/service_table.cc): the active
// prober of cluster selection (dataplane/probe_service.h). Its own file so
// the table stays one line per service.
#pragma once

#include <memory>
#include <string>

#include "control/service_table.h"

namespace ep {

// Makes the rings when probes may run: --probes not off, --clusters and
// --cluster-self given, --probe-rate above 0.
bool setup_probe(const ServiceSetup &s, std::string *err);
void teardown_probe();
// The prober, on the first queue it is asked for (the first data lcore's
// queue of the first port); nullptr for every other queue.
std::unique_ptr<Service> make_probe(const ServiceEnv &env, std::string *err);

// "53", "80,443": ports 1..65535, at least one. False with *err.
bool parse_probe_ports(const std::string &s, std::vector<uint16_t> *out, std::string *err);

}  // namespace ep
