// Ingest off the control loop. A title of many GiB takes minutes to read,
// hash and write; on the control loop that stopped the admin socket, drain,
// and (before the store's background hook) promotions and eviction for the
// whole run. One helper thread does it instead: a plain std::thread made by
// the control thread after EAL init, so it inherits the control lcore's CPU
// set and never runs on a data core.
//
// The store keeps one writer side (chunkstore/store.h): the worker takes
// the store gate (control/store_gate.h) for the ingest and yields it
// between chunks and objects, so the control loop's store work (promotions,
// keeper, RCU reclamation, `stats`, `remove`, ...) interleaves at the same
// points the background hook already used, and never at the same time.
//
// Interface (control thread only, except the worker's own thread):
//   submit(path, prefix, on_line, on_done) queues a job and returns its id;
//   jobs run one at a time, in order. poll(), called by the control loop
//   under the gate every tick, hands the job's lines ("replaced NAME",
//   "progress ...", "failed ...") to on_line and then its IngestOutcome to
//   on_done, both on the control thread. A SIGHUP reload queues the same way
//   and reads the outcome in on_done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chunkstore/ingest.h"
#include "chunkstore/store.h"
#include "control/store_gate.h"

namespace ep {

struct IngestOutcome {
    uint64_t id = 0;
    std::string path, prefix;
    chunkstore::Status status;
    chunkstore::IngestReport report;
    std::vector<std::string> stored;  // names stored, in order
    uint64_t replaced = 0;            // of those, how many replaced an object
};

class IngestWorker {
  public:
    using LineFn = std::function<void(const std::string &line)>;
    using DoneFn = std::function<void(const IngestOutcome &)>;

    IngestWorker(chunkstore::Store &store, StoreGate &gate) : store_(store), gate_(gate) {}
    ~IngestWorker() { stop(); }
    IngestWorker(const IngestWorker &) = delete;
    IngestWorker &operator=(const IngestWorker &) = delete;

    void start();
    // Control thread. Either callback may be empty.
    uint64_t submit(std::string path, std::string prefix, LineFn on_line, DoneFn on_done);
    // Control thread, holding the gate: delivers lines and finished jobs.
    void poll();
    // Jobs queued or running.
    std::size_t pending() const;
    // Cancels the running job (its object is abandoned, never published),
    // drops queued ones and joins the thread. Call without holding the gate.
    void stop();
    // True on the worker's thread (the store's background hook yields the
    // gate there only).
    static bool on_worker_thread();

    // Test-only (--test-ingest-hold): at the first yield point inside a
    // job's put_object (a chunk written, the title not finished) the worker
    // logs "ingest held" and waits, without the gate, until stop() cancels
    // it. A test that must signal the daemon *during* an ingest waits for
    // that line: its signal can then never arrive before the ingest began or
    // after it ended (tests/integration/test_eviction.py).
    void set_test_hold(bool on) { test_hold_ = on; }
    // Worker thread, holding the gate, at a point where the store is
    // consistent (the store's background hook, between chunks).
    void test_hold_point();

  private:
    struct Job {
        IngestOutcome out;
        LineFn on_line;
        DoneFn on_done;
        std::vector<std::string> lines;  // not yet delivered
        bool done = false;
    };
    void run();
    void work(Job &job);
    void add_line(Job &job, std::string line);

    chunkstore::Store &store_;
    StoreGate &gate_;
    std::thread thread_;
    mutable std::mutex mu_;  // jobs_ and each job's lines/done
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> jobs_;  // front may be running or done
    std::atomic<bool> cancel_{false};
    bool stopping_ = false;
    bool test_hold_ = false;
    bool held_this_job_ = false;  // worker thread only
    uint64_t next_id_ = 1;
};

}  // namespace ep
