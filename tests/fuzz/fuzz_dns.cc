// libFuzzer target: the DNS query parser and answer builder
// (dataplane/dns) against the unit tests' zone (a CNAME chain and loop, a
// wildcard, a delegation with glue, an RRset over 512 bytes), in place and
// into a separate buffer. Input: one control byte (transport, payload cap,
// buffer size, steering on/off), then the message.
//
// Invariants: the answer fits the buffer; both buffers give the same bytes;
// an answer carries the query's id with QR set and is a well-formed message
// (every name decodes with backward pointers only, the sections' counts
// match the bytes exactly).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "control/dns_zones.h"
#include "dataplane/dns/answer.h"
#include "dataplane/dns/rrl.h"
#include "dataplane/dns/steering.h"
#include "tests/dns/test_zone.h"

using namespace ep::dns;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

uint32_t skip_name(const uint8_t *m, uint32_t len, uint32_t off) {
    uint32_t o = off, end = 0, hops = 0;
    for (;;) {
        check(o < len);
        const uint8_t c = m[o];
        if ((c & 0xc0) == 0xc0) {
            check(o + 1 < len);
            const uint32_t t = (c & 0x3fu) << 8 | m[o + 1];
            check(t < o && ++hops < 128);
            if (!end) end = o + 2;
            o = t;
            continue;
        }
        check((c & 0xc0) == 0);
        if (c == 0) return end ? end : o + 1;
        o += c + 1u;
    }
}

void check_message(const uint8_t *m, uint32_t len) {
    check(len >= kHeaderLen);
    uint32_t off = kHeaderLen;
    for (uint32_t i = 0; i < get16(m + 4); ++i) {
        off = skip_name(m, len, off) + 4;
        check(off <= len);
    }
    const uint32_t rrs = uint32_t{get16(m + 6)} + get16(m + 8) + get16(m + 10);
    for (uint32_t i = 0; i < rrs; ++i) {
        off = skip_name(m, len, off);
        check(off + 10 <= len);
        const uint16_t type = get16(m + off), rdlen = get16(m + off + 8);
        off += 10;
        check(off + rdlen <= len);
        if (type == kCNAME || type == kNS) check(skip_name(m, len, off) == off + rdlen);
        off += rdlen;
    }
    check(off == len);
}

const ZoneTable *table() {
    static std::unique_ptr<ZoneTable> t = [] {
        std::string err;
        auto z = ep::load_zone_texts({{"test", kTestZone}, {"other", kOtherZone}}, &err);
        check(z != nullptr);
        return z;
    }();
    return t.get();
}

const Steering *steering() {
    static StaticSteering *s = [] {
        auto *st = new StaticSteering;
        StaticSteering::Row r;
        const uint8_t www[] =
            "\x03www\x07"
            "example\x04test";
        r.owner.assign(reinterpret_cast<const char *>(www), sizeof www);
        r.prefix = 8;
        r.net[0] = 198;
        r.addrs = {203, 0, 113, 1, 203, 0, 113, 2};
        st->add(r);
        return st;
    }();
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    if (size < 1 || size > 4096) return 0;
    const uint8_t ctl = data[0];
    const uint8_t *msg = data + 1;
    const uint32_t len = static_cast<uint32_t>(size - 1);
    AnswerEnv env;
    env.zones = table();
    env.steering = (ctl & 2) ? steering() : nullptr;
    env.tcp = ctl & 1;
    static const uint16_t kMaxUdp[4] = {512, 1232, 1400, 4096};
    env.max_udp = kMaxUdp[ctl >> 2 & 3];
    env.client_ip = 0x010033c6;  // 198.51.0.1
    static const uint32_t kCaps[4] = {2048, 1472, 600, 40};
    uint32_t cap = kCaps[ctl >> 4 & 3];
    if (cap < len) cap = len;  // in place, the buffer holds at least the query

    std::vector<uint8_t> inplace(msg, msg + len);
    inplace.resize(cap);
    std::vector<uint8_t> other(cap);
    Counters c1, c2;
    const int n1 = respond(inplace.data(), len, inplace.data(), cap, env, c1);
    const int n2 = respond(msg, len, other.data(), cap, env, c2);
    check(n1 == n2);
    check(n1 == -1 || (n1 >= static_cast<int>(kHeaderLen) && n1 <= static_cast<int>(cap)));
    if (n1 < 0) return 0;
    check(std::memcmp(inplace.data(), other.data(), static_cast<size_t>(n1)) == 0);
    check(get16(inplace.data()) == get16(msg));
    check(inplace[2] & 0x80);
    if (!env.tcp) check(n1 <= 4096);
    check_message(inplace.data(), static_cast<uint32_t>(n1));
    // Rate limiting reads the answer back (its question, rcode, counts):
    // with a rate of 1 per second and slip 1, the second answer of the
    // same kind is the slipped form, which must be well-formed too.
    static Rrl *rrl = [] {
        auto *r = new Rrl;
        RrlConfig rc;
        rc.rate = 1;
        rc.slip = 1;
        rc.buckets = 64;
        r->init(rc);
        return r;
    }();
    static uint64_t now_ns = 0;
    now_ns += 2'000'000'000;  // a fresh second per input: its first answer passes
    const uint8_t src[4] = {198, 51, 0, 1};
    check(rrl_apply(*rrl, other.data(), n1, 1, src, now_ns, c2) == n1);
    const int n3 = rrl_apply(*rrl, inplace.data(), n1, 1, src, now_ns, c2);
    check(n3 >= static_cast<int>(kHeaderLen) && n3 <= n1);
    if (n3 != n1) check_message(inplace.data(), static_cast<uint32_t>(n3));
    return 0;
}
