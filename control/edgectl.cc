// edgectl: talks to a running edgeplane over its admin socket.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "control/admin_socket.h"

int main(int argc, char **argv) {
    CLI::App app{"edgectl: control a running edgeplane"};
    std::string socket = "/run/edgeplane/edgeplane.sock";
    app.add_option("-s,--socket", socket, "The daemon's admin socket");
    app.require_subcommand(1);

    std::string request;
    auto *stats = app.add_subcommand("stats", "Per-lcore counters: traffic, cycles, drops by reason");
    bool json = false;
    stats->add_flag("--json", json, "Machine-readable output");
    stats->callback([&] { request = json ? "stats json" : "stats"; });
    app.add_subcommand("ports", "Ports, addresses and queues")->callback([&] { request = "ports"; });
    app.add_subcommand("ping", "Check the daemon answers")->callback([&] { request = "ping"; });
    CLI11_PARSE(app, argc, argv);

    std::string err;
    bool error_reply = false;
    bool first = true;
    const bool ok = ep::admin_request(
        socket, request,
        [&](std::string_view chunk) {
            if (first && chunk.rfind("error:", 0) == 0) error_reply = true;
            first = false;
            std::fwrite(chunk.data(), 1, chunk.size(), error_reply ? stderr : stdout);
        },
        &err);
    if (!ok) {
        std::fprintf(stderr, "edgectl: %s\n", err.c_str());
        return 2;
    }
    return error_reply ? 1 : 0;
}
