// Who is calling, and what they may do. Every RPC learns its principal from
// the call (a bearer token, or a verified client certificate), never from
// the request; the command service stamps it as the actor of every event.
#ifndef PLANTRAIL_SERVICES_PRINCIPAL_H_
#define PLANTRAIL_SERVICES_PRINCIPAL_H_

#include <algorithm>
#include <string>
#include <vector>

#include "plantrail/v1/security.pb.h"

namespace plantrail::services {

struct Principal {
  std::string name;
  // What its credentials grant.
  std::vector<v1::Role> roles;
  // A planner limited to areas of these support areas; empty: all.
  std::vector<std::string> support_areas;

  bool Has(v1::Role role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  }
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PRINCIPAL_H_
