// An appliance's member record as read from etcd (control/cluster/members.h
// and the shared measurements in it, measurement_share.h): any writer under
// the prefix can put anything there, so it is untrusted. A record that
// decodes must encode and decode back to the same member, its measured
// blocks bounded and their figures >= 0.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/cluster/measurement_share.h"
#include "control/cluster/members.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace ep::cluster;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    Member m;
    std::string err;
    if (!decode_member(text, &m, &err)) return 0;
    if (m.measured.size() > kShareBlocks) __builtin_trap();
    for (const MeasuredBlock &b : m.measured)
        if (!(b.rtt_ms >= 0) || !(b.loss_pct >= 0) || !(b.weight >= 0) || !(b.age_s >= 0))
            __builtin_trap();
    Member back;
    if (!decode_member(encode_member(m), &back, &err)) __builtin_trap();
    if (back.name != m.name || back.cluster != m.cluster ||
        back.measured.size() != m.measured.size())
        __builtin_trap();
    return 0;
}
