// http_serve_dir: the HTTP core on kernel sockets, serving a directory.
// A test and demo tool, not the product: it lets real clients (curl,
// ffmpeg, Chromium + dash.js) talk to HttpSession before the DPDK TCP glue
// exists. Files are loaded into a FakeCatalog at start; body pieces are
// copied into the socket (the product sends them zero-copy).
//
// Usage: http_serve_dir [--port N] [--bind ADDR] DIR
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/http/fake_catalog.h"
#include "dataplane/http/session.h"

namespace fs = std::filesystem;
using namespace ep::http;

namespace {

Now now() {
    using namespace std::chrono;
    return Now{static_cast<uint64_t>(
                   duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count()),
               static_cast<int64_t>(
                   duration_cast<seconds>(system_clock::now().time_since_epoch()).count())};
}

struct Conn {
    int fd;
    std::unique_ptr<HttpSession> s;
    std::string in;
    std::string out;
    std::size_t out_off = 0;
    bool dead = false;
};

void drain(Conn &c, const FakeCatalog &cat) {
    while (c.s->has_response()) {
        const Response &r = c.s->front();
        c.out += r.head();
        for (const BodyPiece &p : r.body()) {
            if (p.kind == BodyPiece::Kind::kInline)
                c.out += r.inline_bytes(p);
            else
                c.out += cat.content(p.handle).substr(p.offset, p.length);
        }
        c.s->pop();
    }
}

void feed(Conn &c, const FakeCatalog &cat) {
    for (;;) {
        const std::size_t n = c.s->feed(std::string_view(c.in), now());
        c.in.erase(0, n);
        const bool had = c.s->has_response();
        drain(c, cat);
        if (n == 0 && !had) break;
        if (c.in.empty()) break;
    }
}

}  // namespace

int main(int argc, char **argv) {
    int port = 8080;
    std::string bind_addr = "127.0.0.1";
    std::string dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--port" && i + 1 < argc)
            port = std::atoi(argv[++i]);
        else if (a == "--bind" && i + 1 < argc)
            bind_addr = argv[++i];
        else
            dir = a;
    }
    if (dir.empty()) {
        std::fprintf(stderr, "usage: http_serve_dir [--port N] [--bind ADDR] DIR\n");
        return 2;
    }
    FakeCatalog cat;
    std::size_t files = 0;
    for (const auto &e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream f(e.path(), std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        struct stat st {};
        ::stat(e.path().c_str(), &st);
        cat.add(fs::relative(e.path(), dir).generic_string(), ss.str(), st.st_mtime);
        ++files;
    }
    HttpConfig cfg;
    HttpContext ctx(cfg, cat);

    const int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, bind_addr.c_str(), &sa.sin_addr);
    if (::bind(lfd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 || ::listen(lfd, 128) != 0) {
        std::perror("bind/listen");
        return 1;
    }
    ::fcntl(lfd, F_SETFL, O_NONBLOCK);
    std::printf("serving %zu files from %s on http://%s:%d/\n", files, dir.c_str(),
                bind_addr.c_str(), port);
    std::fflush(stdout);

    std::vector<std::unique_ptr<Conn>> conns;
    std::vector<pollfd> pfds;
    char buf[65536];
    for (;;) {
        pfds.clear();
        pfds.push_back({lfd, POLLIN, 0});
        for (auto &c : conns) {
            short ev = c->s->input_closed() ? 0 : POLLIN;
            if (c->out_off < c->out.size()) ev |= POLLOUT;
            pfds.push_back({c->fd, ev, 0});
        }
        ::poll(pfds.data(), pfds.size(), 100);
        if (pfds[0].revents & POLLIN) {
            for (int fd; (fd = ::accept(lfd, nullptr, nullptr)) >= 0;) {
                ::fcntl(fd, F_SETFL, O_NONBLOCK);
                ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                auto c = std::make_unique<Conn>();
                c->fd = fd;
                c->s = std::make_unique<HttpSession>(ctx);
                c->s->start(now());
                conns.push_back(std::move(c));
            }
        }
        for (std::size_t i = 0; i < conns.size(); ++i) {
            Conn &c = *conns[i];
            const short re = i + 1 < pfds.size() ? pfds[i + 1].revents : 0;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
                if (n > 0) {
                    c.in.append(buf, static_cast<std::size_t>(n));
                    feed(c, cat);
                } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    c.dead = true;
                }
            }
            // Bytes handed to the kernel stand in for acknowledged ones here.
            const auto act = c.s->poll(now(), c.out_off < c.out.size(), c.out_off);
            if (act == HttpSession::TimerAction::kClose) c.dead = c.out_off >= c.out.size();
            if (act == HttpSession::TimerAction::kAbort) c.dead = true;
            drain(c, cat);
            while (!c.dead && c.out_off < c.out.size()) {
                const ssize_t n =
                    ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
                if (n <= 0) {
                    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                    c.dead = true;
                    break;
                }
                c.out_off += static_cast<std::size_t>(n);
            }
            if (c.out_off == c.out.size()) {
                c.out.clear();
                c.out_off = 0;
                if (c.s->finished()) c.dead = true;
            }
        }
        for (std::size_t i = 0; i < conns.size();) {
            if (conns[i]->dead) {
                ::close(conns[i]->fd);
                conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
            } else {
                ++i;
            }
        }
    }
}
