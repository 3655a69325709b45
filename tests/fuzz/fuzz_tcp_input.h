// The body of the fuzz_tcp_input target (fuzz_tcp_input.cc) as a function, so
// that test_fuzz_tcp_input.cc can run the corpus through it with other table
// sizes and compare what the stack sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ep::tcp::test {

struct TcpInputRun {
    uint32_t wheel_slots = 64;  // the fuzzer's; any power of two gives the same segments
    // Not null: one line per segment the stack emitted (relative numbers),
    // then the application's events and the stack's counters.
    std::string *trace = nullptr;
};

void fuzz_tcp_input(const uint8_t *data, std::size_t size, const TcpInputRun &run);

}  // namespace ep::tcp::test
