// The declaration in include/CFuzzer.h is all this module holds; libFuzzer defines the function.
#include "CFuzzer.h"
