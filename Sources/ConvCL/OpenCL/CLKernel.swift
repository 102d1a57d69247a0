internal import COpenCL

/// A value passed to a kernel parameter.
enum KernelArgument {
    /// A global buffer, or a null pointer.
    case buffer(CLBuffer?)
    case int32(Int32)
    case float(Float)
    /// An OpenCL `ulong`.
    case uint64(UInt64)
    /// An OpenCL `int8` vector: up to eight values, the rest zero.
    case int32x8([Int32])
}

/// An OpenCL kernel. Setting arguments is not thread-safe in OpenCL, so a kernel is owned by one
/// dispatch at a time (the backend hands it out under a lock); it is not `Sendable`.
final class CLKernel {
    let handle: cl_kernel
    let name: String
    /// The program is kept alive as long as its kernel.
    let program: CLProgram

    init(program: CLProgram, name: String) throws {
        var status: cl_int = CL_SUCCESS
        let handle = clCreateKernel(program.handle, name, &status)
        try check(status, "clCreateKernel", "kernel \(name)")
        guard let handle else {
            throw OpenCLError(code: .outOfHostMemory, call: "clCreateKernel", context: "kernel \(name) returned nothing")
        }
        self.handle = handle
        self.name = name
        self.program = program
    }

    /// Sets the kernel's arguments, in order.
    func setArguments(_ arguments: [KernelArgument]) throws {
        for (index, argument) in arguments.enumerated() {
            let status: cl_int
            switch argument {
            case .buffer(let buffer?):
                var memory: cl_mem? = buffer.handle
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<cl_mem>.size, &memory)
            case .buffer(nil):
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<cl_mem>.size, nil)
            case .int32(var value):
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<Int32>.size, &value)
            case .float(var value):
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<Float>.size, &value)
            case .uint64(var value):
                status = clSetKernelArg(handle, cl_uint(index), MemoryLayout<UInt64>.size, &value)
            case .int32x8(let values):
                precondition(values.count <= 8, "an int8 argument holds at most 8 values, got \(values.count)")
                var padded = values + [Int32](repeating: 0, count: 8 - values.count)
                status = clSetKernelArg(handle, cl_uint(index), 8 * MemoryLayout<Int32>.size, &padded)
            }
            try check(status, "clSetKernelArg", "kernel \(name), argument \(index) = \(argument)")
        }
    }

    deinit {
        checkInDeinit(clReleaseKernel(handle), "clReleaseKernel")
    }
}
