internal import COpenCL

/// An in-order OpenCL command queue with profiling enabled (device times come from its events).
final class CLCommandQueue: @unchecked Sendable {
    // Safe to share: the handle is immutable, and enqueueing from several threads is thread-safe
    // in OpenCL 1.1 and later.
    let handle: cl_command_queue
    let context: CLContext

    init(context: CLContext) throws {
        var status: cl_int = CL_SUCCESS
        // clCreateCommandQueue is the 1.2 entry point; its 2.0 successor is not needed here.
        let handle = clCreateCommandQueue(
            context.handle, context.device.id, cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE), &status)
        try check(status, "clCreateCommandQueue", "in-order queue with profiling")
        guard let handle else {
            throw OpenCLError(code: .outOfHostMemory, call: "clCreateCommandQueue", context: "returned no queue")
        }
        self.handle = handle
        self.context = context
    }

    /// Blocks until every command enqueued so far has finished.
    func finish() throws {
        try check(clFinish(handle), "clFinish")
    }

    deinit {
        // Wait for pending work so buffers and kernels are not released under running commands;
        // neither call fails for a valid queue.
        checkInDeinit(clFinish(handle), "clFinish")
        checkInDeinit(clReleaseCommandQueue(handle), "clReleaseCommandQueue")
    }
}
