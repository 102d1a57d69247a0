/// An error found by ConvCL itself, before anything is dispatched: bad arguments, a device that
/// does not exist, a kernel source that cannot be found. Failures of OpenCL calls are
/// `OpenCLError`s.
public enum ConvCLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument of an operation is wrong: which operation, which argument, and why (with values).
    case invalidArgument(operation: String, argument: String, reason: String)
    /// A device request matched no OpenCL device.
    case deviceNotFound(request: String, reason: String)
    /// A kernel source could not be found or read.
    case kernelSourceUnavailable(name: String, reason: String)

    public var description: String {
        switch self {
        case .invalidArgument(let operation, let argument, let reason):
            "\(operation): invalid \(argument): \(reason)"
        case .deviceNotFound(let request, let reason):
            "no OpenCL device matches \"\(request)\": \(reason)"
        case .kernelSourceUnavailable(let name, let reason):
            "kernel source \(name) unavailable: \(reason)"
        }
    }
}
