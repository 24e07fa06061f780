#pragma once
// Readable type names for reprs and remote errors.

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

namespace pexec::detail {

inline std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

template <class T>
std::string type_name() {
  if constexpr (std::is_void_v<T>) {
    return "void";
  } else {
    return demangle(typeid(T).name());
  }
}

/// The dynamic type name and message of a stored exception.
struct ExceptionDescription {
  std::string type;
  std::string message;
};

inline ExceptionDescription describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return {demangle(typeid(e).name()), e.what()};
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return {type ? demangle(type->name()) : "unknown", ""};
  }
}

}  // namespace pexec::detail
