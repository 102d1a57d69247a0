import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Program builds in a second process, so that a cold start compiles on two cores.
///
/// PoCL 3.1 compiles one program at a time per process, whatever the threads and contexts, so a
/// process that needs eight programs waits for eight builds in a row. A helper process (the
/// executable named by `OpenCLBackend.buildHelper`, which `clconv` sets to its own
/// `build-programs` command) takes a list of programs and builds each into the on-disk cache,
/// while the backend builds the ones it needs now. The two meet through the cache: each build is
/// claimed first (`ProgramCache.claim`), and a program the other process is building is waited
/// for, not built twice. Whatever the helper does not build (it failed to start, or exited) the
/// backend builds itself, as without a helper; results never depend on which process built a
/// program.
///
/// The helper reads a job folder: `device` (the device's index in `Devices.list()` and the
/// parent's process id) and, per program, `NNNN.cl` (its whole OpenCL C text) and `NNNN.options`.
/// It builds them in order, skips those cached or claimed, and exits when its parent does.
enum BuildHelper {
    /// The helper's command line (the job folder is appended), or nil for builds in this process
    /// only.
    static let command = Locked<[String]?>(nil)

    /// Longest wait for a helper before it is stopped and the rest built in this process.
    static let timeoutSeconds = 600.0

    /// The job folders in use, each with its helper's process id (0 before it starts).
    private static let running = Locked<[String: pid_t]>([:])

    /// Whether the process is exiting, and how many programs it is compiling now.
    private static let compiles = Locked<(exiting: Bool, inFlight: Int)>((false, 0))

    /// Registers, once, an exit handler that stops the running helpers and waits for them, then
    /// removes their job folders: a helper still compiling when its parent returns would write
    /// into the caches after the parent has gone (the helper's own watch of its parent takes up
    /// to 50 ms), and a caller removing those folders then (a test's, a container build's) finds
    /// them not empty. It then waits for the compiles in flight in this process's other threads
    /// (a background build), and no new one starts: PoCL's own teardown, which runs after this
    /// handler, crashed under a compile in flight (ThreadSanitizer caught it: a background
    /// worker woken by its helper's end started building in-process while the process exited).
    static let exitHandler: Void = {
        atexit {
            BuildHelper.compiles.withLock { $0.exiting = true }
            for (folder, helper) in BuildHelper.running.withLock({ $0 }) {
                if helper > 0 {
                    kill(helper, SIGKILL)
                    // Foundation may reap it first (then waitpid fails): either way it has ended.
                    var status: Int32 = 0
                    for _ in 0..<1000 where waitpid(helper, &status, WNOHANG) == 0 { usleep(1000) }
                }
                try? FileManager.default.removeItem(atPath: folder)
            }
            // A compile takes seconds at most; the wait is bounded all the same.
            for _ in 0..<10_000 where BuildHelper.compiles.withLock({ $0.inFlight }) > 0 { usleep(1000) }
        }
    }()

    /// Runs `compile` (a program's build in this process) unless the process is exiting, counted
    /// for the exit handler's wait.
    /// - Throws: `ConvCLError.invalidArgument` once the process is exiting; `compile`'s errors.
    static func compiling<T>(_ spec: ProgramSpec, _ compile: () throws -> T) throws -> T {
        _ = exitHandler
        let started = compiles.withLock { state -> Bool in
            guard !state.exiting else { return false }
            state.inFlight += 1
            return true
        }
        guard started else {
            throw ConvCLError.invalidArgument(operation: "build", argument: "\(spec)", reason: "the process is exiting")
        }
        defer { compiles.withLock { $0.inFlight -= 1 } }
        return try compile()
    }

    /// Builds `specs` in a helper process (`command`, the job folder appended) into `cache`, for
    /// the device at `deviceIndex`; returns when the helper has exited, false when there is
    /// nothing to build or it could not start.
    static func build(_ specs: [ProgramSpec], command: [String], options: (ProgramSpec) -> String, deviceIndex: Int, cache: URL) -> Bool {
        guard let executable = command.first, !specs.isEmpty else { return false }
        _ = exitHandler
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "convcl-build-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        // Written and registered under `running`'s lock, which the exit handler takes: it removes
        // a whole folder or finds none (processes that exited while one was being written left
        // folders holding `device` alone).
        let written = running.withLock { running -> Bool in
            guard !compiles.withLock({ $0.exiting }) else { return false }
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try "\(deviceIndex) \(getpid())\n".write(to: folder.appendingPathComponent("device"), atomically: true, encoding: .utf8)
                for (index, spec) in specs.enumerated() {
                    let name = String(format: "%04d", index)
                    try spec.text().write(to: folder.appendingPathComponent(name + ".cl"), atomically: true, encoding: .utf8)
                    try options(spec).write(to: folder.appendingPathComponent(name + ".options"), atomically: true, encoding: .utf8)
                }
            } catch {
                try? FileManager.default.removeItem(at: folder)
                return false
            }
            running[folder.path] = 0
            return true
        }
        guard written else { return false }
        defer {
            _ = running.withLock { $0.removeValue(forKey: folder.path) }
            try? FileManager.default.removeItem(at: folder)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst()) + [folder.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["CONVCL_CACHE_DIR": cache.path]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        if !BuildLog.verbose { process.standardError = FileHandle.nullDevice }
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do { try process.run() } catch { return false }
        // Started after the exit handler's pass: it is stopped here instead.
        running.withLock { running in
            if compiles.withLock({ $0.exiting }) { kill(process.processIdentifier, SIGKILL) } else { running[folder.path] = process.processIdentifier }
        }
        if exited.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            process.terminate()
            exited.wait()
        }
        return true
    }

    /// The helper's side: builds the programs of the job folder into the cache that
    /// `CONVCL_CACHE_DIR` names, on the device the folder names.
    /// - Throws: when the folder or the device cannot be read or opened; a program that fails to
    ///   build is left to the parent, which reports its error.
    static func runJobs(in folder: URL) throws {
        let header = try String(contentsOf: folder.appendingPathComponent("device"), encoding: .utf8).split(separator: " ")
        guard header.count == 2, let deviceIndex = Int(header[0]), let parent = Int32(header[1].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ConvCLError.invalidArgument(operation: "build-programs", argument: "folder", reason: "\(folder.path)/device is not \"INDEX PID\"")
        }
        // The helper ends with its parent, even mid-build: nothing it stores afterwards could be
        // wanted, and a PoCL cache removed under a build serializes a binary that PoCL then
        // aborts on loading. (A cache entry is renamed into place whole, and a claim of an
        // exited process does not hold.)
        Thread.detachNewThread {
            while getppid() == parent { usleep(50_000) }
            _exit(0)
        }
        let (device, info) = try Devices.find(.index(deviceIndex))
        let context = try CLContext(device: device)
        let cache = ProgramCache(directory: ProgramCache.directoryFromEnvironment())
        let jobs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".cl") }.sorted()
        for job in jobs {
            guard getppid() == parent else { return }
            let source = try String(contentsOf: folder.appendingPathComponent(job), encoding: .utf8)
            let options = try String(contentsOf: folder.appendingPathComponent(job.dropLast(3) + ".options"), encoding: .utf8)
            let key = ProgramCache.key(device: info, source: source, options: options)
            guard !cache.contains(key: key), cache.claim(key: key) else { continue }
            defer { cache.release(key: key) }
            guard let program = try? CLProgram(source: source, name: job, options: options, context: context),
                let binary = try? program.binary(),
                // Loaded back before it is stored: PoCL aborts on a bad binary instead of failing,
                // and here that only ends the helper.
                (try? CLProgram(binary: binary, name: job, options: options, context: context)) != nil
            else { continue }
            cache.store(key: key, binary: binary)
        }
    }
}

extension OpenCLBackend {
    /// The command line of a helper process that builds programs into the on-disk cache while
    /// this process builds others (see the README's first-run section); nil (the default) builds
    /// every program in the process that needs it. `clconv` sets it to its own hidden
    /// `build-programs` command. A library user can point it at a `clconv` binary, or at any
    /// executable that calls `OpenCLBackend.runBuildJobs(in:)` with the path it is given last.
    public static var buildHelper: [String]? {
        get { BuildHelper.command.withLock { $0 } }
        set { BuildHelper.command.withLock { $0 = newValue } }
    }

    /// The helper's side of `buildHelper`: builds the programs of the job folder at `folder` into
    /// the cache that `CONVCL_CACHE_DIR` names (the backend sets it for the helper).
    /// - Throws: when the folder or its device cannot be read or opened.
    public static func runBuildJobs(in folder: URL) throws {
        try BuildHelper.runJobs(in: folder)
    }
}
