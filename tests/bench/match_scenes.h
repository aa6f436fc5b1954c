// File: tests/bench/match_scenes.h
//
// Generated unrelated images for the false-match benchmarks (match_fp,
// match_orb): photo-like scenes (sky and ground gradients split at a
// horizon, a textured ground, soft-edged objects) whose shared structure
// (bright top, darker bottom) is what makes unrelated photos' hashes closer
// than chance. Deterministic for a given generator state. Thread-compatible.
#ifndef OPTOUT_TESTS_BENCH_MATCH_SCENES_H_
#define OPTOUT_TESTS_BENCH_MATCH_SCENES_H_

#include <random>

#include "client/pdq/image.h"

namespace optout::bench {

// A width x height RGB scene drawn from `rng`. `texture_gain` scales the
// ground's noise: 1.0 for photo-like scenes, ~0.08 for smooth ones, most of
// which hash in the low-quality tier (quality 15..49).
pdq::Image Scene(int width, int height, std::mt19937& rng, double texture_gain);

}  // namespace optout::bench

#endif  // OPTOUT_TESTS_BENCH_MATCH_SCENES_H_
