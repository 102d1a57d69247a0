import Foundation
internal import COpenCL

/// An OpenCL platform (one installed driver). Platforms are not reference-counted in OpenCL:
/// there is nothing to release.
struct CLPlatform: @unchecked Sendable {  // a cl_platform_id is an immutable handle valid for the process
    let id: cl_platform_id

    /// Every platform the ICD loader finds. No platform at all is an empty list, not an error
    /// (the loader reports that as CL_PLATFORM_NOT_FOUND_KHR).
    static func all() throws -> [CLPlatform] {
        _ = driverDefaults
        var count: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &count)
        if status == OpenCLError.Code.platformNotFound.rawValue { return [] }
        try check(status, "clGetPlatformIDs", "counting platforms")
        if count == 0 { return [] }
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        try check(clGetPlatformIDs(count, &ids, nil), "clGetPlatformIDs", "listing \(count) platforms")
        return ids.compactMap { $0.map(CLPlatform.init) }
    }

    /// Settings for drivers that read them from the environment, made once before the first
    /// OpenCL call, each only where the user has not set it:
    /// - `POCL_WORK_GROUP_SPECIALIZATION=0`: PoCL compiles each kernel once, for any work-group
    ///   size, instead of again for every work-group size it is launched with (a cold im2col-gemm
    ///   conv2d compiled its GEMM kernel twice, 0.8 s each; the bench ran no slower, see
    ///   docs/performance.md).
    private static let driverDefaults: Void = {
        setenv("POCL_WORK_GROUP_SPECIALIZATION", "0", 0)
    }()

    func string(_ parameter: Int32, _ name: String) throws -> String {
        try queryString(call: "clGetPlatformInfo", name: name) { size, value, sizeReturned in
            clGetPlatformInfo(id, cl_platform_info(parameter), size, value, sizeReturned)
        }
    }

    /// The platform's devices of every type; none is an empty list.
    func devices() throws -> [CLDevice] {
        var count: cl_uint = 0
        let type = cl_device_type(CL_DEVICE_TYPE_ALL)
        let status = clGetDeviceIDs(id, type, 0, nil, &count)
        if status == CL_DEVICE_NOT_FOUND { return [] }
        try check(status, "clGetDeviceIDs", "counting the devices of a platform")
        var ids = [cl_device_id?](repeating: nil, count: Int(count))
        try check(clGetDeviceIDs(id, type, count, &ids, nil), "clGetDeviceIDs", "listing \(count) devices")
        return ids.compactMap { $0.map { CLDevice(id: $0, platform: self) } }
    }
}

/// Reads a string property through an OpenCL `clGet*Info` function: first its size, then its bytes.
func queryString(
    call: String,
    name: String,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
) throws -> String {
    var size = 0
    try check(query(0, nil, &size), call, "size of \(name)")
    if size == 0 { return "" }
    var bytes = [UInt8](repeating: 0, count: size)
    try bytes.withUnsafeMutableBytes { buffer in
        try check(query(size, buffer.baseAddress, nil), call, "reading \(name) (\(size) bytes)")
    }
    if let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) }
    return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
}

/// Reads a fixed-size property through an OpenCL `clGet*Info` function.
func queryScalar<T: FixedWidthInteger>(
    _: T.Type,
    call: String,
    name: String,
    _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int
) throws -> T {
    var value: T = 0
    try withUnsafeMutableBytes(of: &value) { buffer in
        try check(query(MemoryLayout<T>.size, buffer.baseAddress, nil), call, "reading \(name)")
    }
    return value
}
