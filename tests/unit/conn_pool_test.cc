// ConnPool's wake list must survive what services do to their connections:
// a connection can be woken, released and handed out again within one loop
// iteration, and the service then resets its state for the new peer. The
// list must still run each queued connection once and end (an intrusive
// list whose membership flag the service reset could be entered twice and
// turn into a cycle that spins the data lcore for ever).
#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "dataplane/conn_pool.h"

namespace {

struct Conn {
    Conn *next_free = nullptr;
    int id = 0;
    int runs = 0;
};

TEST(ConnPool, ReusedWhileQueuedRunsOnceAndTheDrainEnds) {
    ep::ConnPool<Conn> pool;
    ASSERT_TRUE(pool.init(4));
    Conn *a = pool.acquire();
    Conn *b = pool.acquire();
    pool.wake(a);
    pool.wake(b);
    // a's peer goes away and a new one lands in the same slot at once; the
    // service resets everything it owns for the new connection.
    pool.release(a);
    Conn *again = pool.acquire();
    ASSERT_EQ(again, a);
    *again = Conn{};
    pool.wake(again);  // the new connection has work too
    pool.wake(b);      // woken twice: queued once
    int visits = 0;
    pool.drain_wakes([&](Conn *c) {
        if (++visits > 100) {
            ADD_FAILURE() << "the wake list loops";
            std::abort();  // the drain would never return
        }
        ++c->runs;
    });
    EXPECT_EQ(visits, 2);
    EXPECT_EQ(a->runs, 1);
    EXPECT_EQ(b->runs, 1);
}

TEST(ConnPool, WakingDuringADrainRunsInTheNextOne) {
    ep::ConnPool<Conn> pool;
    ASSERT_TRUE(pool.init(2));
    Conn *a = pool.acquire();
    pool.wake(a);
    int first = 0, second = 0;
    pool.drain_wakes([&](Conn *c) {
        ++first;
        pool.wake(c);  // more to do: next round, not this one
    });
    pool.drain_wakes([&](Conn *) { ++second; });
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, 1);
    pool.drain_wakes([&](Conn *) { ADD_FAILURE() << "nothing was woken"; });
}

TEST(ConnPool, EveryConnectionQueuedAtOnceFits) {
    ep::ConnPool<Conn> pool;
    ASSERT_TRUE(pool.init(64));
    std::vector<Conn *> all;
    while (Conn *c = pool.acquire()) all.push_back(c);
    ASSERT_EQ(all.size(), 64u);
    EXPECT_EQ(pool.acquire(), nullptr);
    for (int round = 0; round < 3; ++round) {
        for (Conn *c : all) pool.wake(c);
        int n = 0;
        pool.drain_wakes([&](Conn *c) {
            ++n;
            if (round == 0) pool.wake(c);  // everyone again next time
        });
        EXPECT_EQ(n, 64);
    }
}

}  // namespace
