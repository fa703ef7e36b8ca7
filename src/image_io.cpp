// Image files in and out (SPEC §3). JPEG through libjpeg-turbo and PNG through libpng, the decoders the
// field trusts (both fuzzed continuously upstream); BMP and TGA, which neither covers, through stb_image,
// which only ever sees files that are neither JPEG nor PNG. Every decoder writes straight into the float
// tensor, one row at a time, so a photo costs its tensor and the library's own buffers, not a second
// full-size copy (an interlaced PNG, which libpng hands over only whole, is the one exception).
//
// libjpeg and libpng report errors by longjmp: the functions that call them keep no C++ object with a
// destructor in their frame, and hand every row to a plain callback.
// jpeglib.h needs FILE and size_t declared before it.
#include <cstddef>
#include <cstdio>
// (kept apart so that include sorting leaves them first)
#include <jerror.h>
#include <jpeglib.h>
#include <png.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "nst/atomic_file.h"
#include "nst/error.h"
#include "nst/image.h"
#include "nst/text.h"

namespace nst {
namespace {

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Beyond this many pixels an image is refused once its header is read, before any pixel is decoded (a
// 16k x 16k photo is 256M pixels).
constexpr long long kMaxPixels = 1LL << 28;

// A progressive JPEG may have any number of scans, and a corrupt one can have millions of tiny ones that
// each make libjpeg pass over the whole coefficient buffer; real encoders write about 10. libjpeg-turbo's
// own fuzzers stop at 500, and so do we.
constexpr int kMaxJpegScans = 500;

// ---- EXIF orientation -------------------------------------------------------------------------------

// The Orientation tag (0x0112) of a JPEG's Exif APP1 payload ("Exif\0\0" then a TIFF header and IFD0);
// 1 (upright) when there is none or the payload is malformed.
int exif_orientation(const unsigned char* d, std::size_t n) {
  if (n < 14 || std::memcmp(d, "Exif\0\0", 6) != 0) return 1;
  d += 6;
  n -= 6;
  const bool le = d[0] == 'I' && d[1] == 'I';
  if (!le && !(d[0] == 'M' && d[1] == 'M')) return 1;
  auto u16 = [&](std::size_t at) { return unsigned(le ? d[at] | d[at + 1] << 8 : d[at] << 8 | d[at + 1]); };
  auto u32 = [&](std::size_t at) { return std::size_t(u16(le ? at + 2 : at)) << 16 | u16(le ? at : at + 2); };
  if (u16(2) != 42) return 1;
  const std::size_t ifd = u32(4);
  if (ifd > n - 2) return 1;
  const std::size_t count = u16(ifd);
  for (std::size_t i = 0; i < count && ifd + 2 + 12 * (i + 1) <= n; ++i) {
    const std::size_t e = ifd + 2 + 12 * i;
    if (u16(e) != 0x0112) continue;
    if (u16(e + 2) != 3 || u32(e + 4) != 1) return 1;  // SHORT, one value, held in the entry itself
    const unsigned v = u16(e + 8);
    return v >= 1 && v <= 8 ? int(v) : 1;
  }
  return 1;
}

// Where a stored pixel goes once the orientation is applied: the image as a viewer shows it. Orientations
// 5-8 swap width and height.
struct Orient {
  int tag = 1, stored_w = 0, stored_h = 0;
  bool swaps() const { return tag >= 5; }
  int out_w() const { return swaps() ? stored_h : stored_w; }
  int out_h() const { return swaps() ? stored_w : stored_h; }
  // The displayed (column, row) of the stored pixel (x, y), by the TIFF/EXIF definition of each tag.
  std::pair<int, int> map(int x, int y) const {
    const int W = stored_w, H = stored_h;
    switch (tag) {
      case 2: return {W - 1 - x, y};          // mirrored left-right
      case 3: return {W - 1 - x, H - 1 - y};  // rotated 180
      case 4: return {x, H - 1 - y};          // mirrored top-bottom
      case 5: return {y, x};                  // transposed
      case 6: return {H - 1 - y, x};          // shown rotated 90 clockwise
      case 7: return {H - 1 - y, W - 1 - x};  // transversed
      case 8: return {y, W - 1 - x};          // shown rotated 90 counter-clockwise
      default: return {x, y};
    }
  }
};

// Receives decoded rows of interleaved 8- or 16-bit RGB and puts them, oriented, into the 1x3xHxW tensor.
struct Sink {
  Orient orient;
  Tensor image;
  // Sizes the tensor for a stored w x h image shown with orientation `tag`; false when it is too large.
  bool start(int w, int h, int tag) {
    if (w <= 0 || h <= 0 || (long long)w * h > kMaxPixels) return false;
    orient = Orient{tag, w, h};
    image = Tensor::host(Shape{1, 3, orient.out_h(), orient.out_w()});
    return true;
  }
  void row8(int y, const unsigned char* rgb) { row(y, [rgb](int i) { return float(rgb[i]) / 255.f; }); }
  void row16(int y, const unsigned char* be) {  // PNG's big-endian 16-bit samples, scaled to [0,1]
    row(y, [be](int i) { return float(be[2 * i] << 8 | be[2 * i + 1]) / 65535.f; });
  }
  template <class Sample>
  void row(int y, Sample sample) {
    const std::size_t plane = std::size_t(orient.out_w()) * orient.out_h();
    float* d = image.data();
    for (int x = 0; x < orient.stored_w; ++x) {
      const auto [col, r] = orient.map(x, y);
      const std::size_t at = std::size_t(r) * orient.out_w() + col;
      for (int c = 0; c < 3; ++c) d[c * plane + at] = sample(3 * x + c);
    }
  }
};

// ---- JPEG (libjpeg-turbo) ---------------------------------------------------------------------------

struct JpegErrors {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_fail(j_common_ptr c) {
  auto* e = reinterpret_cast<JpegErrors*>(c->err);
  c->err->format_message(c, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings are libjpeg recovering from corrupt data, as every viewer does (a few stray bytes before a
// marker); a file that ends early is refused, as the rest of it would be invented grey.
void jpeg_warn(j_common_ptr c, int level) {
  if (level == -1 && c->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(c);
  if (level == -1) c->err->num_warnings++;
}

void jpeg_scan_limit(j_common_ptr c) {
  auto* d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number > kMaxJpegScans) {
    auto* e = reinterpret_cast<JpegErrors*>(c->err);
    std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxJpegScans);
    std::longjmp(e->jump, 1);
  }
}

// Adobe's CMYK and YCCK JPEGs (Photoshop's) store the inks inverted, 255 meaning none; the few others store
// them as they are. Either way a sample becomes its share of light, and R = (1 - C)(1 - K), etc.
void cmyk_to_rgb(const unsigned char* cmyk, unsigned char* rgb, int w, bool inverted) {
  for (int x = 0; x < w; ++x, cmyk += 4, rgb += 3) {
    const int k = inverted ? cmyk[3] : 255 - cmyk[3];
    for (int c = 0; c < 3; ++c) {
      const int ink = inverted ? cmyk[c] : 255 - cmyk[c];
      rgb[c] = (unsigned char)((ink * k + 127) / 255);
    }
  }
}

// Decodes into `sink`; on failure returns false with the reason in e.message (or too_large set).
bool decode_jpeg(std::FILE* f, jpeg_decompress_struct& cinfo, JpegErrors& e, Sink& sink, std::vector<unsigned char>& rows,
                 bool& too_large) {
  if (setjmp(e.jump)) return false;
  jpeg_stdio_src(&cinfo, f);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  int tag = 1;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next)
    if (m->marker == JPEG_APP0 + 1 && (tag = exif_orientation(m->data, m->data_length)) != 1) break;
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // grey and YCbCr both come out as RGB
  if (!sink.start(int(cinfo.image_width), int(cinfo.image_height), tag)) {
    too_large = true;
    return false;
  }
  jpeg_start_decompress(&cinfo);
  const int w = int(cinfo.output_width);
  rows.assign(std::size_t(w) * (cmyk ? 7 : 3), 0);  // a CMYK row, then its RGB
  unsigned char* in = rows.data();
  unsigned char* rgb = cmyk ? in + std::size_t(w) * 4 : in;
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y = int(cinfo.output_scanline);
    jpeg_read_scanlines(&cinfo, &in, 1);
    if (cmyk) cmyk_to_rgb(in, rgb, w, cinfo.saw_Adobe_marker);
    sink.row8(y, rgb);
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

Tensor load_jpeg(std::FILE* f, const std::string& path) {
  struct Decompress {  // destroyed however decoding ends, a C++ exception (out of memory) included
    jpeg_decompress_struct cinfo{};
    ~Decompress() { jpeg_destroy_decompress(&cinfo); }
  } d;
  JpegErrors e{};
  d.cinfo.err = jpeg_std_error(&e.mgr);
  e.mgr.error_exit = jpeg_fail;
  e.mgr.emit_message = jpeg_warn;
  jpeg_create_decompress(&d.cinfo);
  jpeg_progress_mgr progress{};
  progress.progress_monitor = jpeg_scan_limit;
  d.cinfo.progress = &progress;
  Sink sink;
  std::vector<unsigned char> rows;
  bool too_large = false;
  if (!decode_jpeg(f, d.cinfo, e, sink, rows, too_large)) {
    if (too_large)
      throw Error(path + ": image of " + std::to_string(d.cinfo.image_width) + "x" + std::to_string(d.cinfo.image_height) +
                  " pixels is too large");
    throw Error(path + ": corrupt or truncated JPEG (libjpeg: " + e.message + ")");
  }
  return std::move(sink.image);
}

// ---- PNG (libpng) -----------------------------------------------------------------------------------

struct PngErrors {
  std::jmp_buf jump;
  char message[256];
};

[[noreturn]] void png_fail(png_structp png, png_const_charp msg) {
  auto* e = static_cast<PngErrors*>(png_get_error_ptr(png));
  std::snprintf(e->message, sizeof e->message, "%s", msg);
  std::longjmp(e->jump, 1);
}

void png_warn(png_structp, png_const_charp) {}

// libpng's own reader says only "Read Error" when the file ends early.
void png_read_file(png_structp png, png_bytep out, std::size_t n) {
  auto* f = static_cast<std::FILE*>(png_get_io_ptr(png));
  if (std::fread(out, 1, n, f) != n) png_error(png, std::ferror(f) ? "a read error" : "the file ends before the image does");
}  // e.g. an unknown sRGB profile: the pixels are still right

bool decode_png(std::FILE* f, png_structp png, png_infop info, Sink& sink, std::vector<unsigned char>& rows,
                bool& too_large) {
  if (setjmp(static_cast<PngErrors*>(png_get_error_ptr(png))->jump)) return false;
  png_set_read_fn(png, f, png_read_file);
  // Ancillary chunks (text, ICC profiles) are held whole by libpng: no more than 16 MiB each.
  png_set_chunk_malloc_max(png, 16u << 20);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int depth = 0, color = 0, interlace = 0;
  png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, nullptr, nullptr);
  if (w > (1u << 30) || h > (1u << 30) || !sink.start(int(w), int(h), 1)) {
    too_large = true;
    return false;
  }
  png_set_expand(png);       // palette to RGB, grey of 1-4 bits to 8, a tRNS chunk to alpha
  png_set_strip_alpha(png);  // alpha is dropped (SPEC §3)
  png_set_gray_to_rgb(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const std::size_t bytes = png_get_rowbytes(png, info);
  const bool sixteen = png_get_bit_depth(png, info) == 16;
  if (bytes != std::size_t(w) * 3 * (sixteen ? 2 : 1)) png_error(png, "unexpected row layout after the transforms");
  // Rows one at a time; an interlaced image comes in 7 passes over the whole of it, so it is held whole.
  if (passes > 1) {
    rows.assign(bytes * h, 0);
    for (int pass = 0; pass < passes; ++pass)
      for (png_uint_32 y = 0; y < h; ++y) png_read_row(png, rows.data() + bytes * y, nullptr);
  } else {
    rows.assign(bytes, 0);
  }
  for (png_uint_32 y = 0; y < h; ++y) {
    const unsigned char* r = rows.data() + (passes > 1 ? bytes * y : 0);
    if (passes == 1) png_read_row(png, rows.data(), nullptr);
    sixteen ? sink.row16(int(y), r) : sink.row8(int(y), r);
  }
  return true;
}

Tensor load_png(std::FILE* f, const std::string& path) {
  PngErrors e{};
  struct Read {  // destroyed however decoding ends, a C++ exception (out of memory) included
    png_structp png = nullptr;
    png_infop info = nullptr;
    ~Read() { png_destroy_read_struct(&png, &info, nullptr); }
  } r;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, png_fail, png_warn);
  if (r.png) r.info = png_create_info_struct(r.png);
  if (!r.info) throw Error(path + ": out of memory reading it");
  Sink sink;
  std::vector<unsigned char> rows;
  bool too_large = false;
  if (!decode_png(f, r.png, r.info, sink, rows, too_large)) {
    if (too_large)
      throw Error(path + ": image of " + std::to_string(png_get_image_width(r.png, r.info)) + "x" +
                  std::to_string(png_get_image_height(r.png, r.info)) + " pixels is too large");
    throw Error(path + ": corrupt or truncated PNG (libpng: " + e.message + ")");
  }
  return std::move(sink.image);
}

// ---- BMP and TGA (stb_image) ------------------------------------------------------------------------

// stb_image also reads GIF, PSD, PIC, PNM and HDR files, which SPEC §3 does not cover, and its 2.27
// decoders for them are where fuzzing found bugs (fuzz/README.md): refused by their signatures first.
// JPEG and PNG never reach stb (load_image sends every file that begins with FF or the PNG signature to
// libjpeg or libpng), so stb's decoders for them, and their known bugs, are out of the way too.
const char* unsupported_format(const unsigned char* h, std::size_t n) {
  const std::string s(reinterpret_cast<const char*>(h), std::min<std::size_t>(n, 4));
  if (s.rfind("GIF8", 0) == 0) return "GIF";
  if (s == "8BPS") return "Photoshop";
  if (s == "\x53\x80\xF6\x34") return "Softimage PIC";
  if (s.rfind("P5", 0) == 0 || s.rfind("P6", 0) == 0) return "PNM";
  if (s.rfind("#?", 0) == 0) return "Radiance HDR";
  if (s.rfind("RIFF", 0) == 0) return "WebP";
  if (s == "II*\0" || s == "MM\0*") return "TIFF";
  return nullptr;
}

Tensor load_stb(std::FILE* f, const std::string& path) {
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_file(f, &w, &h, &channels))
    throw Error(path + ": not a readable image (" + stbi_failure_reason() + "); PNG, JPEG, BMP and TGA are supported");
  if (w <= 0 || h <= 0 || (long long)w * h > kMaxPixels)
    throw Error(path + ": image of " + std::to_string(w) + "x" + std::to_string(h) + " pixels is too large");
  // req_comp = 3: stb replicates grey to RGB and drops alpha, as SPEC §3 asks.
  std::unique_ptr<unsigned char, void (*)(void*)> px(stbi_load_from_file(f, &w, &h, &channels, 3), &stbi_image_free);
  if (!px) throw Error(path + ": cannot decode image (" + std::string(stbi_failure_reason()) + ")");
  Sink sink;
  sink.start(w, h, 1);
  for (int y = 0; y < h; ++y) sink.row8(y, px.get() + std::size_t(y) * w * 3);
  return std::move(sink.image);
}

// ---- writing ----------------------------------------------------------------------------------------

bool encode_png(std::FILE* f, png_structp png, png_infop info, const std::uint8_t* rgb, int h, int w) {
  if (setjmp(static_cast<PngErrors*>(png_get_error_ptr(png))->jump)) return false;
  png_init_io(png, f);
  png_set_IHDR(png, info, png_uint_32(w), png_uint_32(h), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; ++y) png_write_row(png, rgb + std::size_t(y) * w * 3);
  png_write_end(png, nullptr);
  return true;
}

bool encode_jpeg(std::FILE* f, jpeg_compress_struct& cinfo, JpegErrors& e, const std::uint8_t* rgb, int h, int w,
                 int quality) {
  if (setjmp(e.jump)) return false;
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = JDIMENSION(w);
  cinfo.image_height = JDIMENSION(h);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  // From quality 90 up, chroma at full resolution (4:4:4): a style's fine colour texture is what is kept.
  if (quality >= 90)
    for (int c = 0; c < 3; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(rgb + std::size_t(cinfo.next_scanline) * w * 3);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  return true;
}

// Writes the file at `tmp`; the reason in `why` when it fails.
bool write_image_file(const std::string& tmp, bool png_format, const std::uint8_t* rgb, int h, int w, int quality,
                      std::string& why) {
  File file(std::fopen(tmp.c_str(), "wb"), &std::fclose);
  if (!file) {
    why = std::strerror(errno);
    return false;
  }
  bool ok;
  if (png_format) {
    PngErrors e{};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, png_fail, png_warn);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    ok = info && encode_png(file.get(), png, info, rgb, h, w);
    png_destroy_write_struct(&png, &info);
    if (!ok) why = std::string("libpng: ") + (info ? e.message : "out of memory");
  } else {
    jpeg_compress_struct cinfo{};
    JpegErrors e{};
    cinfo.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jpeg_fail;
    jpeg_create_compress(&cinfo);
    ok = encode_jpeg(file.get(), cinfo, e, rgb, h, w, quality);
    jpeg_destroy_compress(&cinfo);
    if (!ok) why = std::string("libjpeg: ") + e.message;
  }
  if (ok && (std::fflush(file.get()) != 0 || std::ferror(file.get()))) {
    why = std::strerror(errno);
    ok = false;
  }
  if (std::fclose(file.release()) != 0 && ok) {
    why = std::strerror(errno);
    ok = false;
  }
  return ok;
}

}  // namespace

Tensor load_image(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, not an image");
  File file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw Error(path + ": cannot be read (" + std::strerror(errno) + ")");
  unsigned char head[8] = {};
  const std::size_t n = std::fread(head, 1, sizeof head, file.get());
  if (n == 0) throw Error(path + ": empty file, not an image (an interrupted download or copy?)");
  std::rewind(file.get());
  if (head[0] == 0xFF) return load_jpeg(file.get(), path);  // FF D8, or junk that libjpeg names
  if (n == 8 && std::memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0) return load_png(file.get(), path);
  if (const char* format = unsupported_format(head, n))
    throw Error(path + ": a " + format + " image; PNG, JPEG, BMP and TGA are supported");
  return load_stb(file.get(), path);
}

std::string image_libraries() {
  const int v = LIBJPEG_TURBO_VERSION_NUMBER;  // from jconfig.h: the headers built against
  return "JPEG libjpeg-turbo " + std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000) + ", PNG libpng " + png_get_libpng_ver(nullptr) + ", BMP/TGA stb_image";
}

bool is_jpeg_path(const std::string& path) {
  const std::string e = lower_extension(path);
  return e == ".jpg" || e == ".jpeg";
}

bool writable_image_extension(const std::string& path) {
  std::string e = lower_extension(path);
  return e == ".png" || e == ".jpg" || e == ".jpeg";
}

void save_image(const std::string& path, const std::vector<std::uint8_t>& rgb, int h, int w, int jpeg_quality) {
  NST_ASSERT(rgb.size() == std::size_t(h) * w * 3, "save_image byte count");
  NST_ASSERT(jpeg_quality >= 1 && jpeg_quality <= 100, "JPEG quality is 1..100");
  if (!writable_image_extension(path)) throw UsageError(path + ": the output must end in .png, .jpg or .jpeg");
  AtomicFile file(path);
  std::string why;
  if (!write_image_file(file.tmp(), lower_extension(path) == ".png", rgb.data(), h, w, jpeg_quality, why))
    throw Error(path + ": cannot write it (" + why + ")");
  file.commit();
}

}  // namespace nst
