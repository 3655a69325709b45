// Microbenchmark of the DNS answer path (dataplane/dns): respond() on a
// query in a buffer, answered in place, as DnsService::on_datagram does for
// every UDP query. No NIC, no stack: the protocol work alone, the number the
// issue's cycles-per-query goal (600 per steered query) is about.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "control/dns_zones.h"
#include "dataplane/dns/answer.h"
#include "dataplane/dns/steering.h"
#include "tests/dns/test_zone.h"

using namespace ep::dns;

namespace {

std::vector<uint8_t> query(const char *name, uint16_t type, bool ecs) {
    std::vector<uint8_t> m = {0x12, 0x34, 0x01, 0x00, 0, 1,
                              0,    0,    0,    0,    0, static_cast<uint8_t>(ecs ? 1 : 0)};
    uint8_t n[kMaxName];
    uint32_t len = 0;
    name_from_text(name, n, &len);
    m.insert(m.end(), n, n + len);
    m.insert(m.end(), {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1});
    if (ecs)  // OPT, payload 1232, ECS 198.51.100.0/24
        m.insert(m.end(),
                 {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 11, 0, 8, 0, 7, 0, 1, 24, 0, 198, 51, 100});
    return m;
}

void run(benchmark::State &state, const char *name, uint16_t type, bool ecs, bool steer) {
    std::string err;
    static auto table = ep::load_zone_texts({{"t", kTestZone}, {"o", kOtherZone}}, &err);
    StaticSteering st;
    StaticSteering::Row row;
    const uint8_t www[] =
        "\x03www\x07"
        "example\x04test";
    row.owner.assign(reinterpret_cast<const char *>(www), sizeof www);
    row.prefix = 24;
    row.net[0] = 198;
    row.net[1] = 51;
    row.net[2] = 100;
    row.addrs = {203, 0, 113, 7};
    st.add(row);
    AnswerEnv env;
    env.zones = table.get();
    env.steering = steer ? &st : nullptr;
    const std::vector<uint8_t> q = query(name, type, ecs);
    uint8_t buf[2048];
    Counters c;
    for (auto _ : state) {
        std::memcpy(buf, q.data(), q.size());  // the NIC's write, in effect
        const int n = respond(buf, static_cast<uint32_t>(q.size()), buf, sizeof buf, env, c);
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK_CAPTURE(run, a_plain, "www.example.test", kA, false, false);
BENCHMARK_CAPTURE(run, a_ecs_steered, "www.example.test", kA, true, true);
BENCHMARK_CAPTURE(run, a_ecs_not_steered, "www.example.test", kA, true, false);
BENCHMARK_CAPTURE(run, cname_chain, "chain.example.test", kA, false, false);
BENCHMARK_CAPTURE(run, nxdomain, "nope.example.test", kA, false, false);
BENCHMARK_CAPTURE(run, referral, "a.child.example.test", kA, false, false);
BENCHMARK_MAIN();
