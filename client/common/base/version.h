// File: client/common/base/version.h
//
// The project version (CMake's `project(... VERSION x.y.z)`), one definition
// for `optout --version`, `optoutd --version` and GetInfo.server_version.
#ifndef OPTOUT_CLIENT_COMMON_BASE_VERSION_H_
#define OPTOUT_CLIENT_COMMON_BASE_VERSION_H_

namespace optout {

// "0.1.0": set by CMake when it configures version.cc.in.
extern const char kVersion[];

}  // namespace optout

#endif  // OPTOUT_CLIENT_COMMON_BASE_VERSION_H_
