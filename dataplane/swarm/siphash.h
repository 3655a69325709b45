// SipHash-2-4 (Aumasson & Bernstein, 2012): a keyed hash short inputs cannot
// be forged against without the key. Hand-written (twenty lines) because the
// tracker hashes per packet on data lcores: OpenSSL's MAC interfaces
// allocate contexts, DPDK has no keyed hash.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ep::swarm {

uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len);

}  // namespace ep::swarm
