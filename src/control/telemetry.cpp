// DPDK telemetry commands (read with dpdk-telemetry.py -f <file-prefix>):
//   /meshgate/info                   tunnel, listen port, HA role, peer and lcore counts
//   /meshgate/peers                  public keys of the peers (base64), in PeerId order
//   /meshgate/peer,<n|public key>    one peer: endpoint, bytes, packets, handshakes
//   /meshgate/workers                lcore names: worker0.., control
//   /meshgate/worker,<name>          one lcore's packet counters
//   /meshgate/drops[,<name>]         drops by reason: summed over lcores, or one lcore's
//   /meshgate/nat                    reflexive address, NAT class, STUN counters by verdict
//
// The callbacks run on DPDK's telemetry thread; they ask the control thread for a snapshot
// through MetricsHub and never touch the gateway's tables themselves.
#include <rte_config.h>
#include <rte_telemetry.h>

#include <cstdlib>
#include <cstring>

#include "meshgate/control/gateway.hpp"
#include "meshgate/control/metrics.hpp"
#include "meshgate/dataplane/drops.hpp"

namespace meshgate::control {

namespace {

constexpr std::chrono::milliseconds kWait{200};

MetricsSnapshot snapshot() {
  return MetricsHub::instance().fresh(kWait);
}

void add_u64(rte_tel_data* d, const char* name, std::uint64_t v) {
  rte_tel_data_add_dict_u64(d, name, v);
}

int cmd_info(const char*, const char*, rte_tel_data* d) {
  const MetricsSnapshot s = snapshot();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "tunnel", s.tunnel.c_str());
  add_u64(d, "listen_port", s.listen_port);
  rte_tel_data_add_dict_string(d, "role", s.standby ? "standby" : "active");
  add_u64(d, "peers", s.peers.size());
  add_u64(d, "lcores", s.lcores.size());
  return 0;
}

int cmd_peers(const char*, const char*, rte_tel_data* d) {
  const MetricsSnapshot s = snapshot();
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  for (std::size_t i = 0; i < s.peers.size() && i < RTE_TEL_MAX_ARRAY_ENTRIES; ++i) {
    rte_tel_data_add_array_string(d, to_base64(as_bytes(s.peers[i].public_key)).c_str());
  }
  return 0;
}

int cmd_peer(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr || *params == '\0') return -EINVAL;
  const MetricsSnapshot s = snapshot();
  const PeerMetrics* p = nullptr;
  char* end = nullptr;
  const unsigned long n = std::strtoul(params, &end, 10);
  if (*end == '\0' && n < s.peers.size()) {
    p = &s.peers[n];
  } else {
    for (const PeerMetrics& q : s.peers) {
      if (to_base64(as_bytes(q.public_key)) == params) p = &q;
    }
  }
  if (p == nullptr) return -EINVAL;
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_string(d, "public_key", to_base64(as_bytes(p->public_key)).c_str());
  rte_tel_data_add_dict_string(d, "endpoint", p->endpoint.known() ? p->endpoint.str().c_str() : "");
  add_u64(d, "rx_bytes", p->rx_bytes);
  add_u64(d, "tx_bytes", p->tx_bytes);
  add_u64(d, "rx_packets", p->rx_packets);
  add_u64(d, "tx_packets", p->tx_packets);
  add_u64(d, "handshakes", p->handshakes);
  add_u64(d, "last_handshake_sec", static_cast<std::uint64_t>(p->last_handshake.sec));
  rte_tel_data_add_dict_string(d, "path", p->path.c_str());
  add_u64(d, "relay_channel", p->endpoint.channel);
  if (p->rtt_seconds >= 0) {
    add_u64(d, "rtt_us", static_cast<std::uint64_t>(p->rtt_seconds * 1e6));
  }
  add_u64(d, "path_changes", p->path_changes);
  add_u64(d, "path_age_sec", p->path_age_seconds);
  std::string candidates;
  for (const auto& [ep, kind] : p->candidates) {
    candidates.append(candidates.empty() ? "" : ", ").append(ep.str()).append(" ").append(kind);
  }
  rte_tel_data_add_dict_string(d, "candidates", candidates.c_str());
  return 0;
}

int cmd_workers(const char*, const char*, rte_tel_data* d) {
  const MetricsSnapshot s = snapshot();
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  for (const LcoreMetrics& l : s.lcores) rte_tel_data_add_array_string(d, l.name.c_str());
  return 0;
}

const LcoreMetrics* find_lcore(const MetricsSnapshot& s, const char* name) {
  for (const LcoreMetrics& l : s.lcores) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

int cmd_worker(const char*, const char* params, rte_tel_data* d) {
  if (params == nullptr) return -EINVAL;
  const MetricsSnapshot s = snapshot();
  const LcoreMetrics* l = find_lcore(s, params);
  if (l == nullptr) return -EINVAL;
  rte_tel_data_start_dict(d);
  add_u64(d, "rx_inner", l->rx_inner);
  add_u64(d, "rx_outer", l->rx_outer);
  add_u64(d, "tx_inner", l->tx_inner);
  add_u64(d, "tx_outer", l->tx_outer);
  add_u64(d, "encrypted", l->encrypted);
  add_u64(d, "decrypted", l->decrypted);
  add_u64(d, "opened_for_others", l->opened_for_others);
  add_u64(d, "stalls", l->stalls);
  add_u64(d, "to_control", l->to_control);
  add_u64(d, "reassembled", l->reassembled);
  std::uint64_t dropped = 0;
  for (std::uint64_t v : l->drops) dropped += v;
  add_u64(d, "dropped", dropped);
  return 0;
}

int cmd_drops(const char*, const char* params, rte_tel_data* d) {
  const MetricsSnapshot s = snapshot();
  std::vector<std::uint64_t> sum(dataplane::kDropCount, 0);
  if (params != nullptr && *params != '\0') {
    const LcoreMetrics* l = find_lcore(s, params);
    if (l == nullptr) return -EINVAL;
    sum = l->drops;
  } else {
    for (const LcoreMetrics& l : s.lcores) {
      for (std::size_t i = 0; i < l.drops.size() && i < sum.size(); ++i) sum[i] += l.drops[i];
    }
  }
  rte_tel_data_start_dict(d);
  for (std::size_t i = 0; i < sum.size() && i < dataplane::kDropCount; ++i) {
    add_u64(d, dataplane::drop_name(i), sum[i]);
  }
  return 0;
}

/// Telemetry refuses strings of RTE_TEL_MAX_STRING_LEN or more; a long description is cut.
void add_str(rte_tel_data* d, const char* name, const std::string& v) {
  rte_tel_data_add_dict_string(d, name, v.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
}

std::string str_or_empty(const Endpoint& e) {
  return e.known() ? e.str() : std::string();
}

int cmd_nat(const char*, const char*, rte_tel_data* d) {
  const MetricsSnapshot s = snapshot();
  const NatMetrics& n = s.nat;
  rte_tel_data_start_dict(d);
  std::string servers;
  for (const Endpoint& e : n.servers) servers.append(servers.empty() ? "" : ",").append(e.str());
  add_str(d, "servers", servers);
  add_str(d, "reflexive", str_or_empty(n.reflexive));
  add_str(d, "server", str_or_empty(n.reflexive_server));
  add_u64(d, "reflexive_age_sec", n.reflexive_age_seconds);
  add_str(d, "mapping", n.mapping);
  add_str(d, "filtering", n.filtering);
  add_str(d, "class", n.nat_class);
  add_str(d, "description", n.description);
  add_u64(d, "requests", n.requests);
  add_u64(d, "retransmissions", n.retransmissions);
  add_u64(d, "not_sent", n.not_sent);
  add_u64(d, "timeouts", n.timeouts);
  add_u64(d, "address_changes", n.address_changes);
  for (const auto& [verdict, v] : n.messages) add_u64(d, ("messages_" + verdict).c_str(), v);
  return 0;
}

int cmd_turn(const char*, const char*, rte_tel_data* d) {
  const MetricsSnapshot s = snapshot();
  const TurnMetrics& t = s.turn;
  rte_tel_data_start_dict(d);
  add_str(d, "server", str_or_empty(t.server));
  add_str(d, "state", t.state);
  add_str(d, "relayed", str_or_empty(t.relayed));
  add_u64(d, "lifetime_sec", t.lifetime_seconds);
  add_u64(d, "requests", t.requests);
  add_u64(d, "retransmissions", t.retransmissions);
  add_u64(d, "not_sent", t.not_sent);
  add_u64(d, "timeouts", t.timeouts);
  add_u64(d, "allocations", t.allocations);
  for (const auto& [verdict, v] : t.messages) add_u64(d, ("messages_" + verdict).c_str(), v);
  return 0;
}

}  // namespace

void register_telemetry() {
  static bool done = false;  // the commands are process-wide; the main thread registers them
  if (done) return;
  done = true;
  rte_telemetry_register_cmd("/meshgate/info", cmd_info,
                             "Tunnel name, listen port, counts. No parameters");
  rte_telemetry_register_cmd("/meshgate/peers", cmd_peers, "Peer public keys. No parameters");
  rte_telemetry_register_cmd("/meshgate/peer", cmd_peer,
                             "One peer's counters. Parameters: peer index or base64 public key");
  rte_telemetry_register_cmd("/meshgate/workers", cmd_workers, "Lcore names. No parameters");
  rte_telemetry_register_cmd("/meshgate/worker", cmd_worker,
                             "One lcore's counters. Parameters: lcore name");
  rte_telemetry_register_cmd("/meshgate/drops", cmd_drops,
                             "Drops by reason. Parameters: lcore name (none: summed over lcores)");
  rte_telemetry_register_cmd("/meshgate/nat", cmd_nat,
                             "Reflexive address, NAT class, STUN counters. No parameters");
  rte_telemetry_register_cmd("/meshgate/turn", cmd_turn,
                             "TURN server, state, relayed address, counters. No parameters");
}

}  // namespace meshgate::control
