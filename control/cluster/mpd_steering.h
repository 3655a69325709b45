// DASH content steering in the MPD (DASH-IF CTS-001 v1.0 §5, ISO/IEC
// 23009-1 5th ed. ContentSteering): one <BaseURL serviceLocation="CLUSTER">
// per cluster (the pathways) and a <ContentSteering> element naming the
// steering server, added at MPD level. Done on the control side, per title,
// when the MPD is ingested (control/service_table.cc, the HTTP row's
// on_ingest hook): the stored MPD is the steered one, so serving it stays a
// zero-copy object like any other (nothing is rewritten per request).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ep::cluster {

struct MpdSteering {
    std::string server;            // the steering manifest's URL
    std::string default_location;  // defaultServiceLocation: the pathway to start on
    bool query_before_start = true;
    // (serviceLocation, absolute base URL ending in '/'), in model order.
    std::vector<std::pair<std::string, std::string>> locations;
};

// Adds the elements right after the MPD start tag (after any
// ProgramInformation, where the schema wants BaseURL). Refuses (false, *err)
// an MPD that is not one, already carries ContentSteering, or has its own
// MPD-level BaseURL (its segments live elsewhere: not ours to steer).
bool add_content_steering(std::string_view mpd, const MpdSteering &s, std::string *out,
                          std::string *err);

}  // namespace ep::cluster
