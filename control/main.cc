// edgeplane: the CDN edge appliance daemon.
#include <csignal>
#include <cstdio>

#include "control/config.h"
#include "control/daemon.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char **argv) {
    ep::Config cfg;
    if (int rc = ep::parse_config(argc, argv, &cfg); rc >= 0) return rc;

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    ep::Daemon daemon(std::move(cfg));
    const bool ok = daemon.start();
    if (ok) daemon.run(g_stop);
    const int rc = daemon.shutdown();
    return ok ? rc : 1;
}
