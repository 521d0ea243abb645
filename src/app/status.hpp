// `meshgate --status FILE`: the running gateway's reflexive address, NAT class and STUN
// counters, for a person at a shell (status.cpp).
#pragma once

#include <string>

namespace meshgate::app {

/// Reads FILE's MetricsListen, fetches the gateway's /metrics there and prints the NAT status
/// to stdout. Returns the process's exit code (errors go to stderr).
int print_status(const std::string& config_path);

}  // namespace meshgate::app
