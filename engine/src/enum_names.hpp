// Enums named by a table of strings in declaration order: one lookup serves every such enum.
#pragma once

#include <cstddef>
#include <string_view>

namespace ledger {

template <typename E, std::size_t N>
bool enum_from_name(const char* const (&names)[N], std::string_view name, E& out) {
  for (std::size_t i = 0; i < N; ++i) {
    if (name == names[i]) {
      out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

}  // namespace ledger
