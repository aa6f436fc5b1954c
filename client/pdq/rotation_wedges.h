// File: client/pdq/rotation_wedges.h
//
// A photo turned by a few degrees onto a larger canvas and cropped (the
// rotate family of README.md#matching) shows blank triangles ("wedges") in
// some corners, of the editor's background colour. Hashed as they are, the
// wedges are a pattern every copy turned by the same angle shares, whatever
// its picture: owner windows that carried them drew unrelated turned copies
// 12 bits closer. So neither side hashes them: the owner's turned windows
// extend the picture past its edges (clamped, match_regions.cc), and the
// checker fills the wedges of its copy with the picture next to them
// before hashing it whole once more (CheckerRegions).
//
// Abseil-free and free of transcendental functions (it is built for
// WebAssembly too). Pure function; thread-safe.
#ifndef OPTOUT_CLIENT_PDQ_ROTATION_WEDGES_H_
#define OPTOUT_CLIENT_PDQ_ROTATION_WEDGES_H_

#include <vector>

namespace optout::pdq {

// Finds rotation wedges in the corners of a luma plane (row-major, width x
// height, covering a source of source_width x source_height pixels). When at least two corners hold wedges whose legs agree on one
// small angle (about 0.5-8 degrees), writes the plane to `filled` with each
// wedge pixel replaced by the picture pixel just past the wedge's long
// side, and returns true; otherwise returns false and leaves `filled` alone.
bool FillRotationWedges(const std::vector<float>& luma, int width, int height, int source_width,
                        int source_height, std::vector<float>* filled);

}  // namespace optout::pdq

#endif  // OPTOUT_CLIENT_PDQ_ROTATION_WEDGES_H_
