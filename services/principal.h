// Who is calling, and what they may do. Every RPC learns its principal from
// the call (a bearer token, or a verified client certificate), never from
// the request; the command service stamps it as the actor of every event.
#ifndef PLANTRAIL_SERVICES_PRINCIPAL_H_
#define PLANTRAIL_SERVICES_PRINCIPAL_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "plantrail/v1/security.pb.h"

namespace plantrail::services {

struct Principal {
  std::string name;
  // What its credentials grant.
  std::vector<v1::Role> roles;
  // A planner limited to areas of these support areas; empty: all.
  std::vector<std::string> support_areas;
  // A planner or reader limited to these plans; empty: every plan (and the
  // areas without one).
  std::vector<std::string> plans;
  // The token the call was authenticated by; empty for a client
  // certificate (whose grants are the live tokens granted to `name`).
  std::string token_id;
  // When what these credentials allow next changes by itself: the token's
  // expiry, or for a certificate the first expiry among its grants. A
  // long-lived call (a subscription) checks its credentials again then.
  absl::Time expires_at = absl::InfiniteFuture();

  bool Has(v1::Role role) const {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
  }
  // Whether the principal may see (and, with its roles, change) plan
  // `plan_id`; empty: the areas without a plan.
  bool SeesPlan(const std::string& plan_id) const {
    return plans.empty() ||
           (!plan_id.empty() &&
            std::find(plans.begin(), plans.end(), plan_id) != plans.end());
  }
};

}  // namespace plantrail::services

#endif  // PLANTRAIL_SERVICES_PRINCIPAL_H_
