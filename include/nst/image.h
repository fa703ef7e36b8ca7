// Images in and out (SPEC §3): PNG (libpng), JPEG (libjpeg-turbo), BMP and TGA (stb_image) read into a
// 1x3xHxW host tensor as value/255 (value/65535 for 16-bit PNG), grey replicated to RGB, alpha dropped,
// palettes expanded, CMYK/YCCK JPEGs converted to RGB and a JPEG's EXIF orientation applied; resized with
// an antialiasing filter; written as 8-bit PNG or JPEG through a temporary file, so a failure leaves no
// partial output.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nst/tensor.h"

namespace nst {

// The image upright, as a viewer shows it. Throws nst::Error naming the file and what is wrong (missing,
// empty, not an image, truncated or corrupt with what libjpeg/libpng said, more than 2^28 pixels).
Tensor load_image(const std::string& path);

// Height and width with the long side `size` and the aspect ratio kept (the short side rounded, halves up).
std::pair<int, int> fit_long_side(int h, int w, int size);

// A resampled copy: Mitchell-filtered when shrinking (every source pixel contributes, no aliasing),
// Catmull-Rom when enlarging; a bit-exact copy when the size is unchanged.
Tensor resize_image(const Tensor& image, int h, int w);

// A uniform [0,1] image from a splitmix64 stream: the same seed gives the same image everywhere.
Tensor noise_image(int h, int w, unsigned long long seed);

// A host image 1x3xHxW clamped to [0,1] and rounded to 8 bits (round(255 v), halves up, NaN -> 0), as
// H*W*3 interleaved RGB bytes: what save_image takes. The CPU backend's to_rgb8 is this; the CUDA
// backend's (kernels/to_rgb8.cu) does the same on the device.
std::vector<std::uint8_t> to_rgb8(const Tensor& host);
void to_rgb8(const Tensor& host, std::uint8_t* out);  // the same into H*W*3 bytes at `out`

// The decoders and their versions, for nst info: "JPEG libjpeg-turbo 2.1.5, PNG libpng 1.6.39, BMP/TGA stb_image".
std::string image_libraries();

// Whether the output path's extension is one we write (.png, .jpg, .jpeg), checked before any work.
bool writable_image_extension(const std::string& path);
bool is_jpeg_path(const std::string& path);  // .jpg or .jpeg, in any case

// Writes H*W*3 interleaved RGB bytes as PNG or JPEG (of the quality given, 1-100; 4:4:4 chroma from 90
// up) by the extension, via PATH.tmp + rename.
constexpr int kDefaultJpegQuality = 95;
void save_image(const std::string& path, const std::vector<std::uint8_t>& rgb, int h, int w,
                int jpeg_quality = kDefaultJpegQuality);

}  // namespace nst
