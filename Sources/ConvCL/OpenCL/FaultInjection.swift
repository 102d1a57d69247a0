/// Failures injected into an `OpenCLBackend`'s driver calls, for the reliability checks: armed for
/// one kind of call, the nth such call from then on fails as the driver would fail it, once.
final class FaultInjection: Sendable {
    enum Call: Sendable, Hashable {
        /// clCreateBuffer (a buffer from the backend's pool is not a call).
        case allocation
        /// clBuildProgram or clCreateProgramWithBinary.
        case build
        /// clEnqueueNDRangeKernel.
        case enqueue

        var name: String {
            switch self {
            case .allocation: "clCreateBuffer"
            case .build: "clBuildProgram"
            case .enqueue: "clEnqueueNDRangeKernel"
            }
        }

        /// What the driver would return: out of device memory, out of host memory, out of resources.
        var code: OpenCLError.Code {
            switch self {
            case .allocation: .memObjectAllocationFailure
            case .build: .outOfHostMemory
            case .enqueue: .outOfResources
            }
        }
    }

    private let armed = Locked<[Call: Int]>([:])

    /// The `count`th next `call` fails (1: the next one).
    func arm(_ call: Call, at count: Int) {
        armed.withLock { $0[call] = count }
    }

    /// Throws the injected failure if this call is the armed one.
    func check(_ call: Call, _ context: @autoclosure () -> String) throws {
        let fails = armed.withLock { armed -> Bool in
            guard let remaining = armed[call] else { return false }
            armed[call] = remaining > 1 ? remaining - 1 : nil
            return remaining == 1
        }
        if fails { throw OpenCLError(code: call.code, call: call.name, context: "injected fault: \(context())") }
    }
}
