// File: service/descriptor_limit.h
//
// File descriptors are what idle connections exhaust (issue 9, finding 4):
// optoutd raises its soft RLIMIT_NOFILE to the hard limit at start, so the
// idle and age timeouts have the most room to clear connections before
// accept() fails.
#ifndef OPTOUT_SERVICE_DESCRIPTOR_LIMIT_H_
#define OPTOUT_SERVICE_DESCRIPTOR_LIMIT_H_

namespace optout::service {

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
int RaiseDescriptorLimit();

}  // namespace optout::service

#endif  // OPTOUT_SERVICE_DESCRIPTOR_LIMIT_H_
