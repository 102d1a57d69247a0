import Synchronization

/// Counts the OpenCL objects ConvCL's wrapper holds, by kind: each wrapper increments in its
/// initializer and decrements in its `deinit`. Tests use it to show that nothing leaks.
final class LiveObjects: Sendable {
    enum Kind: CaseIterable { case context, commandQueue, buffer, program, kernel, event }

    static let shared = LiveObjects()

    private let counts = Mutex<[Kind: Int]>([:])

    func created(_ kind: Kind) { counts.withLock { $0[kind, default: 0] += 1 } }
    func released(_ kind: Kind) { counts.withLock { $0[kind, default: 0] -= 1 } }

    /// How many objects of each kind are alive now.
    var snapshot: [Kind: Int] { counts.withLock { $0 } }
}
