import Foundation
import Testing

@testable import ConvCL

/// Facts about the machine the tests run on.
enum TestEnvironment {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let openCLDevices: [DeviceInfo] = (try? Devices.list()) ?? []

    /// One OpenCL backend shared by the tests (it is safe to share), on the device the library
    /// would pick by default; nil when there is no OpenCL device.
    static let sharedBackend: OpenCLBackend? = try? OpenCLBackend(device: .automatic, kernelTier: .specialized)

    /// The products directory (where `clconv` is built beside the test bundle).
    static let productsDirectory: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("clconv").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()
}

extension Trait where Self == ConditionTrait {
    /// The test needs an OpenCL device. Without one it is skipped locally, and in CI (CI=true) it
    /// runs and fails: the suite must prove the kernels ran on OpenCL.
    static var needsOpenCL: Self {
        .enabled(
            if: !TestEnvironment.openCLDevices.isEmpty || TestEnvironment.isCI,
            "no OpenCL device on this machine (with CI=true this is a failure)")
    }
}

/// The shared OpenCL backend, or a failure that says why there is none.
func openCLBackend() throws -> OpenCLBackend {
    guard let backend = TestEnvironment.sharedBackend else {
        throw ConvCLError.deviceNotFound(
            request: "auto", reason: "tests that need OpenCL found no device (is PoCL installed? run ci/setup.sh)")
    }
    return backend
}

/// A seeded random source for tests. The seed is fresh each run (or `CONVCL_TEST_SEED`), and is
/// part of every failure message so a failure can be replayed.
struct TestRandom: RandomNumberGenerator {
    let seed: UInt64
    private var generator: SeededGenerator

    init(seed: UInt64? = nil) {
        let chosen = seed
            ?? ProcessInfo.processInfo.environment["CONVCL_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        self.seed = chosen
        generator = SeededGenerator(seed: chosen)
    }

    mutating func next() -> UInt64 { generator.next() }

    /// `count` values uniform in [-1, 1); never all zero.
    mutating func floats(_ count: Int) -> [Float] { generator.floats(count) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// The relative L2 error of `actual` against `expected` (see `Discrepancy`).
func relativeL2Error(_ actual: [Float], _ expected: [Float]) -> Double {
    Discrepancy(actual: actual, expected: expected).relativeL2
}

/// Expects `actual` to match the reference within a relative L2 error of `tolerance` (0 means
/// exactly), with the same shape, recording `context` (parameters and seed) on failure.
func expectClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Double = 1e-5, _ context: @autoclosure () -> String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(actual.shape == expected.shape, "shape; \(context())", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let error = relativeL2Error(try actual.values(), try expected.values())
    #expect(error <= tolerance, "relative L2 error \(error) > \(tolerance); \(context())", sourceLocation: sourceLocation)
}

/// Runs `clconv` with `arguments` and extra environment; returns its exit status and output.
func runCLConv(_ arguments: [String], environment extra: [String: String] = [:]) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    let process = Process()
    process.executableURL = TestEnvironment.productsDirectory.appendingPathComponent("clconv")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
    // Output goes to files: pipes read one after the other could block a chatty child.
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    process.waitUntilExit()
    return (process.terminationStatus, try readText(outURL), try readText(errURL))
}

/// A file's text; an empty file is not read, since Foundation's read of an empty file leaks a page.
func readText(_ url: URL) throws -> String {
    let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
    return size == 0 ? "" : try String(contentsOf: url, encoding: .utf8)
}

/// A new empty temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("convcl-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The reference, and the OpenCL backend when there is a device (in CI there must be).
func allBackends() throws -> [any Backend] {
    var list: [any Backend] = [ReferenceBackend()]
    if !TestEnvironment.openCLDevices.isEmpty || TestEnvironment.isCI { list.append(try openCLBackend()) }
    return list
}

/// Decodes an 8-bit RGB PNG with Python's zlib (every chunk's CRC checked, every row's filter
/// undone): its size and pixels, row-major RGB.
func decodePNG(_ path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
    let script = """
        import struct, sys, zlib
        data = open(sys.argv[1], "rb").read()
        assert data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", "signature"
        position, idat = 8, b""
        while position < len(data):
            length, kind = struct.unpack(">I4s", data[position:position + 8])
            body = data[position + 8:position + 8 + length]
            assert zlib.crc32(kind + body) == struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0], kind
            if kind == b"IHDR":
                width, height = struct.unpack(">II", body[:8])
                assert body[8:10] == b"\\x08\\x02", "8-bit RGB"
            idat += body if kind == b"IDAT" else b""
            position += 12 + length
        raw, stride, rows = zlib.decompress(idat), 3 * width, []
        assert len(raw) == height * (stride + 1), "data size"
        previous = bytearray(stride)
        for y in range(height):
            kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
            for i in range(stride):
                a = line[i - 3] if i >= 3 else 0
                b, c = previous[i], previous[i - 3] if i >= 3 else 0
                p = a + b - c
                predictor = [0, a, b, (a + b) // 2, a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c][kind]
                line[i] = (line[i] + predictor) & 0xFF
            rows.append(bytes(line))
            previous = line
        open(sys.argv[2], "wb").write(struct.pack("<II", width, height) + b"".join(rows))
        """
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("pixels")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, path, output.path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ConvCLError.invalidArgument(operation: "decodePNG", argument: path, reason: "Python could not decode it") }
    let bytes = [UInt8](try Data(contentsOf: output))
    let width = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
    let height = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
    return (width, height, Array(bytes[8...]))
}
