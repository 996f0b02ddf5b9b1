#pragma once
// Files compiled into the binary by cmake/embed_resources.cmake.

#include <span>
#include <string_view>

namespace cdbemu::resources {

/// One embedded file: its base name and bytes.
struct Resource {
  std::string_view name;
  std::string_view bytes;
};

/// schema/*.sql, sorted by name (the migration order).
std::span<const Resource> schema_files();

/// fixtures/*.json, the defaults used when --fixtures is not given.
std::span<const Resource> fixture_files();

}  // namespace cdbemu::resources
