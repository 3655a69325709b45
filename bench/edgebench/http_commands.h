// edgebench subcommands of the load generator (see commands.h for the rest).
#pragma once

namespace CLI {
class App;
}

namespace ep::bench {

void register_http(CLI::App &app);      // http_cmd.cc: load over DPDK with our TCP engine
void register_compare(CLI::App &app);   // compare_cmd.cc: edgeplane vs nginx per server core
void register_udp(CLI::App &app);       // udp_cmd.cc: UDP echo load (server cost per datagram)
void register_dns(CLI::App &app);       // dns_cmd.cc: DNS query load (server cost per query)
void register_synflood(CLI::App &app);  // synflood_cmd.cc: paced bare SYNs, raw socket

}  // namespace ep::bench
