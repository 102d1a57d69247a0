internal import COpenCL

/// An OpenCL program built for one device, from source or from a binary.
final class CLProgram: @unchecked Sendable {
    // Safe to share: the handle is immutable after the build, and creating kernels from a built
    // program is thread-safe.
    let handle: cl_program
    let context: CLContext

    /// Creates and builds a program from OpenCL C source.
    /// - Throws: `OpenCLError` with `CL_BUILD_PROGRAM_FAILURE` and the compiler's log when the
    ///   source does not compile.
    convenience init(source: String, name: String, options: String, context: CLContext) throws {
        var status: cl_int = CL_SUCCESS
        let handle = source.withCString { text -> cl_program? in
            var pointer: UnsafePointer<CChar>? = text
            return clCreateProgramWithSource(context.handle, 1, &pointer, nil, &status)
        }
        try check(status, "clCreateProgramWithSource", "kernel source \(name)")
        try self.init(handle: handle, context: context, call: "clCreateProgramWithSource")
        try build(name: name, options: options)
    }

    /// Creates and builds a program from a binary that an earlier build on the same device and
    /// driver produced.
    convenience init(binary: [UInt8], name: String, options: String, context: CLContext) throws {
        var status: cl_int = CL_SUCCESS
        var binaryStatus: cl_int = CL_SUCCESS
        var deviceID: cl_device_id? = context.device.id
        var length = binary.count
        let handle = binary.withUnsafeBufferPointer { bytes -> cl_program? in
            var pointer: UnsafePointer<UInt8>? = bytes.baseAddress
            return clCreateProgramWithBinary(context.handle, 1, &deviceID, &length, &pointer, &binaryStatus, &status)
        }
        try check(status, "clCreateProgramWithBinary", "cached binary of \(name), \(binary.count) bytes")
        try check(binaryStatus, "clCreateProgramWithBinary", "binary status of \(name)")
        try self.init(handle: handle, context: context, call: "clCreateProgramWithBinary")
        try build(name: name, options: options)
    }

    private init(handle: cl_program?, context: CLContext, call: String) throws {
        guard let handle else { throw OpenCLError(code: .outOfHostMemory, call: call, context: "returned no program") }
        self.handle = handle
        self.context = context
    }

    private func build(name: String, options: String) throws {
        var deviceID: cl_device_id? = context.device.id
        let status = clBuildProgram(handle, 1, &deviceID, options, nil, nil)
        if status == CL_SUCCESS { return }
        let log = (try? buildLog()) ?? "(the build log could not be read)"
        throw OpenCLError(
            code: .init(rawValue: status), call: "clBuildProgram",
            context: "kernel source \(name) with options \"\(options)\"", buildLog: log)
    }

    /// The compiler's messages from the last build.
    func buildLog() throws -> String {
        try queryString(call: "clGetProgramBuildInfo", name: "CL_PROGRAM_BUILD_LOG") { size, value, returned in
            clGetProgramBuildInfo(handle, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), size, value, returned)
        }
    }

    /// The program's binary for its device, to cache on disk.
    func binary() throws -> [UInt8] {
        var size = 0
        try check(
            clGetProgramInfo(handle, cl_program_info(CL_PROGRAM_BINARY_SIZES), MemoryLayout<Int>.size, &size, nil),
            "clGetProgramInfo", "CL_PROGRAM_BINARY_SIZES")
        var bytes = [UInt8](repeating: 0, count: size)
        try bytes.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            try check(
                clGetProgramInfo(
                    handle, cl_program_info(CL_PROGRAM_BINARIES), MemoryLayout<UnsafeMutablePointer<UInt8>?>.size,
                    &pointer, nil),
                "clGetProgramInfo", "CL_PROGRAM_BINARIES, \(size) bytes")
        }
        return bytes
    }

    deinit {
        checkInDeinit(clReleaseProgram(handle), "clReleaseProgram")
    }
}
