// The pure parts of the etcd gateway client (control/etcd_client.h): the
// endpoint list, HTTP answers (chunked as the gateway sends its streams),
// base64 as etcd's JSON carries keys and values.
#include "control/etcd_client.h"

#include <gtest/gtest.h>

using namespace ep;

TEST(EtcdClient, Endpoints) {
    std::vector<EtcdEndpoint> e;
    std::string err;
    ASSERT_TRUE(parse_etcd_endpoints("http://10.0.0.1:2379,10.0.0.2,[::1]:2381/", &e, &err)) << err;
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0].host, "10.0.0.1");
    EXPECT_EQ(e[0].port, "2379");
    EXPECT_EQ(e[1].port, "2379");
    EXPECT_EQ(e[2].host, "::1");
    EXPECT_EQ(e[2].port, "2381");
    EXPECT_FALSE(parse_etcd_endpoints("https://x:2379", &e, &err));
    EXPECT_FALSE(parse_etcd_endpoints("x:port", &e, &err));
    EXPECT_FALSE(parse_etcd_endpoints(",", &e, &err));
}

TEST(EtcdClient, HttpAnswers) {
    int status = 0;
    std::string body;
    ASSERT_TRUE(parse_http_answer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}",
                                  &status, &body));
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body, "{}");
    // What /v3/lease/keepalive answers: a chunked stream.
    ASSERT_TRUE(
        parse_http_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\n{\"a\":\r\n3\r\n1}\n\r\n0\r\n\r\n",
                          &status, &body));
    EXPECT_EQ(body, "{\"a\":1}\n");
    ASSERT_TRUE(parse_http_answer("HTTP/1.1 404 Not Found\r\n\r\n", &status, &body));
    EXPECT_EQ(status, 404);
    EXPECT_FALSE(parse_http_answer("SSH-2.0-x\r\n\r\n", &status, &body));
    EXPECT_FALSE(
        parse_http_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "ff\r\nshort",
                          &status, &body));
}

TEST(EtcdClient, Base64) {
    for (const std::string &s : std::vector<std::string>{
             "", "a", "ab", "abc", "/edgeplane/appliances/x", std::string("\0\xff", 2)}) {
        std::string back;
        ASSERT_TRUE(base64_decode(base64_encode(s), &back)) << s;
        EXPECT_EQ(back, s);
    }
    EXPECT_EQ(base64_encode("/ep/a/x"), "L2VwL2EveA==");
    std::string out;
    EXPECT_FALSE(base64_decode("abc", &out));
}
