// `meshgate --set-role ROLE --config FILE`: switches a running gateway of a high-availability
// pair to active or standby through its UAPI socket (the meshgate_role key), so keepalived's
// notify script needs nothing but the meshgate binary (role.cpp).
#pragma once

#include <string>

namespace meshgate::app {

/// Sends `set=1` with meshgate_role=`role` to the UAPI socket of `tunnel` and reports the
/// gateway's answer. Returns the process's exit code (errors go to stderr).
int set_role(const std::string& tunnel, const std::string& role);

}  // namespace meshgate::app
