import Foundation
internal import COpenCL

/// An error returned by an OpenCL call: the status code, the call that returned it, and what the
/// call was doing (the values it was given).
///
/// Vendors and extensions add codes of their own (the ICD loader returns -1001 when no platform is
/// installed), so the code is an open struct rather than a closed enum: an unknown code is kept and
/// shown by number.
public struct OpenCLError: Error, Sendable, CustomStringConvertible {
    /// An OpenCL status code (`cl_int`).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// `CL_DEVICE_NOT_FOUND`: no device of the requested type.
        public static let deviceNotFound = Code(rawValue: -1)
        /// `CL_MEM_OBJECT_ALLOCATION_FAILURE`: the device could not allocate a buffer.
        public static let memObjectAllocationFailure = Code(rawValue: -4)
        /// `CL_OUT_OF_RESOURCES`: the device ran out of resources.
        public static let outOfResources = Code(rawValue: -5)
        /// `CL_OUT_OF_HOST_MEMORY`: the host ran out of memory.
        public static let outOfHostMemory = Code(rawValue: -6)
        /// `CL_BUILD_PROGRAM_FAILURE`: the kernel source did not compile.
        public static let buildProgramFailure = Code(rawValue: -11)
        /// `CL_INVALID_VALUE`: an argument was out of range.
        public static let invalidValue = Code(rawValue: -30)
        /// `CL_INVALID_BINARY`: a program binary was not valid for the device.
        public static let invalidBinary = Code(rawValue: -42)
        /// `CL_INVALID_BUFFER_SIZE`: a buffer size of zero or above the device's limit.
        public static let invalidBufferSize = Code(rawValue: -61)
        /// `CL_PLATFORM_NOT_FOUND_KHR`: the ICD loader found no platform.
        public static let platformNotFound = Code(rawValue: -1001)

        /// The C name of the code (`CL_OUT_OF_RESOURCES`), or `unknown OpenCL status N`.
        public var name: String { Self.names[rawValue] ?? "unknown OpenCL status \(rawValue)" }
        public var description: String { "\(name) (\(rawValue))" }

        private static let names: [Int32: String] = [
            0: "CL_SUCCESS", -1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE",
            -3: "CL_COMPILER_NOT_AVAILABLE", -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE",
            -5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY",
            -7: "CL_PROFILING_INFO_NOT_AVAILABLE", -8: "CL_MEM_COPY_OVERLAP",
            -9: "CL_IMAGE_FORMAT_MISMATCH", -10: "CL_IMAGE_FORMAT_NOT_SUPPORTED",
            -11: "CL_BUILD_PROGRAM_FAILURE", -12: "CL_MAP_FAILURE",
            -13: "CL_MISALIGNED_SUB_BUFFER_OFFSET",
            -14: "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST",
            -15: "CL_COMPILE_PROGRAM_FAILURE", -16: "CL_LINKER_NOT_AVAILABLE",
            -17: "CL_LINK_PROGRAM_FAILURE", -18: "CL_DEVICE_PARTITION_FAILED",
            -19: "CL_KERNEL_ARG_INFO_NOT_AVAILABLE",
            -30: "CL_INVALID_VALUE", -31: "CL_INVALID_DEVICE_TYPE", -32: "CL_INVALID_PLATFORM",
            -33: "CL_INVALID_DEVICE", -34: "CL_INVALID_CONTEXT",
            -35: "CL_INVALID_QUEUE_PROPERTIES", -36: "CL_INVALID_COMMAND_QUEUE",
            -37: "CL_INVALID_HOST_PTR", -38: "CL_INVALID_MEM_OBJECT",
            -39: "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR", -40: "CL_INVALID_IMAGE_SIZE",
            -41: "CL_INVALID_SAMPLER", -42: "CL_INVALID_BINARY", -43: "CL_INVALID_BUILD_OPTIONS",
            -44: "CL_INVALID_PROGRAM", -45: "CL_INVALID_PROGRAM_EXECUTABLE",
            -46: "CL_INVALID_KERNEL_NAME", -47: "CL_INVALID_KERNEL_DEFINITION",
            -48: "CL_INVALID_KERNEL", -49: "CL_INVALID_ARG_INDEX", -50: "CL_INVALID_ARG_VALUE",
            -51: "CL_INVALID_ARG_SIZE", -52: "CL_INVALID_KERNEL_ARGS",
            -53: "CL_INVALID_WORK_DIMENSION", -54: "CL_INVALID_WORK_GROUP_SIZE",
            -55: "CL_INVALID_WORK_ITEM_SIZE", -56: "CL_INVALID_GLOBAL_OFFSET",
            -57: "CL_INVALID_EVENT_WAIT_LIST", -58: "CL_INVALID_EVENT", -59: "CL_INVALID_OPERATION",
            -60: "CL_INVALID_GL_OBJECT", -61: "CL_INVALID_BUFFER_SIZE", -62: "CL_INVALID_MIP_LEVEL",
            -63: "CL_INVALID_GLOBAL_WORK_SIZE", -64: "CL_INVALID_PROPERTY",
            -65: "CL_INVALID_IMAGE_DESCRIPTOR", -66: "CL_INVALID_COMPILER_OPTIONS",
            -67: "CL_INVALID_LINKER_OPTIONS", -68: "CL_INVALID_DEVICE_PARTITION_COUNT",
            -69: "CL_INVALID_PIPE_SIZE", -70: "CL_INVALID_DEVICE_QUEUE",
            -71: "CL_INVALID_SPEC_ID", -72: "CL_MAX_SIZE_RESTRICTION_EXCEEDED",
            -1001: "CL_PLATFORM_NOT_FOUND_KHR",
        ]
    }

    /// The status the call returned.
    public let code: Code
    /// The OpenCL function that failed, e.g. `clBuildProgram`.
    public let call: String
    /// What the call was doing, with the values it was given.
    public let context: String
    /// The compiler's log, for a failed program build.
    public let buildLog: String?

    public init(code: Code, call: String, context: String = "", buildLog: String? = nil) {
        self.code = code
        self.call = call
        self.context = context
        self.buildLog = buildLog
    }

    public var description: String {
        var text = "\(call) failed with \(code)"
        if !context.isEmpty { text += ": \(context)" }
        if let buildLog, !buildLog.isEmpty { text += "\nbuild log:\n\(buildLog)" }
        return text
    }
}

/// The one funnel for OpenCL status codes: every `cl*` call's status passes through here.
/// - Parameters:
///   - call: the OpenCL function's name.
///   - context: what it was doing, with values; built only when the call fails.
@inline(__always)
func check(_ status: cl_int, _ call: String, _ context: @autoclosure () -> String = "") throws {
    if status != CL_SUCCESS {
        throw OpenCLError(code: .init(rawValue: status), call: call, context: context())
    }
}

/// Checks the status of a call in a `deinit` (a release or a finish), where nothing can be thrown.
/// These fail only for an invalid handle, which would be a bug in ConvCL: it is reported on stderr.
func checkInDeinit(_ status: cl_int, _ call: String) {
    if status != CL_SUCCESS {
        let message = "convcl: \(call) failed with \(OpenCLError.Code(rawValue: status)) (a bug in ConvCL)\n"
        FileHandle.standardError.write(Data(message.utf8))
    }
}
