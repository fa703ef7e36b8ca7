// stb_image compiled into the fuzz target with the sanitizers and coverage on. The main build takes the
// decoders from Debian's libstb.so, which is neither instrumented nor visible to libFuzzer's coverage;
// these definitions take precedence over the shared library's, so load_image runs instrumented code.
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
