// Send-queue items: references to payload, never copies of it (zero-copy send).
#pragma once

#include <cstdint>

namespace ep::tcp {

// Callbacks of an external buffer owner (the chunk store). `ref` pins, `unref`
// unpins. `partial_sum` (optional) returns the 16-bit one's-complement sum
// (not inverted, not folded is fine: up to 32 bits) of len bytes at data,
// summed as if data started at an even offset; the engine never reads the bytes.
struct ExtBufOps {
    void (*ref)(void *ref) = nullptr;
    void (*unref)(void *ref) = nullptr;
    uint32_t (*partial_sum)(void *ref, const uint8_t *data, uint32_t len) = nullptr;
};

struct SendItem {
    const uint8_t *data = nullptr;  // first byte of the item
    uint32_t len = 0;
    void *ref = nullptr;                 // opaque owner handle (external items)
    const ExtBufOps *ops = nullptr;      // nullptr: inline item (bytes live in the stack)
    uint32_t inline_block = UINT32_MAX;  // inline pool block index
    bool is_inline() const { return ops == nullptr; }
};

}  // namespace ep::tcp
