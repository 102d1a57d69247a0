#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a pthread mutex: the lock for the backend's shared state.
///
/// Not `Synchronization.Mutex`: on Linux its contended path waits on a futex inside the
/// uninstrumented runtime, so ThreadSanitizer misses the hand-over and reports races that are not
/// there (reproduced with eight threads incrementing a dictionary under Swift 6.3.1). TSan
/// intercepts pthread mutexes, so with this lock `ci/sanitize.sh thread` reports only real races.
final class Locked<Value>: @unchecked Sendable {
    // Safe to share: `value` is only touched with `mutex` held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed with \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the value with the lock held.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
