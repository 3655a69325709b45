// RFC 863 Discard over the data plane's TCP, with a receipt: every byte a
// client sends is hashed (XXH3-64) and counted, and the last closed
// connections' (bytes, hash) are kept for `edgectl sink`. It is the upload
// half of the TCP tests and benchmarks: a Linux sender can check that what
// arrived is byte-exact without the appliance storing anything.
#pragma once

#include <xxhash.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/conn_pool.h"
#include "dataplane/net/tcp/stack.h"
#include "dataplane/service.h"

namespace ep {

struct SinkReceipt {
    uint64_t bytes = 0;
    uint64_t xxh3 = 0;
};

class DiscardServer final : public Service, public tcp::Handler {
public:
    static constexpr uint32_t kReceipts = 16;

    ~DiscardServer() override;
    bool init(tcp::Stack *stack, uint32_t max_conns, uint16_t port);

    // Control thread: the receipts completed so far (newest last), up to kReceipts.
    uint32_t receipts(SinkReceipt *out) const;
    uint64_t bytes_total() const { return bytes_total_.load(std::memory_order_relaxed); }

    std::string_view name() const override { return "discard"; }
    void visit_counters(const CounterVisitor &fn) const override {
        fn({"bytes", "bytes received and discarded (RFC 863)", bytes_total()});
        fn({"connections", "connections closed, each with a receipt",
            done_.load(std::memory_order_relaxed)});
    }

    void on_accept(tcp::Stack &, tcp::ConnId) override;
    size_t on_data(tcp::Stack &, tcp::ConnId, const uint8_t *data, size_t len) override;
    void on_peer_closed(tcp::Stack &, tcp::ConnId) override;
    void on_closed(tcp::Stack &, tcp::ConnId, tcp::CloseReason) override;

private:
    struct Conn {
        XXH3_state_t *hash = nullptr;
        uint64_t bytes = 0;
        Conn *next_free = nullptr;
    };
    void release(tcp::ConnId id, Conn *c);

    tcp::Stack *stack_ = nullptr;
    ConnPool<Conn> pool_;
    SinkReceipt ring_[kReceipts];
    std::atomic<uint64_t> done_{0};
    std::atomic<uint64_t> bytes_total_{0};
};

}  // namespace ep
