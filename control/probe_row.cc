#include "control/probe_row.h"

#include <rte_random.h>

#include <cstdlib>

#include "dataplane/lcore.h"
#include "dataplane/port.h"
#include "dataplane/probe_service.h"

namespace ep {

namespace {
ProbeChannel *g_made = nullptr;
bool g_service_made = false;
}  // namespace

bool parse_probe_ports(const std::string &s, std::vector<uint16_t> *out, std::string *err) {
    out->clear();
    std::size_t at = 0;
    while (at <= s.size()) {
        const std::size_t comma = s.find(',', at);
        const std::string one =
            s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        char *end = nullptr;
        const long v = std::strtol(one.c_str(), &end, 10);
        if (one.empty() || !end || *end != 0 || v < 1 || v > 65535) {
            *err = "bad port '" + one + "' in '" + s + "' (want PORT[,PORT...])";
            return false;
        }
        out->push_back(static_cast<uint16_t>(v));
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    return true;
}

bool setup_probe(const ServiceSetup &s, std::string *err) {
    const Config &c = s.cfg;
    g_service_made = false;
    if (c.probes == "off" || c.clusters.empty() || c.cluster_self.empty() || c.probe_rate <= 0)
        return true;
    auto ch = std::make_unique<ProbeChannel>();
    ProbeSettings &ps = ch->settings;
    ps.mode = c.probes;
    ps.interval_s = c.probe_interval_s;
    ps.retry_s = c.probe_retry_s;
    // Checked by parse_config already (config.cc).
    if (!parse_probe_ports(c.probe_ldns_ports, &ps.ldns_ports, err) ||
        !parse_probe_ports(c.probe_client_ports, &ps.client_ports, err))
        return false;
    if (!ch->init(err)) return false;
    g_made = ch.release();
    set_probe_channel(g_made);
    return true;
}

void teardown_probe() {
    set_probe_channel(nullptr);
    if (g_made) {
        g_made->teardown();
        delete g_made;
        g_made = nullptr;
    }
}

std::unique_ptr<Service> make_probe(const ServiceEnv &env, std::string *err) {
    ProbeChannel *ch = probe_channel();
    if (!ch || g_service_made) return nullptr;
    probe::Config pc;
    pc.rate_per_s = env.cfg.probe_rate;
    // A burst of a tenth of a second's worth: a new target list goes out
    // promptly without ever exceeding rate x window + burst.
    pc.burst = env.cfg.probe_rate >= 10 ? static_cast<uint32_t>(env.cfg.probe_rate / 10) : 1;
    pc.timeout_ns = uint64_t{env.cfg.probe_timeout_ms} * 1'000'000;
    pc.seed = rte_rand();
    auto svc = std::make_unique<ProbeService>();
    if (!svc->init(env.lc, env.q, ch, pc)) {
        *err = "probe: cannot start";
        return nullptr;
    }
    env.q->probe = svc.get();
    g_service_made = true;
    return svc;
}

}  // namespace ep
