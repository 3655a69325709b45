// Unit tests of membership in the cluster model (control/cluster/members.h,
// rendezvous.h, Engine::set_members): the record's JSON, rendezvous
// placement (spread, minimal movement when a member leaves or joins), and
// the decision and the compiled map following the live members.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>
#include <string>

#include "control/cluster/engine.h"
#include "control/cluster/members.h"
#include "control/cluster/rendezvous.h"

using namespace ep::cluster;

namespace {

Prefix P(const char *s) {
    Prefix p;
    std::string e;
    EXPECT_TRUE(parse_prefix(s, &p, &e)) << s << ": " << e;
    return p;
}

Member member(const std::string &name, const std::string &cluster, uint8_t last,
              std::vector<std::string> titles = {}) {
    Member m;
    m.name = name;
    m.cluster = cluster;
    m.v4.push_back({10, 77, 1, last});
    m.titles = std::move(titles);
    return m;
}

Model two_cities(const std::string &policy) {
    Model m;
    m.settings.policy = policy;
    Cluster paris, london;
    paris.name = "paris", paris.lat = 48.86, paris.lon = 2.35, paris.capacity_gbps = 100;
    paris.v4.push_back({10, 77, 0, 2});
    london.name = "london", london.lat = 51.51, london.lon = -0.13, london.capacity_gbps = 100;
    london.v4.push_back({10, 77, 0, 3});
    m.clusters = {paris, london};
    ClientNet c;
    c.prefix = P("198.51.100.0/24");
    c.lat = 48.8f, c.lon = 2.3f, c.demand_gbps = 1;  // a Paris suburb
    m.clients = {c};
    m.names = {{"video.kingcdn.test", 30, policy == "content" ? "6Y7B23V" : ""}};
    return m;
}

// The A answer set the map gives 198.51.100.7.
std::vector<uint8_t> answer(const ep::dns::SteerMap &map) {
    const Prefix a = P("198.51.100.7");
    int32_t best = -1, len = -1;
    for (const auto &r : map.routes) {
        Prefix rp;
        rp.family = static_cast<uint8_t>(r.family);
        rp.len = r.prefix;
        std::memcpy(rp.net, r.net, 16);
        if (contains(rp, a) && r.prefix > len) best = static_cast<int32_t>(r.set), len = r.prefix;
    }
    return best < 0 ? std::vector<uint8_t>{} : map.sets[static_cast<std::size_t>(best)].v4;
}

}  // namespace

TEST(Member, JsonRoundTripAndRejects) {
    Member m = member("paris-1", "paris", 2, {"b", "a"});
    m.v6.push_back({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
    m.health = Health::kDraining;
    m.conns = 12;
    m.tx_gbps = 0.5;
    m.titles_more = 3;
    const std::string j = encode_member(m);
    EXPECT_NE(j.find("\"10.77.1.2\""), std::string::npos) << j;
    EXPECT_NE(j.find("\"2001:db8::2\""), std::string::npos) << j;
    Member back;
    std::string err;
    ASSERT_TRUE(decode_member(j, &back, &err)) << err;
    std::sort(m.titles.begin(), m.titles.end());
    EXPECT_EQ(back, m);
    EXPECT_TRUE(member_holds(back, "a"));
    EXPECT_FALSE(member_holds(back, "c"));
    EXPECT_FALSE(decode_member("{", &back, &err));
    EXPECT_FALSE(decode_member(R"({"name":"x"})", &back, &err));
    EXPECT_FALSE(decode_member(R"({"name":"x","cluster":"c","v4":["10.0.0.300"]})", &back, &err));
    EXPECT_FALSE(decode_member(R"({"name":"x","cluster":"c","health":"sick"})", &back, &err));
    EXPECT_TRUE(decode_member(R"({"name":"x","cluster":"c"})", &back, &err)) << err;
}

TEST(Rendezvous, SpreadsTitlesEvenly) {
    std::vector<std::string> names;
    for (int i = 0; i < 8; ++i) names.push_back("app-" + std::to_string(i));
    const std::vector<std::string_view> views(names.begin(), names.end());
    std::vector<int> count(names.size(), 0);
    const int titles = 8000;
    for (int t = 0; t < titles; ++t) count[hrw_top("title-" + std::to_string(t), views, 1)[0]]++;
    // 1000 expected each; binomial sd ~30: 850..1150 is 5 sd.
    for (int c : count) {
        EXPECT_GT(c, 850);
        EXPECT_LT(c, 1150);
    }
    // k replicas are k distinct members, best first, and the order of the
    // list does not change the answer.
    const auto top3 = hrw_top("x", views, 3);
    ASSERT_EQ(top3.size(), 3u);
    EXPECT_EQ(std::set<uint32_t>(top3.begin(), top3.end()).size(), 3u);
    std::vector<std::string_view> reversed(views.rbegin(), views.rend());
    const auto r = hrw_top("x", reversed, 3);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(reversed[r[k]], views[top3[k]]);
    EXPECT_EQ(hrw_top("x", views, 20).size(), views.size());
    EXPECT_TRUE(hrw_top("x", {}, 2).empty());
}

TEST(Rendezvous, MinimalMovementWhenAMemberLeavesOrJoins) {
    std::vector<std::string> names;
    for (int i = 0; i < 5; ++i) names.push_back("app-" + std::to_string(i));
    std::vector<std::string_view> all(names.begin(), names.end());
    std::vector<std::string_view> without2 = all;
    without2.erase(without2.begin() + 2);
    int moved = 0, held_by_2 = 0;
    const int titles = 5000;
    for (int t = 0; t < titles; ++t) {
        const std::string title = "t" + std::to_string(t);
        // k = 2: each title's two holders.
        const auto before = hrw_top(title, all, 2), after = hrw_top(title, without2, 2);
        std::set<std::string_view> b, a;
        for (uint32_t i : before) b.insert(all[i]);
        for (uint32_t i : after) a.insert(without2[i]);
        const bool had2 = b.count("app-2") > 0;
        held_by_2 += had2;
        // Only titles app-2 held change holders, and only by one replica:
        // the survivors keep theirs.
        if (!had2) {
            EXPECT_EQ(a, b) << title;
        } else {
            b.erase("app-2");
            for (auto s : b) EXPECT_TRUE(a.count(s)) << title;
            ++moved;
        }
    }
    EXPECT_EQ(moved, held_by_2);
    // app-2 held about 2/5 of them.
    EXPECT_GT(held_by_2, titles * 2 / 5 - 250);
    EXPECT_LT(held_by_2, titles * 2 / 5 + 250);
    // A member joining takes titles only for itself: every title either
    // keeps its holder or moves to the newcomer.
    names.push_back("app-new");
    std::vector<std::string_view> joined(names.begin(), names.end());
    for (int t = 0; t < 2000; ++t) {
        const std::string title = "t" + std::to_string(t);
        const auto b = all[hrw_top(title, all, 1)[0]], a = joined[hrw_top(title, joined, 1)[0]];
        EXPECT_TRUE(a == b || a == "app-new") << title;
    }
}

TEST(Membership, AddressesHealthFollowTheLiveMembers) {
    Engine e;
    std::string err;
    ASSERT_TRUE(e.set_model(two_cities("geo"), "", &err)) << err;
    // Without membership the file's addresses answer.
    EXPECT_EQ(answer(e.recompute(0)), (std::vector<uint8_t>{10, 77, 0, 2}));
    // Paris has two live appliances: both answer, in name order.
    e.set_members({member("paris-2", "paris", 12), member("paris-1", "paris", 11),
                   member("london-1", "london", 21), member("tokyo-1", "tokyo", 31)});
    EXPECT_EQ(answer(e.recompute(1)), (std::vector<uint8_t>{10, 77, 1, 11, 10, 77, 1, 12}));
    EXPECT_NE(e.clusters_text().find("tokyo-1          tokyo"), std::string::npos)
        << e.clusters_text();
    EXPECT_NE(e.clusters_text().find("cluster not in the model"), std::string::npos);
    // One leaves (its lease expired): only the other answers.
    e.set_members({member("paris-2", "paris", 12), member("london-1", "london", 21)});
    EXPECT_EQ(answer(e.recompute(2)), (std::vector<uint8_t>{10, 77, 1, 12}));
    // Both gone: Paris is down and London serves the Paris client.
    e.set_members({member("london-1", "london", 21)});
    EXPECT_EQ(answer(e.recompute(3)), (std::vector<uint8_t>{10, 77, 1, 21}));
    EXPECT_NE(e.clusters_text().find("paris            bring-home down       48.860     2.350     "
                                     "100.0     0.000    0.0        0  \n"),
              std::string::npos)
        << e.clusters_text();
    // A draining appliance is used only when nothing else is.
    Member d = member("paris-3", "paris", 13);
    d.health = Health::kDraining;
    e.set_members({d, member("london-1", "london", 21)});
    EXPECT_EQ(answer(e.recompute(4)), (std::vector<uint8_t>{10, 77, 1, 21}));
    e.set_members({d});
    EXPECT_EQ(answer(e.recompute(5)), (std::vector<uint8_t>{10, 77, 1, 13}));
    // An operator's down still wins over a live member.
    e.set_members({member("paris-1", "paris", 11), member("london-1", "london", 21)});
    ASSERT_TRUE(e.set_health("paris", Health::kDown, &err));
    EXPECT_EQ(answer(e.recompute(6)), (std::vector<uint8_t>{10, 77, 1, 21}));
}

// `edgectl why` explains a move away from a cluster that went down: the
// cluster is no candidate any more, so the reason has to be said apart,
// and whether etcd or the operator took it down.
TEST(Membership, WhySaysWhichClusterIsDownAndWhy) {
    Engine e;
    std::string err;
    ASSERT_TRUE(e.set_model(two_cities("geo"), "", &err)) << err;
    e.set_members({member("paris-1", "paris", 11), member("london-1", "london", 21)});
    e.recompute(0);
    std::string why = e.why("198.51.100.7");
    EXPECT_NE(why.find("decided paris"), std::string::npos) << why;
    EXPECT_EQ(why.find("left out"), std::string::npos) << why;
    // Paris's only appliance lost its lease.
    e.set_members({member("london-1", "london", 21)});
    e.recompute(1);
    why = e.why("198.51.100.7");
    EXPECT_NE(why.find("decided london"), std::string::npos) << why;
    EXPECT_NE(why.find("  left out: paris, down (no appliance of it holds a lease in etcd)\n"),
              std::string::npos)
        << why;
    // Back, then taken down by the operator.
    e.set_members({member("paris-1", "paris", 11), member("london-1", "london", 21)});
    ASSERT_TRUE(e.set_health("paris", Health::kDown, &err));
    e.recompute(2);
    why = e.why("198.51.100.7");
    EXPECT_NE(why.find("  left out: paris, down (marked down: cluster-health or the file)\n"),
              std::string::npos)
        << why;
}

TEST(Membership, ContentAnswerNamesTheApplianceTheTitleIsPlacedOn) {
    Model m = two_cities("content");
    m.settings.replicas = 1;
    Engine e;
    std::string err;
    ASSERT_TRUE(e.set_model(m, "", &err)) << err;
    std::vector<Member> ms = {member("paris-1", "paris", 11, {"6Y7B23V"}),
                              member("paris-2", "paris", 12, {"6Y7B23V"}),
                              member("paris-3", "paris", 13), member("london-1", "london", 21)};
    e.set_members(ms);
    // The rendezvous winner among the three Paris appliances.
    const std::vector<std::string_view> paris = {"paris-1", "paris-2", "paris-3"};
    const uint32_t w = hrw_top("6Y7B23V", paris, 1)[0];
    EXPECT_EQ(answer(e.recompute(0)),
              (std::vector<uint8_t>{10, 77, 1, static_cast<uint8_t>(11 + w)}));
    const std::string why = e.why("198.51.100.7");
    EXPECT_NE(why.find("decided paris"), std::string::npos) << why;
    EXPECT_NE(why.find("appliances for title 6Y7B23V (rendezvous hashing, replicas 1): " +
                       std::string(paris[w])),
              std::string::npos)
        << why;
    // The winner leaves: the title's next-highest Paris member answers.
    std::vector<Member> left;
    for (const Member &x : ms)
        if (x.name != paris[w]) left.push_back(x);
    e.set_members(left);
    std::vector<std::string_view> rest;
    for (auto n : paris)
        if (n != paris[w]) rest.push_back(n);
    const std::string_view next = rest[hrw_top("6Y7B23V", rest, 1)[0]];
    EXPECT_EQ(next, paris[hrw_top("6Y7B23V", paris, 2)[1]]);
    const uint8_t last = static_cast<uint8_t>(11 + (next.back() - '1'));
    EXPECT_EQ(answer(e.recompute(1)), (std::vector<uint8_t>{10, 77, 1, last}));
    // replicas = 2: two appliances answer.
    m.settings.replicas = 2;
    ASSERT_TRUE(e.set_model(m, "", &err)) << err;
    e.set_members(ms);
    EXPECT_EQ(answer(e.recompute(2)).size(), 8u);
}

// Load-aware weighs the load members report: what a cluster's appliances
// carry beyond the demand the model assigned them (clients the file does not
// list) takes room under the headroom before any client network does.
TEST(Membership, LoadAwareWeighsTheLoadMembersReport) {
    Model m = two_cities("load-aware");
    m.clients.clear();
    for (int i = 0; i < 10; ++i) {
        ClientNet c;
        c.prefix = P(("198.51." + std::to_string(100 + i) + ".0/24").c_str());
        // i x 20 km west of Paris: nearer London as i grows.
        c.lat = 48.86f, c.lon = static_cast<float>(2.35 - i * 0.27), c.demand_gbps = 1;
        m.clients.push_back(c);
    }
    Engine e;
    std::string err;
    ASSERT_TRUE(e.set_model(m, "", &err)) << err;
    Member p1 = member("paris-1", "paris", 11), p2 = member("paris-2", "paris", 12);
    const Member l1 = member("london-1", "london", 21);
    e.set_members({p1, p2, l1});  // reporting nothing yet
    e.recompute(0);
    ASSERT_NEAR(e.load()[0], 10.0, 1e-9);  // all ten on Paris, 10 of its 80 Gbit/s headroom
    // Paris's two appliances carry 84 Gbit/s: our 10 and 74 the model does
    // not know. 80 - 74 leaves room for 6: the 4 westernmost (they lose
    // least by moving) go to London.
    p1.tx_gbps = 50, p2.tx_gbps = 34;
    e.set_members({p1, p2, l1});
    e.recompute(1);
    ASSERT_EQ(e.reported_load().size(), 2u);
    EXPECT_NEAR(e.reported_load()[0], 84.0, 1e-9);
    EXPECT_NEAR(e.extra_load()[0], 74.0, 1e-9);
    EXPECT_NEAR(e.extra_load()[1], 0.0, 1e-9);
    EXPECT_NEAR(e.load()[0], 6.0, 1e-9);
    EXPECT_NEAR(e.load()[1], 4.0, 1e-9);
    EXPECT_EQ(e.stats().moved_for_load, 4u);
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(e.assignments()[static_cast<std::size_t>(i)].cluster, i < 6 ? 0 : 1) << i;
    EXPECT_NE(e.clusters_text().find("reported load 84.000 Gbit/s, 74.000 beyond"),
              std::string::npos)
        << e.clusters_text();
    // The same members under the geo policy: reported load is not its business.
    Engine g;
    ASSERT_TRUE(g.set_model(m, "geo", &err)) << err;
    g.set_members({p1, p2, l1});
    g.recompute(0);
    EXPECT_NEAR(g.load()[0], 10.0, 1e-9);
}
