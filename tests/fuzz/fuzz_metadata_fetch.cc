// libFuzzer target: the BEP 9 metadata session (dataplane/swarm/metadata_fetch.cc)
// as the peer's bytes arrive, split where byte 0 says. The handshake is
// prefixed (with the right info hash) so the fuzzer reaches the message
// stream; a session that says done must hold exactly the bytes whose SHA-1
// is the info hash (here: an info dict the fuzzer cannot forge, so done is
// never expected unless it sent those exact bytes).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "dataplane/swarm/metadata_fetch.h"
#include "dataplane/swarm/peer_wire.h"
#include "dataplane/swarm/sha1.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, std::size_t size) {
    using namespace ep::swarm;
    static MetadataConfig cfg = [] {
        MetadataConfig c;
        c.max_size = 64 * 1024;  // small: the fuzzer can fill it
        c.timeout_ns = 1000;
        const Sha1 h = sha1("d4:name1:xe");
        std::memcpy(c.info_hash, h.data(), 20);
        return c;
    }();
    static std::unique_ptr<uint8_t[]> buf(new uint8_t[64 * 1024]);
    static std::unique_ptr<uint8_t[]> have(new uint8_t[5]);
    static MetadataCounters ctr;
    if (size < 1) return 0;
    MetadataSession s;
    s.init(&cfg, &ctr, buf.get(), have.get());
    s.start(0);
    uint8_t hs[68];
    pw::write_handshake(hs, cfg.info_hash, cfg.info_hash, false, (data[0] & 0x80) == 0);
    s.feed(hs, 68, 1);
    const size_t split = 1 + (data[0] & 0x7f) % (size);
    const size_t a = split < size ? split : size;
    s.feed(data + 1, a - 1, 2);
    s.feed(data + a, size - a, 3);
    s.tick(data[0] & 1 ? 5000 : 3);
    while (s.has_output()) {
        const uint8_t *p = nullptr;
        const uint32_t n = s.output(&p);
        if (n == 0) std::abort();
        s.consume(n);
    }
    if (s.done()) {
        const Sha1 h = sha1(s.metadata(), s.size());
        if (std::memcmp(h.data(), cfg.info_hash, 20) != 0) std::abort();
    }
    return 0;
}
