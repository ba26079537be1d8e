#pragma once
// Forwards to the public header for processor.cpp's `#include "scoring.hpp"`; goes away when
// that include names streamlearn/pipeline/scoring.hpp.
#include "streamlearn/pipeline/scoring.hpp"
