import Foundation
import Testing

@testable import ConvCL

@Suite("Program build and the binary cache")
struct ProgramTests {
    /// A conv2d on `backend`, checked against the reference; builds the program if needed.
    func runCheckedConvolution(_ backend: OpenCLBackend) throws {
        var random = TestRandom()
        let input = random.floats(2 * 3 * 9 * 7)
        let weight = random.floats(4 * 3 * 3 * 3)
        let reference = ReferenceBackend()
        let expected = try reference.conv2d(
            try reference.tensor(shape: [2, 3, 9, 7], values: input),
            weight: try reference.tensor(shape: [4, 3, 3, 3], values: weight), bias: nil, descriptor: .init())
        let actual = try backend.conv2d(
            try backend.tensor(shape: [2, 3, 9, 7], values: input),
            weight: try backend.tensor(shape: [4, 3, 3, 3], values: weight), bias: nil, descriptor: .init())
        try expectClose(actual, expected, "seed \(random.seed)")
    }

    @Test("a broken kernel source gives an error carrying the compiler's message", .needsOpenCL)
    func brokenSource() throws {
        let backend = try openCLBackend()
        let source = "__kernel void broken(__global float* x) { x[0] = undeclared_thing_42; }"
        do {
            _ = try CLProgram(source: source, name: "broken", options: "-DTILE=4", context: backend.context)
            Issue.record("a kernel with an undeclared identifier built")
        } catch let error as OpenCLError {
            #expect(error.code == .buildProgramFailure)
            #expect(error.call == "clBuildProgram")
            #expect(error.buildLog?.contains("undeclared_thing_42") == true, "build log: \(error.buildLog ?? "none")")
            #expect(error.description.contains("CL_BUILD_PROGRAM_FAILURE"))
            #expect(error.description.contains("-DTILE=4"), "the options are named: \(error)")
        }
    }

    @Test("CONVCL_KERNEL_DIR replaces the embedded sources, and its compile errors reach the user", .needsOpenCL)
    func kernelDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        // Every source gets an undeclared name, so whichever program the demo builds first fails.
        for (name, source) in EmbeddedKernels.sources {
            let broken = source + "\nvoid convcl_broken(void) { int x = this_is_not_declared; }\n"
            try broken.write(to: directory.appendingPathComponent("\(name).cl"), atomically: true, encoding: .utf8)
        }
        let environment = ["CONVCL_KERNEL_DIR": directory.path, "CONVCL_CACHE_DIR": cache.path, "CONVCL_DEVICE": "0"]
        let run = try runCLConv(["demo"], environment: environment)
        #expect(run.status != 0)
        #expect(run.stderr.contains("CL_BUILD_PROGRAM_FAILURE"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("this_is_not_declared"), "stderr: \(run.stderr)")

        for name in EmbeddedKernels.sources.keys {
            try FileManager.default.removeItem(at: directory.appendingPathComponent("\(name).cl"))
        }
        let missing = try runCLConv(["demo"], environment: environment)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("CONVCL_KERNEL_DIR"), "stderr: \(missing.stderr)")
        #expect(missing.stderr.contains(directory.path) && missing.stderr.contains(".cl cannot be read"), "stderr: \(missing.stderr)")
    }

    @Test("a second backend loads the program from disk; a corrupt entry is rebuilt", .needsOpenCL)
    func binaryCache() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let first = try OpenCLBackend(device: .index(0), cache: .directory(directory), kernelTier: .specialized)
        try runCheckedConvolution(first)
        #expect(first.statistics.programsBuiltFromSource == 1)
        #expect(first.statistics.programsLoadedFromCache == 0)
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".bin") }
        #expect(entries.count == 1, "one entry written: \(entries)")
        let entry = directory.appendingPathComponent(try #require(entries.first))

        let second = try OpenCLBackend(device: .index(0), cache: .directory(directory), kernelTier: .specialized)
        try runCheckedConvolution(second)
        #expect(second.statistics.programsBuiltFromSource == 0, "the second build came from disk")
        #expect(second.statistics.programsLoadedFromCache == 1)

        // Damage the entry three ways: truncated, one byte of the binary flipped, emptied.
        let intact = try Data(contentsOf: entry)
        var flipped = intact
        flipped[flipped.count - 10] ^= 0xFF
        for damaged in [intact.prefix(intact.count / 2), flipped, Data()] {
            try damaged.write(to: entry)
            let backend = try OpenCLBackend(device: .index(0), cache: .directory(directory), kernelTier: .specialized)
            try runCheckedConvolution(backend)
            #expect(backend.statistics.corruptCacheEntries == 1, "the damaged entry is detected")
            #expect(backend.statistics.programsBuiltFromSource == 1, "and rebuilt")
            let next = try OpenCLBackend(device: .index(0), cache: .directory(directory), kernelTier: .specialized)
            try runCheckedConvolution(next)
            #expect(next.statistics.programsLoadedFromCache == 1, "and rewritten whole: the next process loads it")
        }
        let temporaries = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
        #expect(temporaries.isEmpty, "no temporary files left: \(temporaries)")
    }

    @Test("the build helper (clconv build-programs) builds programs that a backend then loads", .needsOpenCL)
    func buildHelper() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = try OpenCLBackend(device: .index(0), cache: .directory(directory), kernelTier: .generic)
        let specs = [ProgramSpec("activation"), OpenCLBackend.genericConvolutionProgram]
        let clconv = TestEnvironment.productsDirectory.appendingPathComponent("clconv").path
        #expect(BuildHelper.build(
            specs, command: [clconv, "build-programs"], options: backend.buildOptions, deviceIndex: backend.device.index, cache: directory))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.filter { $0.hasSuffix(".bin") }.count == 2, "the helper cached both: \(files)")
        #expect(!files.contains { $0.hasSuffix(".claim") || $0.hasSuffix(".tmp") }, "and left no claim or temporary file: \(files)")
        try backend.build(specs)
        #expect(backend.statistics.programsLoadedFromCache == 2)
        #expect(backend.statistics.programsBuiltFromSource == 0)
        try runCheckedConvolution(backend)

        // A helper that cannot start, or that builds nothing: the backend builds them itself.
        let other = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: other) }
        let fresh = try OpenCLBackend(device: .index(0), cache: .directory(other), kernelTier: .generic)
        #expect(!BuildHelper.build(specs, command: ["/nonexistent/clconv"], options: fresh.buildOptions, deviceIndex: 0, cache: other))
        #expect(BuildHelper.build(specs, command: ["/bin/false"], options: fresh.buildOptions, deviceIndex: 0, cache: other))
        try fresh.build(specs)
        #expect(fresh.statistics.programsBuiltFromSource == 2)
    }

    @Test("a helper still building when clconv exits is stopped before it returns: nothing written after, no job folder left", .needsOpenCL)
    func helperStopsAtExit() throws {
        // Empty caches: the conv's specialised program goes to the helper, which is still
        // starting PoCL's compiler or building when the command's work is done.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = TestRandom()
        try NPY.write(NPYArray(shape: [1, 3, 9, 9], float32: random.floats(243)), path: directory.appendingPathComponent("x.npy").path)
        try NPY.write(NPYArray(shape: [4, 3, 3, 3], float32: random.floats(108)), path: directory.appendingPathComponent("w.npy").path)
        let caches = [directory.appendingPathComponent("convcl"), directory.appendingPathComponent("pocl")]
        for cache in caches { try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true) }
        let process = Process()
        process.executableURL = TestEnvironment.productsDirectory.appendingPathComponent("clconv")
        process.arguments = ["run", "conv2d", "--input", "x.npy", "--weight", "w.npy", "--output", "y.npy"]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["CONVCL_CACHE_DIR": caches[0].path, "POCL_CACHE_DIR": caches[1].path, "CONVCL_KERNEL_TIER": "automatic"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        func files() -> [String] {
            caches.flatMap { cache in (FileManager.default.enumerator(atPath: cache.path)?.allObjects as? [String] ?? []).map { cache.lastPathComponent + "/" + $0 } }.sorted()
        }
        let atExit = files()
        let jobFolders = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.hasPrefix("convcl-build-\(process.processIdentifier)-") }
        #expect(jobFolders.isEmpty, "the helper's job folder is removed: \(jobFolders)")
        Thread.sleep(forTimeInterval: 0.3)
        #expect(files() == atExit, "nothing is written into the caches once clconv has exited")
    }

    @Test("a build claimed by a live process is waited for; a claim whose process has exited is taken over")
    func buildClaims() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = ProgramCache(directory: directory)
        let key = "claims test \(UUID())"
        #expect(cache.claim(key: key))
        #expect(!cache.isClaimed(key: key), "this process's own claim is not another's")
        cache.release(key: key)

        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        let claim = try #require(cache.claimURL(forKey: key))
        try "\(sleeper.processIdentifier)\n".write(to: claim, atomically: true, encoding: .utf8)
        #expect(cache.isClaimed(key: key))
        #expect(!cache.claim(key: key), "a live process holds it")
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cache.store(key: key, binary: [1, 2, 3]) }
        let start = Date()
        cache.waitForOtherBuild(key: key)
        #expect(cache.contains(key: key) && Date().timeIntervalSince(start) >= 0.2, "the wait ends when the entry appears")
        kill(sleeper.processIdentifier, SIGKILL)
        sleeper.waitUntilExit()
        #expect(!cache.isClaimed(key: key), "the claim of an exited process does not hold")
        #expect(cache.claim(key: key), "and is taken over")
        cache.release(key: key)
        #expect(!FileManager.default.fileExists(atPath: claim.path))
    }

    @Test("an unwritable or impossible cache directory only disables caching", .needsOpenCL)
    func unwritableCache() throws {
        // /proc exists and refuses new files even to root; /proc/convcl cannot be created.
        for path in ["/proc", "/proc/convcl-cache"] {
            let backend = try OpenCLBackend(device: .index(0), cache: .directory(URL(fileURLWithPath: path)), kernelTier: .specialized)
            try runCheckedConvolution(backend)
            #expect(backend.statistics.programsBuiltFromSource == 1)
        }
        let readOnly = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: readOnly) }
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly.path)
        let backend = try OpenCLBackend(device: .index(0), cache: .directory(readOnly), kernelTier: .specialized)
        try runCheckedConvolution(backend)
        #expect(backend.statistics.programsBuiltFromSource == 1)
    }

    @Test("the cache location follows CONVCL_CACHE_DIR, XDG_CACHE_HOME and HOME")
    func cacheLocation() {
        #expect(ProgramCache.directoryFromEnvironment(["CONVCL_CACHE_DIR": "/x", "XDG_CACHE_HOME": "/y"])?.path == "/x")
        #expect(ProgramCache.directoryFromEnvironment(["CONVCL_CACHE_DIR": "", "HOME": "/h"]) == nil)
        #expect(ProgramCache.directoryFromEnvironment(["XDG_CACHE_HOME": "/y", "HOME": "/h"])?.path == "/y/convcl")
        #expect(ProgramCache.directoryFromEnvironment(["XDG_CACHE_HOME": "", "HOME": "/h"])?.path == "/h/.cache/convcl")
        #expect(ProgramCache.directoryFromEnvironment([:]) == nil)
    }

    @Test("the cache key changes with the source, the options and the driver")
    func cacheKey() throws {
        guard let device = TestEnvironment.openCLDevices.first else { return }
        let base = ProgramCache.key(device: device, source: "a", options: "")
        #expect(base != ProgramCache.key(device: device, source: "b", options: ""))
        #expect(base != ProgramCache.key(device: device, source: "a", options: "-DX=1"))
        #expect(base.contains(device.driverVersion) && base.contains(device.name))
    }

    @Test("SHA-256 matches the FIPS 180-4 examples")
    func sha256() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(SHA256.hex(Array(twoBlocks.utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
