internal import COpenCL

/// An OpenCL event, marking one enqueued command.
final class CLEvent: @unchecked Sendable {
    // Safe to share: the handle is immutable, and waiting on or querying an event is thread-safe.
    let handle: cl_event

    init(handle: cl_event) {
        self.handle = handle
    }

    /// Blocks until the command has finished.
    func wait() throws {
        var event: cl_event? = handle
        try check(clWaitForEvents(1, &event), "clWaitForEvents")
    }

    /// The command's run time on the device in seconds, from the queue's profiling counters.
    /// Waits for the command first.
    func deviceSeconds() throws -> Double {
        try wait()
        func counter(_ parameter: Int32, _ name: String) throws -> cl_ulong {
            try queryScalar(cl_ulong.self, call: "clGetEventProfilingInfo", name: name) { size, value, returned in
                clGetEventProfilingInfo(handle, cl_profiling_info(parameter), size, value, returned)
            }
        }
        let start = try counter(CL_PROFILING_COMMAND_START, "CL_PROFILING_COMMAND_START")
        let end = try counter(CL_PROFILING_COMMAND_END, "CL_PROFILING_COMMAND_END")
        return Double(end &- start) * 1e-9
    }

    deinit {
        checkInDeinit(clReleaseEvent(handle), "clReleaseEvent")
    }
}

extension CLCommandQueue {
    /// Enqueues `kernel` over `globalSize` work-items (one to three dimensions), with the
    /// work-group size left to the driver when `localSize` is nil. Does not wait.
    func enqueue(_ kernel: CLKernel, globalSize: [Int], localSize: [Int]? = nil) throws -> CLEvent {
        precondition((1...3).contains(globalSize.count) && (localSize == nil || localSize!.count == globalSize.count))
        var event: cl_event?
        var global = globalSize
        var local = localSize ?? []
        let status = localSize == nil
            ? clEnqueueNDRangeKernel(handle, kernel.handle, cl_uint(global.count), nil, &global, nil, 0, nil, &event)
            : clEnqueueNDRangeKernel(handle, kernel.handle, cl_uint(global.count), nil, &global, &local, 0, nil, &event)
        try check(
            status, "clEnqueueNDRangeKernel",
            "kernel \(kernel.name), global size \(globalSize), local size \(localSize.map { "\($0)" } ?? "driver's choice")")
        guard let event else {
            throw OpenCLError(code: .outOfHostMemory, call: "clEnqueueNDRangeKernel", context: "returned no event")
        }
        return CLEvent(handle: event)
    }
}
