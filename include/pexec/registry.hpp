#pragma once
/// The registry of functions that a ProcessPoolExecutor may call in its worker processes.
/// A worker is the same program image, so a function is named by the text of its name:
///
///     int square(int x) { return x * x; }
///     PEXEC_REGISTER(square);            // one line per function, at namespace scope
///
/// Arguments and results cross the process boundary as nlohmann::json values, so any type with
/// to_json/from_json works. Overloaded functions need a cast or a wrapper with its own name.

#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

namespace pexec::detail {

/// Calls a registered function with JSON arguments (an array) and returns its JSON result.
using Invoker = nlohmann::json (*)(const void* fn, const nlohmann::json& args);

struct RegisteredFunction {
  const void* fn;
  Invoker invoke;
};

struct Registry {
  std::unordered_map<std::string, RegisteredFunction> by_name;
  std::unordered_map<const void*, std::string> names;
};

inline Registry& registry() {
  static Registry instance;
  return instance;
}

template <class R, class... P>
nlohmann::json invoke_registered(const void* fn, const nlohmann::json& args) {
  auto function = reinterpret_cast<R (*)(P...)>(const_cast<void*>(fn));
  if (args.size() != sizeof...(P)) {
    throw std::invalid_argument("expected " + std::to_string(sizeof...(P)) + " arguments, got " +
                                std::to_string(args.size()));
  }
  auto call = [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) {
    return function(args.at(I).template get<std::decay_t<P>>()...);
  };
  if constexpr (std::is_void_v<R>) {
    call(std::index_sequence_for<P...>{});
    return nullptr;
  } else {
    return nlohmann::json(call(std::index_sequence_for<P...>{}));
  }
}

/// What PEXEC_REGISTER declares: adds one function to the registry during static initialisation.
struct Registration {
  template <class R, class... P>
  Registration(const char* name, R (*fn)(P...)) {
    const void* address = reinterpret_cast<const void*>(fn);
    registry().by_name[name] = {address, &invoke_registered<R, P...>};
    registry().names[address] = name;
  }
};

/// The registered name of a function, or std::invalid_argument if it was not registered.
template <class R, class... P>
const std::string& registered_name(R (*fn)(P...)) {
  auto found = registry().names.find(reinterpret_cast<const void*>(fn));
  if (found == registry().names.end()) {
    throw std::invalid_argument("function is not registered for process workers: add PEXEC_REGISTER(name)");
  }
  return found->second;
}

}  // namespace pexec::detail

#define PEXEC_DETAIL_CONCAT2(a, b) a##b
#define PEXEC_DETAIL_CONCAT(a, b) PEXEC_DETAIL_CONCAT2(a, b)

/// Makes `function` callable in ProcessPoolExecutor workers. One line, at namespace scope.
// clang-format off
#define PEXEC_REGISTER(function)                                                                     \
  static const ::pexec::detail::Registration PEXEC_DETAIL_CONCAT(pexec_registration_, __COUNTER__) { \
    #function, &function                                                                             \
  }
// clang-format on
