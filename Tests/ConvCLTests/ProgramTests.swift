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
