// Fuzz target: the config file parser: the bytes as a config file (config/ini.cpp's tokenizer,
// gateway_config's sections and keys), then, when it parses, the gateway settings merged from it
// (gateway_settings) and the `wg setconf` text made from it (wg_setconf).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meshgate/config/eal_profile.hpp"
#include "meshgate/config/gateway_config.hpp"
#include "meshgate/config/gateway_settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = meshgate::config::parse_config(text, "fuzz.conf");
  if (!cfg) return 0;
  (void)meshgate::config::merge_gateway_settings(*cfg, meshgate::config::EalProfile{});
  (void)meshgate::config::to_wg_setconf(*cfg);
  return 0;
}
