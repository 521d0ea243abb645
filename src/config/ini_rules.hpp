// Table-driven dispatch of tokenized INI lines to key handlers (private to src/config).
//
// Each parser describes its sections as a table of SectionRule, each with a table of KeyRule;
// run_ini() does the checks every key shares (unknown section or key, a single-valued key given
// twice in one section, an empty value) and prefixes the handler's problem with "file:line: ".
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meshgate/base/result.hpp"
#include "meshgate/config/ini.hpp"

namespace meshgate::config::detail {

enum KeyFlags : unsigned {
  kSingle = 0,            // at most once per section instance, value required
  kRepeatable = 1u << 0,  // may appear again in the same section (values accumulate)
  kAllowEmpty = 1u << 1,  // `Key =` is meaningful
};

template <class Ctx>
struct KeyRule {
  std::string_view name;  // canonical spelling, used in messages; matched case-insensitively
  unsigned flags;
  // Applies one value. Returns the problem without location; `line` is for warnings and for
  // checks that run after the whole file has been read.
  Status (*apply)(Ctx& ctx, std::string_view key, std::string_view value, std::size_t line);
};

template <class Ctx>
struct SectionRule {
  std::string_view name;
  std::span<const KeyRule<Ctx>> keys;
  Status (*open)(Ctx& ctx, std::size_t line);  // at each header of this section; may be null
};

template <class Ctx>
Status run_ini(std::string_view text, const std::string& source,
               std::span<const SectionRule<Ctx>> sections, Ctx& ctx) {
  auto lines = tokenize_ini(text, source);
  if (!lines) return Error{lines.error()};
  const SectionRule<Ctx>* section = nullptr;
  std::vector<std::pair<const KeyRule<Ctx>*, std::size_t>> seen;  // this section instance
  for (const IniLine& l : *lines) {
    auto fail = [&](const std::string& problem) { return Error{where(source, l.line) + problem}; };
    if (l.is_section) {
      section = nullptr;
      for (const auto& s : sections) {
        if (iequals(s.name, l.name)) section = &s;
      }
      if (section == nullptr) return fail("unknown section [" + std::string(l.name) + "]");
      seen.clear();
      if (section->open != nullptr) {
        if (Status st = section->open(ctx, l.line); !st) return fail(st.error());
      }
      continue;
    }
    const KeyRule<Ctx>* rule = nullptr;
    for (const auto& k : section->keys) {
      if (iequals(k.name, l.name)) rule = &k;
    }
    if (rule == nullptr) {
      return fail("unknown key '" + std::string(l.name) + "' in [" + std::string(section->name) +
                  "]");
    }
    if ((rule->flags & kRepeatable) == 0) {
      for (const auto& [k, first] : seen) {
        if (k == rule) {
          return fail(std::string(rule->name) + " is given twice in [" +
                      std::string(section->name) + "] (first at line " + std::to_string(first) +
                      ")");
        }
      }
      seen.emplace_back(rule, l.line);
    }
    if (l.value.empty() && (rule->flags & kAllowEmpty) == 0) {
      return fail(std::string(rule->name) + " has an empty value");
    }
    if (Status st = rule->apply(ctx, rule->name, l.value, l.line); !st) return fail(st.error());
  }
  return ok_status();
}

}  // namespace meshgate::config::detail
