internal import COpenCL

/// A device buffer; released when the last reference goes (OpenCL frees it once the commands
/// that use it have finished).
final class CLBuffer: @unchecked Sendable {
    // Safe to share: the handle and size are immutable; reads and writes go through a queue,
    // whose calls are thread-safe.
    let handle: cl_mem
    /// The size in bytes the caller asked for (a zero-byte request allocates a small buffer,
    /// since OpenCL rejects size 0).
    let byteCount: Int
    /// Counts this buffer among its context's live ones.
    private let context: CLContext

    init(context: CLContext, byteCount: Int, maxAllocation: Int) throws {
        // Checked here so that an oversized request gets a clear error naming the sizes: drivers
        // answer it with CL_INVALID_BUFFER_SIZE, or accept it and fail later on first use.
        if byteCount > maxAllocation {
            throw OpenCLError(
                code: .invalidBufferSize, call: "clCreateBuffer",
                context: "\(byteCount) bytes requested; the device allows at most \(maxAllocation) bytes in one buffer")
        }
        var status: cl_int = CL_SUCCESS
        let handle = clCreateBuffer(context.handle, cl_mem_flags(CL_MEM_READ_WRITE), max(byteCount, 16), nil, &status)
        try check(status, "clCreateBuffer", "\(byteCount) bytes")
        guard let handle else {
            throw OpenCLError(code: .memObjectAllocationFailure, call: "clCreateBuffer", context: "\(byteCount) bytes")
        }
        self.handle = handle
        self.byteCount = byteCount
        self.context = context
        context.liveBuffers.withLock { $0 += 1 }
    }

    /// Copies `bytes` to the start of the buffer; returns once the copy is done.
    func write(_ bytes: UnsafeRawBufferPointer, queue: CLCommandQueue) throws {
        precondition(bytes.count <= byteCount, "write of \(bytes.count) bytes into a \(byteCount)-byte buffer")
        guard bytes.count > 0, let source = bytes.baseAddress else { return }
        try check(
            clEnqueueWriteBuffer(queue.handle, handle, cl_bool(CL_TRUE), 0, bytes.count, source, 0, nil, nil),
            "clEnqueueWriteBuffer", "\(bytes.count) bytes")
    }

    /// Copies the start of the buffer into `bytes`; returns once the copy is done, after every
    /// command enqueued before it (the queue is in order).
    func read(into bytes: UnsafeMutableRawBufferPointer, queue: CLCommandQueue) throws {
        precondition(bytes.count <= byteCount, "read of \(bytes.count) bytes from a \(byteCount)-byte buffer")
        guard bytes.count > 0, let target = bytes.baseAddress else { return }
        try check(
            clEnqueueReadBuffer(queue.handle, handle, cl_bool(CL_TRUE), 0, bytes.count, target, 0, nil, nil),
            "clEnqueueReadBuffer", "\(bytes.count) bytes")
    }

    deinit {
        checkInDeinit(clReleaseMemObject(handle), "clReleaseMemObject")
        context.liveBuffers.withLock { $0 -= 1 }
    }
}
