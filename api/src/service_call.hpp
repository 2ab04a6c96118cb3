// One request in flight: what the handlers of service*.cpp share about it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "service.hpp"

namespace ledger::api {

struct Service::Call : std::enable_shared_from_this<Service::Call> {
  Request req;
  std::string request_id;
  Respond respond;
  std::function<void(Response&&, EventStreamRequest)> stream;
  std::vector<std::string> segments;  // path split on '/', decoded, without the leading empty one
  std::map<std::string, std::string, std::less<>> query;
  Principal principal;
  std::string command_id;
  bool answered = false;
  bool authenticated = false;
  bool auth_retried = false;

  std::string q(std::string_view key) const {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  }
};

}  // namespace ledger::api
