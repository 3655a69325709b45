#include "control/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ep {

namespace {

uint64_t mono_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1'000'000;
}

std::string response(const char *status, const char *type, const std::string &body, bool head) {
    std::string r = std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + type +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n";
    if (!head) r += body;
    return r;
}

}  // namespace

bool parse_listen_address(const std::string &s, uint32_t *ip_be, uint16_t *port_be) {
    const std::size_t colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
    in_addr a{};
    if (inet_pton(AF_INET, s.substr(0, colon).c_str(), &a) != 1) return false;
    const std::string p = s.substr(colon + 1);
    if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
    const unsigned long port = std::stoul(p);
    if (port > 65535) return false;
    *ip_be = a.s_addr;
    *port_be = htons(static_cast<uint16_t>(port));
    return true;
}

MetricsServer::~MetricsServer() {
    close();
}

bool MetricsServer::open(const std::string &listen, std::function<std::string()> render,
                         std::string *err) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (!parse_listen_address(listen, &sa.sin_addr.s_addr, &sa.sin_port)) {
        *err = "--metrics-listen '" + listen + "': expected A.B.C.D:PORT";
        return false;
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int one = 1;
    if (listen_fd_ >= 0) ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 ||
        ::listen(listen_fd_, 64) != 0) {
        *err = "metrics listener " + listen + ": " + std::strerror(errno);
        close();
        return false;
    }
    socklen_t len = sizeof sa;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr *>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    render_ = std::move(render);
    clients_.reserve(kMaxClients);
    return true;
}

void MetricsServer::poll(int timeout_ms) {
    if (listen_fd_ < 0) return;
    uint64_t now = mono_ms();
    for (const Client &c : clients_)
        timeout_ms = static_cast<int>(std::min<uint64_t>(
            static_cast<uint64_t>(timeout_ms), c.deadline_ms > now ? c.deadline_ms - now : 0));
    pollfd p[kMaxClients + 1];
    nfds_t n = 0;
    p[n++] = {listen_fd_, POLLIN, 0};
    for (const Client &c : clients_)
        p[n++] = {c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0};
    if (::poll(p, n, timeout_ms) < 0) return;  // EINTR: the caller checks its signals
    now = mono_ms();
    for (std::size_t i = clients_.size(); i-- > 0;) {
        Client &c = clients_[i];
        const short re = p[i + 1].revents;
        if (!c.writing && (re & (POLLIN | POLLHUP | POLLERR))) read_from(c, now);
        bool keep = c.fd >= 0;
        if (keep && c.writing) keep = flush(c, now);
        if (keep && now >= c.deadline_ms) {
            ++(c.writing ? ctr_.write_timeouts : ctr_.request_timeouts);
            keep = false;
        }
        if (!keep) drop(i);
    }
    if (p[0].revents & POLLIN) accept_clients(now);
}

void MetricsServer::accept_clients(uint64_t now) {
    for (int k = 0; k < 64; ++k) {  // bounded per call, like the admin socket
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) return;
        if (clients_.size() >= kMaxClients) {
            ++ctr_.refused_busy;
            ::close(fd);
            continue;
        }
        Client c;
        c.fd = fd;
        c.deadline_ms = now + kRequestTimeoutMs;
        clients_.push_back(std::move(c));
        Client &b = clients_.back();
        read_from(b, now);  // most scrapers have sent their request already
        if (b.fd < 0 || (b.writing && !flush(b, now))) drop(clients_.size() - 1);
    }
}

void MetricsServer::read_from(Client &c, uint64_t now) {
    char buf[1024];
    for (;;) {
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            ::close(c.fd);
            c.fd = -1;
            return;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        if (c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos)
            return answer(c, now);
        if (c.in.size() >= kMaxRequest) {
            ++ctr_.bad_requests;
            c.out =
                response("431 Request Header Fields Too Large", "text/plain", "too large\n", false);
            c.writing = true;
            c.deadline_ms = now + kWriteStallMs;
            return;
        }
    }
}

void MetricsServer::answer(Client &c, uint64_t now) {
    // Request line: METHOD SP TARGET SP VERSION (RFC 9112 3).
    const std::string line = c.in.substr(0, c.in.find_first_of("\r\n"));
    const std::size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
    const std::string method = line.substr(0, sp1);
    std::string target = sp1 == std::string::npos
                             ? ""
                             : line.substr(sp1 + 1, sp2 == std::string::npos ? sp2 : sp2 - sp1 - 1);
    target = target.substr(0, target.find('?'));  // Prometheus may add params
    const bool head = method == "HEAD";
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
        ++ctr_.bad_requests;
        c.out = response("400 Bad Request", "text/plain", "bad request\n", false);
    } else if (method != "GET" && !head) {
        ++ctr_.bad_requests;
        c.out = response("405 Method Not Allowed", "text/plain", "GET /metrics\n", head);
    } else if (target != "/metrics") {
        ++ctr_.bad_requests;
        c.out = response("404 Not Found", "text/plain", "try /metrics\n", head);
    } else {
        ++ctr_.scrapes;
        c.out = response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_(), head);
    }
    c.in.clear();
    c.writing = true;
    c.deadline_ms = now + kWriteStallMs;
}

bool MetricsServer::flush(Client &c, uint64_t now) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n <= 0) return false;
        c.out.erase(0, static_cast<std::size_t>(n));
        c.deadline_ms = now + kWriteStallMs;  // progress: the client reads
    }
    return false;  // all sent: close
}

void MetricsServer::drop(std::size_t i) {
    if (clients_[i].fd >= 0) ::close(clients_[i].fd);
    clients_[i] = std::move(clients_.back());
    clients_.pop_back();
}

void MetricsServer::close() {
    for (Client &c : clients_)
        if (c.fd >= 0) ::close(c.fd);
    clients_.clear();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
}

}  // namespace ep
