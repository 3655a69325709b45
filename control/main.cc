// edgeplane: the CDN edge appliance daemon.
#include <csignal>
#include <cstdio>

#include "control/config.h"
#include "control/daemon.h"
#include "control/log.h"

namespace {
std::atomic<bool> g_stop{false};
std::atomic<bool> g_hup{false};
std::atomic<bool> g_term{false};
std::atomic<bool> g_usr1{false};
void on_signal(int sig) {
    (sig == SIGHUP    ? g_hup
     : sig == SIGTERM ? g_term
     : sig == SIGUSR1 ? g_usr1
                      : g_stop)
        .store(true);
}
}  // namespace

int main(int argc, char **argv) {
    ep::Config cfg;
    if (int rc = ep::parse_config(argc, argv, &cfg); rc >= 0) return rc;
    if (!cfg.check_config.empty()) {
        // Everything that can be judged without EAL passed. Free hugepages are
        // not judged: a running daemon holds them while its next config is checked.
        std::printf("edgeplane: %s: ok (%zu port(s), %zu data lcore(s), http port %u%s%s)\n",
                    cfg.check_config.c_str(), cfg.ports.size(), cfg.data_lcores.size(),
                    cfg.http_port, cfg.metrics_listen.empty() ? "" : ", metrics at ",
                    cfg.metrics_listen.c_str());
        return 0;
    }
    // Before EAL: a RAM tier that cannot fit would otherwise fail later as
    // "out of memory" with hugepages already taken.
    if (const std::string err = ep::memory_error(cfg, ep::free_hugepages()); !err.empty()) {
        std::fprintf(stderr, "edgeplane: %s\n", err.c_str());
        return 2;
    }

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // The default action of SIGHUP kills the process without the clean-up
    // below. Operators send it expecting a reload; until live reload exists
    // the control loop logs it and carries on.
    sigaction(SIGHUP, &sa, nullptr);
    // logrotate's postrotate: reopen the access log (its default kills).
    sigaction(SIGUSR1, &sa, nullptr);
    // A peer gone from a socket must be an EPIPE, not the end of the
    // process: virtio-user's vhost-user control socket (DPDK writes to it
    // without MSG_NOSIGNAL when the port stops after the vhost side left)
    // and the admin/metrics sockets' clients.
    signal(SIGPIPE, SIG_IGN);

    ep::set_log_format(ep::log_format_of(cfg.log_format));
    ep::Daemon daemon(std::move(cfg));
    const bool ok = daemon.start();
    if (ok) daemon.run(g_stop, g_hup, g_term, g_usr1);
    const int rc = daemon.shutdown();
    return ok ? rc : 1;
}
