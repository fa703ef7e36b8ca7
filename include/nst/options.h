// The choices a run makes, as types, each with one parse (from the word a user types) and one name (the
// same word back). A word that is not one of them is a UsageError listing the ones that are; the program
// adds which option it was given for.
#pragma once
#include <string>

#include "nst/backend.h"

namespace nst {

enum class OptimizerKind { Adam, Lbfgs };
enum class InitKind { Content, Random, File };   // the starting image: the content, seeded noise, or a file
enum class ColorMode { None, Luminance, Histogram };  // colour control (Gatys et al. 2017), include/nst/color.h

OptimizerKind parse_optimizer(const std::string& word);  // adam | lbfgs
ColorMode parse_color_mode(const std::string& word);     // none | luminance | histogram
PoolKind parse_pooling(const std::string& word);         // max | avg
ConvAlgo parse_conv_algo(const std::string& word);       // direct | winograd | fastest
Precision parse_precision(const std::string& word);      // fp32 | tf32

const char* name(OptimizerKind k);
const char* name(ColorMode m);
const char* name(PoolKind k);
const char* name(ConvAlgo a);
const char* name(Precision p);

}  // namespace nst
