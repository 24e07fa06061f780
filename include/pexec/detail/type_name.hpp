#pragma once
// Readable type names for reprs and remote errors.

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

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

/// The chain of a stored exception, innermost cause first, as Python prints a traceback's
/// causes: each std::nested_exception level (std::throw_with_nested) is the cause of the one
/// that holds it.
inline std::vector<ExceptionDescription> describe_chain(std::exception_ptr error);

inline ExceptionDescription describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    // std::throw_with_nested(X) throws libstdc++'s wrapper of X: X is what was thrown.
    std::string type = demangle(typeid(e).name());
    constexpr std::string_view kWrapper = "std::_Nested_exception<";
    if (type.starts_with(kWrapper) && type.ends_with(">"))
      type = type.substr(kWrapper.size(), type.size() - kWrapper.size() - 1);
    return {type, e.what()};
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return {type ? demangle(type->name()) : "unknown", ""};
  }
}

inline std::vector<ExceptionDescription> describe_chain(std::exception_ptr error) {
  std::vector<ExceptionDescription> chain;
  while (error && chain.size() < 64) {
    chain.insert(chain.begin(), describe(error));
    std::exception_ptr cause;
    try {
      std::rethrow_exception(error);
    } catch (const std::nested_exception& nested) {
      cause = nested.nested_ptr();
    } catch (...) {
    }
    error = cause;
  }
  return chain;
}

}  // namespace pexec::detail
