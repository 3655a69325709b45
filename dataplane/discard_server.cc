#include "dataplane/discard_server.h"

#include <new>

namespace ep {

DiscardServer::~DiscardServer() {
    for (uint32_t i = 0; i < pool_.size(); ++i) XXH3_freeState(pool_[i].hash);
}

bool DiscardServer::init(tcp::Stack *stack, uint32_t max_conns, uint16_t port) {
    stack_ = stack;
    if (!pool_.init(max_conns)) return false;
    for (uint32_t i = 0; i < max_conns; ++i) {
        pool_[i].hash = XXH3_createState();  // at start-up: none on the fast path
        if (!pool_[i].hash) return false;
    }
    return stack_->listen(port, this);
}

void DiscardServer::on_accept(tcp::Stack &st, tcp::ConnId id) {
    Conn *c = pool_.acquire();
    if (!c) {
        st.abort(id);
        return;
    }
    XXH3_64bits_reset(c->hash);
    c->bytes = 0;
    st.set_user(id, c);
}

size_t DiscardServer::on_data(tcp::Stack &st, tcp::ConnId id, const uint8_t *data, size_t len) {
    if (auto *c = static_cast<Conn *>(st.user(id))) {
        XXH3_64bits_update(c->hash, data, len);
        c->bytes += len;
    }
    bytes_total_.fetch_add(len, std::memory_order_relaxed);
    return len;
}

void DiscardServer::on_peer_closed(tcp::Stack &st, tcp::ConnId id) {
    auto *c = static_cast<Conn *>(st.user(id));
    if (!c) return;
    const uint64_t n = done_.load(std::memory_order_relaxed);
    ring_[n % kReceipts] = {c->bytes, XXH3_64bits_digest(c->hash)};
    done_.store(n + 1, std::memory_order_release);
    release(id, c);
    st.close(id);
}

void DiscardServer::on_closed(tcp::Stack &st, tcp::ConnId id, tcp::CloseReason) {
    if (auto *c = static_cast<Conn *>(st.user(id))) release(id, c);
}

void DiscardServer::release(tcp::ConnId id, Conn *c) {
    stack_->set_user(id, nullptr);
    pool_.release(c);
}

uint32_t DiscardServer::receipts(SinkReceipt *out) const {
    const uint64_t n = done_.load(std::memory_order_acquire);
    const uint64_t first = n > kReceipts ? n - kReceipts : 0;
    uint32_t k = 0;
    for (uint64_t i = first; i < n; ++i) out[k++] = ring_[i % kReceipts];
    return k;
}

}  // namespace ep
