// The chunk store's writer lock. chunkstore::Store has one writer side
// (put/remove/evict/poll, its io_uring, its control-side maps: see
// chunkstore/store.h "control thread"), never locked inside the store: the
// data cores only read, lock-free. Two control-side threads now take turns
// on that side: the control loop (admin commands, cache keeper, promotions,
// RCU reclamation, metrics) and the ingest worker (control/ingest_worker.h).
// Whoever holds this gate is "the control thread" of store.h.
//
// Fairness is explicit: a plain mutex released and re-taken at once by the
// ingest worker would let it keep the store for a whole title. The control
// loop announces that it wants the gate; the worker, at its yield points
// (between chunks, through Store::set_background_work, and between
// objects), hands it over and waits until the loop has it before queueing
// again. So the loop waits at most one chunk's work (a 256 KiB read, hash and
// queued write), never a title.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace ep {

class StoreGate {
  public:
    // Control loop: one tick's store work.
    void lock_control() {
        loop_waiting_.store(true, std::memory_order_release);
        mu_.lock();
        loop_waiting_.store(false, std::memory_order_release);
    }
    void unlock_control() { mu_.unlock(); }

    // Ingest worker.
    void lock_worker() {
        while (loop_waiting_.load(std::memory_order_acquire)) wait_a_little();
        mu_.lock();
    }
    void unlock_worker() { mu_.unlock(); }
    // At a point where the store's writer state is consistent (between two
    // chunks of put_object, or two objects): let a waiting loop in.
    void yield_worker() {
        if (!loop_waiting_.load(std::memory_order_acquire)) return;
        mu_.unlock();
        // Until the loop holds the mutex (it clears the flag once it has it),
        // so this thread cannot take it straight back.
        while (loop_waiting_.load(std::memory_order_acquire)) wait_a_little();
        mu_.lock();
    }

  private:
    static void wait_a_little() { std::this_thread::sleep_for(std::chrono::microseconds(50)); }
    std::mutex mu_;
    std::atomic<bool> loop_waiting_{false};
};

// Scoped control-loop hold.
class StoreGateControl {
  public:
    explicit StoreGateControl(StoreGate &g) : g_(g) { g_.lock_control(); }
    ~StoreGateControl() { g_.unlock_control(); }
    StoreGateControl(const StoreGateControl &) = delete;
    StoreGateControl &operator=(const StoreGateControl &) = delete;

  private:
    StoreGate &g_;
};

}  // namespace ep
