// A network of the real scale (DESIGN.md: 32 regions, 8 warehouses, ~2,000 dealers, ~12,000 stores,
// 200-500 SKUs), as master-data commands. Shared by the demo, the simulation tests and benchmarks.
#pragma once

#include <string>
#include <vector>

#include <functional>

#include "ledger/commands.hpp"

namespace ledger {
class Engine;
}

namespace ledger::demo {

struct NetworkSize {
  int regions = 32;
  int warehouses = 8;
  int dealers = 2000;
  int stores = 12000;
  int skus = 300;
};

std::string region_id(int i);
std::string warehouse_id(int i);
std::string dealer_id(int i);
std::string store_id(int i);
std::string sku_id(int i);
// The region a dealer or store belongs to, and a store's dealer (deterministic).
int region_of_dealer(int dealer, const NetworkSize& size);
int dealer_of_store(int store, const NetworkSize& size);

// Regions, warehouses, dealers, stores and SKUs, in an order that satisfies every reference.
std::vector<Command> network_commands(const NetworkSize& size);

// Loads the network and some history (receipts, transfers down the tiers, reservations, a rejected
// adjustment) into `engine`, saying what each step did. Idempotent: fixed command ids.
void load_history(Engine& engine, const NetworkSize& size, std::int64_t now_us,
                  const std::function<void(const std::string&)>& say);

}  // namespace ledger::demo
