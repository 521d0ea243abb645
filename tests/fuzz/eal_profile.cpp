// Fuzz target: the EAL profile parser (config/eal_profile.cpp): the bytes as a profile file; when
// it parses, the EAL arguments made from it.
#include "meshgate/config/eal_profile.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto profile = meshgate::config::parse_profile(text, "fuzz.profile");
  if (!profile) return 0;
  (void)profile->eal_args();
  (void)profile->effective_main_lcore();
  return 0;
}
