import Foundation

/// One program ConvCL builds: a kernel source (`Kernels/<source>.cl`) and its build options, the
/// few defines that choose a variant (a tile size, a reduction): sizes are kernel arguments. A
/// program made from a table (the elementwise operations) also has a generated header, the
/// `#define`s of its row, named by `variant`.
struct ProgramSpec: Hashable, Sendable, CustomStringConvertible {
    let source: String
    let options: String
    /// What the header defines, for messages and the kernel table (empty without a header).
    let variant: String
    /// OpenCL C put before the source's own text.
    let header: String

    /// `defines` as `-DNAME=value` options, sorted by name so that equal variants share a program.
    init(_ source: String, _ defines: [String: Int] = [:], extra: String = "", variant: String = "", header: String = "") {
        self.source = source
        let sorted = defines.sorted { $0.key < $1.key }.map { "-D\($0.key)=\($0.value)" }
        options = (sorted + (extra.isEmpty ? [] : [extra])).joined(separator: " ")
        self.variant = variant
        self.header = header
    }

    init(source: String, options: String) {
        self.init(source, extra: options)
    }

    /// The whole OpenCL C text the program compiles: the prelude, the header, the source.
    func text() throws -> String { try KernelSources.source(named: source, header: header) }

    var description: String {
        [variant.isEmpty ? source : "\(source)[\(variant)]", options].filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// How program builds report: quietly, with the compiler's log kept for errors, unless
/// `CONVCL_BUILD_LOG` is set (to anything but empty or 0): then every build's log and time go to
/// stderr, and warnings are not suppressed. `CONVCL_BUILD_WARNINGS` (set the same way) keeps
/// warnings on without printing anything: the test suite sets it to read the warnings of the
/// programs its backends build, instead of building each program a second time to see them.
enum BuildLog {
    static let verbose = isSet("CONVCL_BUILD_LOG")

    /// Whether builds keep the compiler's warnings (in their logs).
    static let keepsWarnings = verbose || isSet("CONVCL_BUILD_WARNINGS")

    private static func isSet(_ name: String) -> Bool {
        let value = ProcessInfo.processInfo.environment[name] ?? ""
        return !value.isEmpty && value != "0"
    }

    /// The options that keep the kernel compiler quiet: PoCL's clang prints "N warnings
    /// generated." on the process's stderr whatever happens to the build log, so warnings are off
    /// in normal builds (the test suite builds every program with them on and expects none).
    static var quietOption: String { keepsWarnings ? "" : "-w" }

    static func report(_ spec: ProgramSpec, seconds: Double, log: String) {
        guard verbose else { return }
        let trimmed = log.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = "convcl: built \(spec) in \(String(format: "%.3f", seconds)) s" + (trimmed.isEmpty ? "\n" : ":\n\(trimmed)\n")
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// A program being built, or built: the first caller that needs a program builds it, and any
/// other caller that needs it meanwhile waits here instead of building it again.
final class ProgramSlot: @unchecked Sendable {
    // Safe to share: `result` is only read and written with `condition` locked.
    fileprivate let condition = NSCondition()
    fileprivate var result: Result<CLProgram, any Error>?

    func finish(_ result: Result<CLProgram, any Error>) {
        condition.lock()
        self.result = result
        condition.broadcast()
        condition.unlock()
    }

    func wait() throws -> CLProgram {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return try result!.get()
    }
}

/// Which kernels an `OpenCLBackend`'s operations run: the specialised ones (vector tiles, unrolled
/// windows: fast, but 0.5–1.5 s each to compile on PoCL) or the generic first-call ones (a plain
/// loop per output, a fraction of that to compile).
public enum KernelTier: String, Sendable, CaseIterable {
    /// The specialised kernels once they are built or in the on-disk cache. Until then an
    /// operation small enough to finish on the generic kernels before its specialised programs
    /// could be built runs the generic ones, and its specialised programs build in the background
    /// once no caller has waited for a build for a while (PoCL compiles one program at a time
    /// per process, so a background build would delay every build a caller waits for); later
    /// calls switch to them when they are ready. A larger operation waits for its specialised
    /// programs. The default, unless `CONVCL_KERNEL_TIER` names another.
    case automatic
    /// Always the specialised kernels: a first call waits for their build.
    case specialized
    /// Always the generic kernels (for checking them).
    case generic

    /// `CONVCL_KERNEL_TIER` (automatic, specialized or generic), else automatic.
    /// - Throws: `ConvCLError.invalidArgument` for any other value.
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KernelTier {
        guard let text = environment["CONVCL_KERNEL_TIER"], !text.isEmpty else { return .automatic }
        guard let tier = KernelTier(rawValue: text.lowercased()) else {
            throw ConvCLError.invalidArgument(
                operation: "OpenCLBackend", argument: "CONVCL_KERNEL_TIER",
                reason: "expected automatic, specialized or generic, got \"\(text)\"")
        }
        return tier
    }
}

/// The specialised programs an `OpenCLBackend` builds in the background (see `KernelTier`): queued
/// by operations that ran the generic kernels instead, built one at a time by one worker, each
/// only once no caller has waited for a build for `quietSeconds`. With a build helper (see
/// `BuildHelper`), the worker hands everything queued to it at once, without waiting: the helper
/// compiles on another core and does not hold this process's compiler; the worker then loads
/// each program (from the cache, or building what the helper did not, so that a compile error
/// still reaches the operation).
final class BackgroundBuilds: Sendable {
    static let quietSeconds = 0.5
    private let state = Locked<
        (queue: [ProgramSpec], queued: Set<ProgramSpec>, working: Bool, lastForeground: UInt64, foregroundBuilds: Int)
    >(([], [], false, 0, 0))

    private static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Runs `body`, a build that a caller waits for: no background build starts meanwhile.
    func foregroundBuild<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock {
            $0.foregroundBuilds += 1
            $0.lastForeground = Self.now
        }
        defer {
            state.withLock {
                $0.foregroundBuilds -= 1
                $0.lastForeground = Self.now
            }
        }
        return try body()
    }

    /// Queues `spec`, and starts the worker if it is idle; `build` builds one program. The caller
    /// is taken to be about to wait for a build (of the generic program it runs instead).
    func enqueue(
        _ spec: ProgramSpec, helper: @escaping @Sendable ([ProgramSpec]) -> Bool, build: @escaping @Sendable (ProgramSpec) -> Void
    ) {
        let start = state.withLock { state -> Bool in
            state.lastForeground = Self.now
            guard state.queued.insert(spec).inserted else { return false }
            state.queue.append(spec)
            defer { state.working = true }
            return !state.working
        }
        guard start else { return }
        // The worker keeps the backend alive until the queue is empty; a process that exits
        // meanwhile abandons it.
        DispatchQueue.global(qos: .utility).async { self.work(helper, build) }
    }

    private func work(_ helper: @Sendable ([ProgramSpec]) -> Bool, _ build: @Sendable (ProgramSpec) -> Void) {
        while BuildHelper.command.withLock({ $0 }) != nil {
            let batch = state.withLock { state -> [ProgramSpec] in
                defer { state.queue = [] }
                return state.queue
            }
            if batch.isEmpty || !helper(batch) {
                state.withLock { $0.queue = batch + $0.queue }
                break
            }
            batch.forEach(build)
        }
        while true {
            let quiet = state.withLock { $0.foregroundBuilds > 0 ? 0 : Double(Self.now &- $0.lastForeground) / 1e9 }
            if quiet < Self.quietSeconds {
                Thread.sleep(forTimeInterval: Self.quietSeconds - quiet)
                continue
            }
            let next = state.withLock { state -> ProgramSpec? in
                guard !state.queue.isEmpty else {
                    state.working = false
                    return nil
                }
                return state.queue.removeFirst()
            }
            guard let next else { return }
            build(next)
        }
    }

    /// Whether the worker is idle with nothing queued.
    var isIdle: Bool { state.withLock { !$0.working } }
}

extension ProgramSlot {
    /// Whether the build has finished (successfully or not).
    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return result != nil
    }
}
