internal import COpenCL

/// An OpenCL context over one device; released when the last reference goes.
final class CLContext: @unchecked Sendable {
    // Safe to share: the handle is immutable, and OpenCL (1.1 and later) makes every call on a
    // context thread-safe.
    let handle: cl_context
    let device: CLDevice
    /// Buffers of this context not yet released (for the leak checks).
    let liveBuffers = Locked(0)

    init(device: CLDevice) throws {
        var status: cl_int = CL_SUCCESS
        var deviceID: cl_device_id? = device.id
        let handle = clCreateContext(nil, 1, &deviceID, nil, nil, &status)
        try check(status, "clCreateContext", "one device")
        guard let handle else {
            throw OpenCLError(code: .outOfHostMemory, call: "clCreateContext", context: "returned no context")
        }
        self.handle = handle
        self.device = device
    }

    deinit {
        checkInDeinit(clReleaseContext(handle), "clReleaseContext")
    }
}
