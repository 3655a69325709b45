// `edgectl top`: a live view of a running daemon, redrawn every interval
// with plain ANSI escapes (no curses): per lcore packets and bits per second
// in and out, busy % and drops; per service requests and connections; the
// cache's hit ratio, RAM and disk use and evictions; titles by bytes served
// (with --access-log on). Rates are the difference of two `top` snapshots
// (the admin command) over the time between them.
#pragma once

#include <map>
#include <string>

namespace ep {

// "SECTION NAME LCORE" -> value, as the admin command `top` lists them
// (a key given more than once, one per port, is summed).
using TopSnapshot = std::map<std::string, double>;
TopSnapshot parse_top_snapshot(const std::string &text);
// One frame from two snapshots `seconds` apart (prev may be empty).
std::string render_top(const TopSnapshot &prev, const TopSnapshot &cur, double seconds);
// Runs until interrupted, or for `frames` frames when frames > 0. Returns
// edgectl's exit code (2: the daemon could not be asked).
int run_top(const std::string &socket, double interval_s, unsigned frames);

}  // namespace ep
