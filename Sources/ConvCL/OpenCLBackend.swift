import Foundation

/// Runs ConvCL's operations as OpenCL kernels on one device.
///
/// Tensors it makes live in device buffers; operations enqueue kernels without waiting, and only
/// `Tensor.values()` waits and copies to the host. Programs are built once per process (binaries
/// come from the on-disk cache when possible). The backend is safe to share across threads and
/// tasks: OpenCL calls on a context and queue are thread-safe, and kernel arguments, which are not,
/// are set and enqueued under a lock.
public final class OpenCLBackend: Backend {
    /// The device this backend runs on.
    public let device: DeviceInfo
    public var name: String { device.name }

    /// How convolutions are run: the workspace limit and a forced algorithm, if any.
    public let convolution: ConvolutionOptions
    /// Which kernels operations run: the specialised ones, or the generic ones while those build.
    public let kernelTier: KernelTier
    /// The SIMD width (floats) the kernels' tile sizes are chosen for: the device's preferred float
    /// vector width, or `CONVCL_VECTOR_WIDTH`.
    let vectorWidth: Int
    /// The output size in bytes from which kernels store non-temporally (see `streams(bytes:)`).
    let streamingBytes: Int
    /// The GEMM kernel's register tile for this device.
    let gemmTile: GEMMTile
    /// Winograd runs in chunks of tiles whose transformed input and products take about this
    /// many bytes, so that they stay in the last-level cache between its kernels (mel3x3_c32:
    /// 6.5–7.4 ms in one chunk, 3.5–4.9 ms in chunks of 8 MiB, 4.2–4.4 in chunks of 2 MiB).
    let winogradChunkBytes: Int
    /// im2col-gemm gathers and multiplies the patch matrix in chunks of about this many bytes, so
    /// that the GEMM reads the patches from cache (see `gemmChunkColumns`; 2 MiB: 1, 4 and 8 MiB
    /// were no better).
    let gemmChunkBytes: Int
    /// Output rows per work-item of the depthwise kernel, `conv2d_rows`, when set (for tests of
    /// blocks of rows with a short last one); otherwise `perWorkItem(_:otherWorkItems:)` chooses.
    let directRowsPerItem: Int?
    let context: CLContext
    let queue: CLCommandQueue
    private let cache: ProgramCache
    /// Programs built or being built, by spec.
    let programSlots = Locked<[ProgramSpec: ProgramSlot]>([:])
    /// The compiler's log of each program this backend compiled from source, when builds keep
    /// their warnings (`BuildLog.keepsWarnings`).
    let sourceBuildLogs = Locked<[ProgramSpec: String]>([:])
    /// Kernels by program and name. Setting a kernel's arguments and enqueueing it happen under
    /// this lock, since OpenCL kernel arguments are not thread-safe.
    private let kernels = Locked<[String: CLKernel]>([:])
    /// Specialised programs waiting to be built in the background (see `KernelTier`).
    private let backgroundBuilds = BackgroundBuilds()
    let counters = Locked(Statistics())
    /// Driver failures injected for the reliability checks (none unless armed).
    let faults = FaultInjection()
    /// Algorithms chosen by find mode, per shape (see `ConvolutionOptions.find`).
    let tuning: TuningTable
    /// Scratch buffers the convolution algorithms share, grown on demand (see `withWorkspace`).
    private let workspace = Locked<[CLBuffer]>([])
    /// Buffers of released tensors and scratch, by size in bytes, for `allocate` to reuse.
    private let pool = Locked<(buffers: [Int: [CLBuffer]], bytes: Int)>(([:], 0))
    /// The most bytes the pool keeps; a buffer released beyond it is freed.
    static let poolLimitBytes = 256 << 20

    /// Counts of what the backend has done, for tests and diagnostics.
    public struct Statistics: Sendable, Equatable {
        /// Programs compiled from OpenCL C source.
        public var programsBuiltFromSource = 0
        /// Programs created from a binary in the on-disk cache.
        public var programsLoadedFromCache = 0
        /// Cache entries that failed their checks (and were rebuilt).
        public var corruptCacheEntries = 0
        /// Copies from host to device.
        public var hostToDeviceTransfers = 0
        /// Copies from device to host.
        public var deviceToHostTransfers = 0
        /// Kernels enqueued.
        public var kernelLaunches = 0
        /// Device buffers created (`clCreateBuffer`); a buffer reused from the pool is not counted.
        public var bufferAllocations = 0
        /// Algorithms timed by find mode (one per candidate and new shape).
        public var convolutionTimings = 0
    }

    /// How convolutions are run.
    public struct ConvolutionOptions: Sendable {
        /// The most device memory an algorithm may use besides the operands and the result; an
        /// algorithm that needs more is not chosen. Default 256 MiB.
        public var workspaceLimit: Int
        /// Always use this algorithm (it must fit the workspace limit and compute the shape); nil
        /// lets the backend choose.
        public var algorithm: ConvolutionAlgorithm?
        /// Find mode (as cuDNN's and MIOpen's find): the first time a convolution shape is seen,
        /// time every algorithm that computes it within the workspace limit and use the fastest.
        /// Winners are stored per device in `tuning-<device>.json` in the cache directory, so later
        /// processes reuse them without timing. Off by default: the heuristic chooses.
        public var find: Bool

        public init(workspaceLimit: Int = 256 << 20, algorithm: ConvolutionAlgorithm? = nil, find: Bool = false) {
            self.workspaceLimit = workspaceLimit
            self.algorithm = algorithm
            self.find = find
        }
    }

    /// Where built program binaries are cached.
    public enum CacheSetting: Sendable {
        /// `CONVCL_CACHE_DIR`, `$XDG_CACHE_HOME/convcl` or `~/.cache/convcl` (see the README).
        case environment
        case directory(URL)
        case disabled
    }

    /// Opens the device that `selector` picks.
    /// - Throws: `ConvCLError.deviceNotFound` when it matches none (no fallback: see
    ///   `selectBackend` for that), `OpenCLError` when the device cannot be opened.
    public convenience init(
        device selector: DeviceSelector = .automatic, cache: CacheSetting = .environment,
        convolution: ConvolutionOptions = .init(), kernelTier: KernelTier? = nil
    ) throws {
        let (device, info) = try Devices.find(selector)
        try self.init(
            device: device, info: info, cache: cache, convolution: convolution, kernelTier: kernelTier ?? .fromEnvironment())
    }

    /// Opens `device`; `gemmTile` overrides the device's GEMM tile, `gemmChunkBytes` and
    /// `winogradChunkBytes` the size of im2col-gemm's and Winograd's chunks, and
    /// `directRowsPerItem` the output rows of a depthwise work-item, `streamingBytes` the output
    /// size from which kernels store non-temporally (for tests of every tile shape, of many chunks,
    /// of blocks of rows and of streaming stores).
    init(
        device: CLDevice, info: DeviceInfo, cache: CacheSetting, convolution: ConvolutionOptions,
        kernelTier: KernelTier = .automatic, gemmTile: GEMMTile? = nil, gemmChunkBytes: Int? = nil, winogradChunkBytes: Int = 8 << 20,
        directRowsPerItem: Int? = nil, streamingBytes: Int? = nil
    ) throws {
        self.device = info
        self.convolution = convolution
        self.kernelTier = kernelTier
        vectorWidth = try Self.vectorWidth(for: info)
        self.gemmTile = gemmTile ?? GEMMTile(vectorWidth: vectorWidth)
        self.gemmChunkBytes = try gemmChunkBytes ?? Self.gemmChunkBytes()
        self.winogradChunkBytes = winogradChunkBytes
        self.directRowsPerItem = directRowsPerItem
        self.streamingBytes = streamingBytes ?? (info.globalMemoryCacheBytes > 0 ? info.globalMemoryCacheBytes / 2 : .max)
        context = try CLContext(device: device)
        queue = try CLCommandQueue(context: context)
        switch cache {
        case .environment: self.cache = ProgramCache(directory: ProgramCache.directoryFromEnvironment())
        case .directory(let url): self.cache = ProgramCache(directory: url)
        case .disabled: self.cache = ProgramCache(directory: nil)
        }
        tuning = TuningTable(directory: self.cache.directory, device: info)
    }

    /// `CONVCL_VECTOR_WIDTH` if set (so that a simulator can run the tile sizes of a wider
    /// device: `ci/kernel-check.sh` runs oclgrind with 16), else the device's preferred width.
    static func vectorWidth(for device: DeviceInfo, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        guard let text = environment["CONVCL_VECTOR_WIDTH"], !text.isEmpty else { return device.preferredFloatVectorWidth }
        guard let width = Int(text), [1, 2, 4, 8, 16].contains(width) else {
            throw ConvCLError.invalidArgument(
                operation: "OpenCLBackend", argument: "CONVCL_VECTOR_WIDTH", reason: "expected 1, 2, 4, 8 or 16, got \"\(text)\"")
        }
        return width
    }

    /// `CONVCL_GEMM_CHUNK_BYTES` if set (so that a simulator can run im2col-gemm in many chunks:
    /// `ci/kernel-check.sh` runs oclgrind with 1, a chunk of one GEMM work-group), else 2 MiB.
    static func gemmChunkBytes(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int {
        guard let text = environment["CONVCL_GEMM_CHUNK_BYTES"], !text.isEmpty else { return 2 << 20 }
        guard let bytes = Int(text), bytes > 0 else {
            throw ConvCLError.invalidArgument(
                operation: "OpenCLBackend", argument: "CONVCL_GEMM_CHUNK_BYTES", reason: "expected a positive number of bytes, got \"\(text)\"")
        }
        return bytes
    }

    /// What the backend has done so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// The cache directory in use, or nil when caching is off.
    public var cacheDirectory: URL? { cache.directory }

    /// Blocks until every operation enqueued so far has finished.
    public func synchronize() throws { try queue.finish() }

    // MARK: Tensors

    public func tensor(shape: [Int], data: TensorData) throws -> Tensor {
        try tensor(shape: shape, data: data, keepingHostCopy: false)
    }

    /// A tensor of `data` on the device; with `keepingHostCopy`, reading it returns `data` without
    /// a read from the device (for values the caller holds anyway, such as a model's constants).
    func tensor(shape: [Int], data: TensorData, keepingHostCopy: Bool) throws -> Tensor {
        try validateTensorData(shape: shape, valueCount: data.count)
        let (tensor, buffer) = try output(
            shape: shape, dataType: data.dataType, hostCopy: keepingHostCopy ? data : nil, keepsDerived: true, operation: "tensor")
        switch data {
        case .float32(let values): try values.withUnsafeBytes { try buffer.write($0, queue: queue) }
        case .int64(let values): try values.withUnsafeBytes { try buffer.write($0, queue: queue) }
        case .bool(let values): try values.map { UInt8($0 ? 1 : 0) }.withUnsafeBytes { try buffer.write($0, queue: queue) }
        }
        counters.withLock { $0.hostToDeviceTransfers += 1 }
        return tensor
    }

    /// Copies `count` elements from the start of `buffer` to the host, after the operations
    /// enqueued before.
    func read<Element: BitwiseCopyable>(count: Int, from buffer: CLBuffer) throws -> [Element] {
        let values = try [Element](unsafeUninitializedCapacity: count) { storage, initialized in
            // The device's bytes initialize every element (plain values of a BitwiseCopyable type).
            try buffer.read(into: UnsafeMutableRawBufferPointer(storage), queue: queue)
            initialized = count
        }
        counters.withLock { $0.deviceToHostTransfers += 1 }
        return values
    }

    /// A device buffer for `count` elements of `type`: one of the same size released earlier
    /// (see `recycle`), else a new one. Its contents are undefined.
    func allocate<Element>(_ type: Element.Type, count: Int, operation: String) throws -> CLBuffer {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard !overflow else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "size", reason: "\(count) elements of \(type) overflow the address space")
        }
        let reused = pool.withLock { pool -> CLBuffer? in
            guard let buffer = pool.buffers[bytes]?.popLast() else { return nil }
            pool.bytes -= bytes
            return buffer
        }
        if let reused { return reused }
        try faults.check(.allocation, "\(bytes) bytes for \(operation)")
        let buffer = try CLBuffer(context: context, byteCount: bytes, maxAllocation: device.maxAllocationBytes)
        counters.withLock { $0.bufferAllocations += 1 }
        return buffer
    }

    /// Keeps `buffer` for `allocate` to hand out again, within `poolLimitBytes`. Safe as soon as
    /// the last command using it is enqueued: the queue is in order, so a later user of the
    /// buffer runs after every earlier one. (Fresh buffers cost page faults on first touch, which
    /// for bandwidth-bound operations is a large share of the time.)
    func recycle(_ buffer: CLBuffer) {
        pool.withLock { pool in
            guard pool.bytes + buffer.byteCount <= Self.poolLimitBytes else { return }
            pool.buffers[buffer.byteCount, default: []].append(buffer)
            pool.bytes += buffer.byteCount
        }
    }

    /// Device buffers of this backend not yet released: those of live tensors, the workspace and
    /// the pool of buffers kept for reuse. For leak checks, call `emptyPool()` first: the count
    /// then returns to the same value after every run that releases its results.
    public var liveBufferCount: Int { context.liveBuffers.withLock { $0 } }

    /// Releases the buffers the pool keeps for reuse (at most 256 MiB); later
    /// allocations create fresh buffers until the pool fills again.
    public func emptyPool() {
        pool.withLock { pool in
            pool.buffers = [:]
            pool.bytes = 0
        }
    }

    /// The buffer of a float32 tensor that belongs to this backend.
    func buffer(of tensor: Tensor, _ operation: String, _ argument: String) throws -> CLBuffer {
        try anyBuffer(of: tensor.checked(.float32, operation: operation, argument: argument), operation, argument)
    }

    /// The buffer of a tensor of any data type that belongs to this backend.
    func anyBuffer(of tensor: Tensor, _ operation: String, _ argument: String) throws -> CLBuffer {
        guard case .device(let storage) = tensor.storage, storage.backend === self else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: argument,
                reason: "\(tensor) does not belong to this backend (\(device.name), \(ObjectIdentifier(self))); "
                    + "tensors of different backends cannot be mixed")
        }
        _ = try int32Count(tensor.shape, operation)
        return storage.buffer
    }

    /// The form of `tensor` that `key` names, made by `make` (a kernel writing it) the first time
    /// and kept with `tensor` where it keeps derived forms (it was uploaded, and no kernel writes
    /// it); else made on every call. Two threads making it at once both run `make`; both use the
    /// first one kept, whose kernel was enqueued before either's next.
    func derived(_ tensor: Tensor, _ key: String, _ make: () throws -> Tensor) throws -> Tensor {
        guard case .device(let storage) = tensor.storage, let kept = storage.derived else { return try make() }
        if let form = kept.withLock({ $0[key] }) { return form }
        let form = try make()
        return kept.withLock { forms in
            if let first = forms[key] { return first }
            forms[key] = form
            return form
        }
    }

    /// Runs `body` with scratch buffers of at least the given float counts. They belong to the
    /// backend and are reused by every call (no allocation in steady state); the lock is held while
    /// `body` enqueues its kernels, and the in-order queue runs those before any later call's, so
    /// calls from several threads never share the scratch at the same time.
    func withWorkspace<T>(floats counts: [Int], operation: String, _ body: ([CLBuffer]) throws -> T) throws -> T {
        try workspace.withLock { buffers in
            for (index, count) in counts.enumerated() where index >= buffers.count || buffers[index].byteCount < 4 * count {
                // The smaller buffer goes first, so that its memory can serve the new one. (Every
                // index is checked against its size, so the order stays safe if allocating throws.)
                if index < buffers.count { buffers.remove(at: index) }
                buffers.insert(try allocate(Float.self, count: count, operation: operation), at: min(index, buffers.count))
            }
            return try body(Array(buffers.prefix(counts.count)))
        }
    }

    /// A new tensor of this backend whose values a kernel is about to write.
    /// `keepsDerived` for a tensor that no kernel writes once this one has (see
    /// `DeviceStorage.derived`).
    func output(
        shape: [Int], dataType: DataType = .float32, hostCopy: TensorData? = nil, keepsDerived: Bool = false, operation: String
    ) throws -> (Tensor, CLBuffer) {
        let count = try int32Count(shape, operation)
        let buffer = try allocate(UInt8.self, count: count * dataType.byteSize, operation: operation)
        let storage = DeviceStorage(buffer: buffer, backend: self, hostCopy: hostCopy, keepsDerived: keepsDerived)
        return (Tensor(shape: shape, dataType: dataType, storage: .device(storage)), buffer)
    }

    /// Whether a kernel writing `bytes` stores them non-temporally (where its kernel can): from
    /// `streamingBytes`, by default half the device's cache, an output that with its inputs does
    /// not stay there for the next op anyway. Three chained adds on PoCL (AVX2, 32 MiB cache):
    /// plain stores faster up to 8 MiB outputs, even at 16, non-temporal ones 1.35–1.45× faster
    /// from 32.
    func streams(bytes: Int) -> Bool { bytes >= streamingBytes }

    // MARK: Programs and kernels

    /// Enqueues kernel `kernel` of `program`, without waiting; builds the program first if this
    /// backend has not (see `program(_:)`).
    @discardableResult
    func launch(
        _ program: ProgramSpec, kernel: String, arguments: [KernelArgument], globalSize: [Int], localSize: [Int]? = nil
    ) throws -> CLEvent {
        let built = try self.program(program)
        let event = try kernels.withLock { kernels in
            let key = "\(program)|\(kernel)"
            let clKernel = try kernels[key] ?? CLKernel(program: built, name: kernel)
            kernels[key] = clKernel
            try faults.check(.enqueue, "kernel \(kernel) of \(program)")
            try clKernel.setArguments(arguments)
            return try queue.enqueue(clKernel, globalSize: globalSize, localSize: localSize)
        }
        counters.withLock { $0.kernelLaunches += 1 }
        EventRecorder.current?.record(event, kernel: kernel)
        return event
    }

    /// The built program for `spec`: built once per backend, from the on-disk cache when it holds
    /// a valid binary. A thread asking for a program that another is building waits for it, and
    /// no background build starts meanwhile (see `BackgroundBuilds`). A program that does not
    /// compile is remembered: later calls throw its error again; any other failure (the driver out
    /// of memory, say) is not, and the next call builds again.
    func program(_ spec: ProgramSpec) throws -> CLProgram {
        let (slot, builds) = claim(spec)
        if builds { finish(slot, spec, backgroundBuilds.foregroundBuild { Result { try buildProgram(spec) } }) }
        return try slot.wait()
    }

    /// Hands a build's result to the callers waiting in `slot`, and forgets a failure other than
    /// a compile error, so that the next call builds again.
    private func finish(_ slot: ProgramSlot, _ spec: ProgramSpec, _ result: Result<CLProgram, any Error>) {
        slot.finish(result)
        if case .failure(let error) = result, (error as? OpenCLError)?.code != .buildProgramFailure {
            programSlots.withLock { $0[spec] = nil }
        }
    }

    /// The slot of `spec`, and whether the caller is the one to build it.
    private func claim(_ spec: ProgramSpec) -> (ProgramSlot, Bool) {
        programSlots.withLock { programs -> (ProgramSlot, Bool) in
            if let slot = programs[spec] { return (slot, false) }
            let slot = ProgramSlot()
            programs[spec] = slot
            return (slot, true)
        }
    }

    /// Whether an operation whose specialised programs are `specs` runs them, rather than the
    /// generic first-call kernels (see `KernelTier`). With `.automatic`: yes when each is built
    /// or in the on-disk cache (then it is loaded now), or when the operation is not `small`
    /// (then they are built now); otherwise no, and those not built yet are queued to build in
    /// the background.
    func runsSpecialized(_ specs: [ProgramSpec], small: Bool) throws -> Bool {
        switch kernelTier {
        case .specialized: return true
        case .generic: return false
        case .automatic: break
        }
        guard small else { return true }
        var missing: [ProgramSpec] = []
        for spec in specs where programSlots.withLock({ $0[spec] }) == nil {
            if cache.contains(key: try cacheKey(spec)) { _ = try program(spec) } else { missing.append(spec) }
        }
        for spec in missing {
            backgroundBuilds.enqueue(spec, helper: { self.buildInHelper($0) }) { spec in
                let (slot, builds) = self.claim(spec)
                if builds { self.finish(slot, spec, Result { try self.buildProgram(spec) }) }
            }
        }
        // A program still building in the background is not waited for.
        return missing.isEmpty && specs.allSatisfy { spec in programSlots.withLock { $0[spec]?.isFinished ?? false } }
    }

    /// Waits until every queued background build has finished (for tests of the automatic tier).
    func waitForBackgroundBuilds() {
        while !backgroundBuilds.isIdle { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Builds `specs` (or waits for their builds) and returns when all are ready. PoCL 3.1
    /// compiles one program at a time per process, whatever the threads and contexts (two threads
    /// building in two contexts took 2.44 s, one after the other 2.41 s); so with a build helper
    /// (see `BuildHelper`) the helper takes the list from its end while this process takes it
    /// from its start, and they meet in the middle.
    func build(_ specs: [ProgramSpec]) throws {
        let ordered = Set(specs).sorted(by: { $0.description < $1.description })
        if BuildHelper.command.withLock({ $0 }) != nil {
            DispatchQueue.global(qos: .userInitiated).async { _ = self.buildInHelper(ordered.reversed(), atLeast: 2) }
        }
        for spec in ordered { _ = try program(spec) }
    }

    /// Starts the build helper on `specs`, those this process will ask for soon (a model's first
    /// run), without waiting: it builds them in reverse order, while this process builds them in
    /// order as it needs them, loading each one the helper has cached and waiting for the one it
    /// is building. Without a helper this does nothing.
    func buildAhead(_ specs: [ProgramSpec]) {
        guard BuildHelper.command.withLock({ $0 }) != nil else { return }
        DispatchQueue.global(qos: .userInitiated).async { _ = self.buildInHelper(specs.reversed(), atLeast: 2) }
    }

    /// Builds those of `specs` that are neither built here nor cached in the build helper's
    /// process, into the on-disk cache; returns when it has exited (false when there is no helper,
    /// no cache or fewer than `atLeast` to build: a single program this process is about to build
    /// itself gains nothing from a helper). Builds that keep their warnings for the tests to read
    /// (`BuildLog.keepsWarnings`) stay in this process, where their logs are.
    func buildInHelper(_ specs: [ProgramSpec], atLeast: Int = 1) -> Bool {
        guard let directory = cache.directory, let command = BuildHelper.command.withLock({ $0 }), !BuildLog.keepsWarnings else {
            return false
        }
        let missing = specs.filter { spec in
            programSlots.withLock { $0[spec] } == nil && !((try? cache.contains(key: cacheKey(spec))) ?? true)
        }
        guard missing.count >= atLeast else { return false }
        return BuildHelper.build(missing, command: command, options: buildOptions, deviceIndex: device.index, cache: directory)
    }

    /// The options `spec` builds with: its own, and those that keep the compiler quiet.
    func buildOptions(_ spec: ProgramSpec) -> String {
        [spec.options, BuildLog.quietOption].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// The on-disk cache's key for `spec`.
    private func cacheKey(_ spec: ProgramSpec) throws -> String {
        ProgramCache.key(device: device, source: try spec.text(), options: buildOptions(spec))
    }

    /// Builds a program: loads the binary the on-disk cache holds for it, or compiles the source
    /// and caches the binary.
    private func buildProgram(_ spec: ProgramSpec) throws -> CLProgram {
        let source = try spec.text()
        let options = buildOptions(spec)
        let key = ProgramCache.key(device: device, source: source, options: options)
        // Another process (the build helper, or another of the user's) may be building it: it is
        // waited for, and claimed before this process builds it (see `BuildHelper`).
        var (owned, claimed) = (false, false)
        while !claimed {
            cache.waitForOtherBuild(key: key)
            switch cache.load(key: key) {
            case .hit(let binary):
                // A binary that passed the checksum can still be refused by the driver (another
                // build of it, say): then it is rebuilt from source like a corrupt entry.
                if let program = try BuildHelper.compiling(spec, { try? CLProgram(binary: binary, name: spec.source, options: options, context: context) }) {
                    counters.withLock { $0.programsLoadedFromCache += 1 }
                    return program
                }
                counters.withLock { $0.corruptCacheEntries += 1 }
            case .corrupt:
                counters.withLock { $0.corruptCacheEntries += 1 }
            case .miss:
                break
            }
            // Claimed by another process between the wait and here: wait for that build instead.
            owned = cache.claim(key: key)
            claimed = owned || !cache.isClaimed(key: key)
        }
        defer { if owned { cache.release(key: key) } }
        let start = DispatchTime.now().uptimeNanoseconds
        try faults.check(.build, "\(spec)")
        let program = try BuildHelper.compiling(spec) { () throws -> CLProgram in
            let program = try CLProgram(source: source, name: spec.source, options: options, context: context)
            counters.withLock { $0.programsBuiltFromSource += 1 }
            if cache.directory != nil || BuildLog.verbose {
                // The binary holds the compiled kernels: asking for it is what compiles them (with
                // PoCL, each kernel once, for every work-group size), as a first launch would; so
                // the time reported covers them.
                let binary = try program.binary()
                cache.store(key: key, binary: binary)
            }
            return program
        }
        let log = (try? program.buildLog()) ?? ""
        if BuildLog.keepsWarnings { sourceBuildLogs.withLock { $0[spec] = log } }
        BuildLog.report(spec, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, log: log)
        return program
    }
}

/// The element count of `shape`, checked to fit the kernels' 32-bit indices.
func int32Count(_ shape: [Int], _ operation: String) throws -> Int {
    Int(try int32(shape.reduce(1, *), operation))
}

/// A size as a kernel's `int` argument.
/// - Throws: when it does not fit in 32 bits (the kernels index with `int`).
func int32(_ value: Int, _ operation: String) throws -> Int32 {
    guard let narrow = Int32(exactly: value) else {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "size", reason: "\(value) is larger than the kernels' 32-bit indices allow")
    }
    return narrow
}
