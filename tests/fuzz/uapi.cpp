// Fuzz target: the UAPI protocol (control/uapi.cpp): the bytes as what a client such as `wg` writes
// to the socket (`get=1`, `set=1` requests and their lines), fed to a Connection on the real
// control thread's Device (uapi_server.cpp over Control) of the fuzzed gateway, then one step of
// the gateway so what the request changed goes live. The first byte splits the input into two
// reads, so lines broken across reads are fuzzed too.
#include "meshgate/control/uapi.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_gateway.hpp"
#include "meshgate/control/uapi_server.hpp"

using meshgate::fuzz::FuzzGateway;

namespace {

constexpr std::size_t kMaxPeers = 64;
constexpr std::size_t kMaxAllowedIps = 256;

/// Peers and allowed IPs the inputs add stay for the next ones; past a few dozen peers, or a few
/// hundred allowed IPs among them, every `get=1` of an input dumps them all and the run slows to
/// a crawl (a 12 s input was reported as a timeout; later, peers gathering allowed IPs input
/// after input took the rate from 4,500 to 850 inputs a second). The state starts again
/// instead: the fuzzer is after crashes, bench/ after the cost of big tables.
bool too_big(meshgate::control::Control& c) {
  const auto ids = c.peers().ids();
  if (ids.size() > kMaxPeers) return true;
  std::size_t ips = 0;
  for (const auto id : ids) ips += c.config().allowed_ips(id).size();
  return ips > kMaxAllowedIps;
}

meshgate::control::uapi::Device& device() {
  static std::unique_ptr<meshgate::control::uapi::Device> dev =
      meshgate::control::make_uapi_device(FuzzGateway::get().gw().control());
  return *dev;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut = data[0] < in.size() ? data[0] : in.size();
  meshgate::control::uapi::Connection conn(device());
  std::string out;
  if (conn.feed(in.substr(0, cut), out)) (void)conn.feed(in.substr(cut), out);
  conn.close();
  FuzzGateway::get().step();
  meshgate::control::Control& c = FuzzGateway::get().gw().control();
  if (too_big(c)) c.config().remove_all_peers();
  return 0;
}
