// Splitting text, one way for every reader: comma lists on the command line, CSV manifests.
#pragma once
#include <string>
#include <vector>

namespace nst {

// "a,b,c" -> {"a", "b", "c"}; empty fields are kept ("a,,b" has three).
std::vector<std::string> split(const std::string& s, char sep);

// One line of CSV (RFC 4180): fields separated by commas, a "quoted field" may hold commas, "" inside
// quotes is a quote; a trailing \r is dropped. Sets `unterminated` when a quote is left open.
std::vector<std::string> csv_fields(const std::string& line, bool* unterminated = nullptr);

// A path's extension with its dot, lower-cased: "photo.JPG" -> ".jpg"; "" when it has none.
std::string lower_extension(const std::string& path);

}  // namespace nst
