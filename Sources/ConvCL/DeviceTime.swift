/// Collects the events of the kernels enqueued while it is current.
final class EventRecorder: Sendable {
    @TaskLocal static var current: EventRecorder?

    private let events = Locked<[(event: CLEvent, kernel: String)]>([])

    func record(_ event: CLEvent, kernel: String) { events.withLock { $0.append((event, kernel)) } }

    /// The names of the recorded kernels, in launch order.
    var kernels: [String] { events.withLock { $0.map(\.kernel) } }

    /// Waits for every recorded kernel and sums their run times on the device.
    func deviceSeconds() throws -> Double {
        try events.withLock { $0 }.reduce(0) { $0 + (try $1.event.deviceSeconds()) }
    }
}

extension OpenCLBackend {
    /// Runs `body`, waits for the kernels it enqueued, and returns its result with their total run
    /// time on the device (from the queue's profiling counters: kernel execution only, no host
    /// overhead or transfers).
    public func measureDeviceTime<T>(_ body: () throws -> T) throws -> (result: T, seconds: Double) {
        let recorder = EventRecorder()
        let result = try EventRecorder.$current.withValue(recorder) { try body() }
        return (result, try recorder.deviceSeconds())
    }
}
