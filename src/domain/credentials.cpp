#include "domain/credentials.hpp"

#include <stdexcept>

namespace cdbemu::domain {

void Credentials::put(Credential credential) {
  std::string id = credential.secret_id;
  by_id_.insert_or_assign(std::move(id), std::move(credential));
}

const Credential *Credentials::find(std::string_view secret_id) const {
  const auto it = by_id_.find(secret_id);
  return it == by_id_.end() ? nullptr : &it->second;
}

Credential parse_credential_flag(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::invalid_argument("a credential must be SECRET_ID:SECRET_KEY");
  }
  Credential credential;
  credential.secret_id = std::string(text.substr(0, colon));
  credential.secret_key = std::string(text.substr(colon + 1));
  return credential;
}

}  // namespace cdbemu::domain
