// The cluster file (TOML) and the client CSV to a Model, and the checks a
// model must pass before it is used. Load and validate are separate so the
// reload framework can load a new file, validate it, and keep the running
// model when either says no.
//
// File format (docs/cluster_selection.md has the full list of keys):
//
//   policy = "load-aware"        # geo | measured | load-aware | content
//   clients = "clients.csv"      # relative to this file
//   geoip = true                 # place CSV rows without lat/lon (geoip-database)
//   [[cluster]]
//   name = "paris"  kind = "bring-home"  lat = 48.86  lon = 2.35
//   capacity_gbps = 400  health = "up"  v4 = ["10.77.0.2"]  titles = ["6Y7B23V"]
//   [[name]]
//   owner = "video.kingcdn.test"  ttl = 30  title = "6Y7B23V"
#pragma once

#include <istream>
#include <string>
#include <string_view>

#include "control/cluster/model.h"

namespace ep::cluster {

class GeoDb;

// Reads `path` and what it names (the clients CSV, the geolocation
// database). False with "FILE:LINE: why" in *err. Does not validate.
bool load_model(const std::string &path, Model *out, std::string *err);

// The same from text; relative file names resolve against base_dir.
bool parse_model(std::string_view text, const std::string &name, const std::string &base_dir,
                 Model *out, std::string *err);

// Client CSV: a header naming the columns (prefix required; lat, lon, asn,
// demand_gbps optional, in any order), then one network per line; '#'
// starts a comment line. A row without lat/lon is placed by `geo` (error
// when there is none or it does not know the prefix). Rows are appended to
// *out, replacing an earlier network with the same prefix (the database's).
bool parse_clients_csv(std::istream &in, const std::string &name, const GeoDb *geo,
                       std::vector<ClientNet> *out, std::string *err);

// "" when the model can be used, else the first reason it cannot.
std::string validate(const Model &m);

// Both, for the reload framework: loads and validates into *out; *out is
// untouched when it fails.
bool load_and_validate(const std::string &path, Model *out, std::string *err);

}  // namespace ep::cluster
