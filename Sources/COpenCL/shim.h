#ifndef CONVCL_COPENCL_SHIM_H
#define CONVCL_COPENCL_SHIM_H

// ConvCL is written against OpenCL 1.2. Calls from later versions are used only
// after the device's version has been checked at run time.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#endif
