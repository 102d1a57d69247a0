import Foundation
import Testing

@testable import ConvCL

@Suite("Reliability")
struct ReliabilityTests {
    /// conv → ReLU → maxpool → global average pool → sum over channels, read at the end.
    static func chain(_ backend: any Backend, _ input: [Float], _ weight: [Float]) throws -> [Float] {
        let x = try backend.tensor(shape: [2, 3, 15, 13], values: input)
        let w = try backend.tensor(shape: [5, 3, 3, 3], values: weight)
        let conv = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init(padding: .sameUpper, activation: .relu))
        let pooled = try backend.maxPool(conv, descriptor: .init(kernel: [2, 2], ceilMode: true))
        let summary = try backend.globalAveragePool(pooled)
        return try backend.reduce(summary, descriptor: .init(.sum, axes: [1])).values()
    }

    @Test("one backend shared by 8 concurrent tasks gives the serial results", .needsOpenCL)
    func concurrentChains() async throws {
        let backend = try openCLBackend()
        var random = TestRandom()
        let inputs = (0..<8).map { _ in (random.floats(2 * 3 * 15 * 13), random.floats(5 * 27)) }
        let serial = try inputs.map { try Self.chain(backend, $0.0, $0.1) }
        for round in 0..<25 {
            let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                for (index, input) in inputs.enumerated() {
                    group.addTask { (index, try Self.chain(backend, input.0, input.1)) }
                }
                var results = [[Float]](repeating: [], count: inputs.count)
                for try await (index, values) in group { results[index] = values }
                return results
            }
            // The same kernels on the same data: bit for bit the serial results.
            #expect(concurrent == serial, "round \(round); seed \(random.seed)")
        }
    }

    @Test("an allocation, a program build or a kernel enqueue failing in the middle of a model run: an OpenCLError naming the call; the backend's next runs give the clean results and leave no buffer behind", .needsOpenCL)
    func injectedFaults() throws {
        var random = TestRandom()
        let (data, _, _) = try ModelTests().convNet(&random)
        let x = random.floats(2 * 2 * 6 * 7)
        func run(_ model: Model, _ backend: OpenCLBackend) throws -> [Float] {
            try model.run(["x": try backend.tensor(shape: [2, 2, 6, 7], values: x)])["y"]!.values()
        }
        // A backend that never fails: its results, and the buffers it holds after two runs.
        let clean = try OpenCLBackend(device: .automatic, cache: .disabled, kernelTier: .specialized)
        let cleanModel = try Model(serializedData: data, backend: clean)
        let expected = try run(cleanModel, clean)
        _ = try run(cleanModel, clean)
        clean.emptyPool()
        let baseline = clean.liveBufferCount
        for call in [FaultInjection.Call.allocation, .build, .enqueue] {
            // No program cache, so that the run builds its programs itself.
            let backend = try OpenCLBackend(device: .automatic, cache: .disabled, kernelTier: .specialized)
            let model = try Model(serializedData: data, backend: backend)
            backend.faults.arm(call, at: 2)
            do {
                _ = try run(model, backend)
                Issue.record("\(call): the run did not fail")
            } catch let error as OpenCLError {
                #expect(error.call == call.name && error.code == call.code && error.context.contains("injected fault"), "\(error)")
            }
            // The same two runs as the clean backend's: the same results, the same buffers held.
            #expect(try run(model, backend) == expected, "\(call): the run after the fault")
            #expect(try run(model, backend) == expected, "\(call): a later run")
            backend.emptyPool()
            #expect(backend.liveBufferCount == baseline, "\(call): \(backend.liveBufferCount) buffers live, \(baseline) on a backend that never failed")
        }
    }

    static let childVariable = "CONVCL_MEMORY_CHILD"

    @Test("10,000 small convolutions keep resident memory flat after warm-up", .needsOpenCL)
    func residentMemoryStaysFlat() throws {
        if ProcessInfo.processInfo.environment[Self.childVariable] != nil {
            try measureInThisProcess()
            return
        }
        // Measured in a child process running only this test, so that other tests' allocations
        // in parallel do not move the numbers.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--testing-library", "swift-testing", "--filter", "residentMemoryStaysFlat"]
        // Under AddressSanitizer (ci/leak-check.sh) freed memory sits in a quarantine by design,
        // which would read as growth: the child runs without it.
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = "1"
        environment["ASAN_OPTIONS"] = (environment["ASAN_OPTIONS"].map { $0 + ":" } ?? "")
            + "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
        process.environment = environment
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("output")
        try Data().write(to: output)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        try process.run()
        process.waitUntilExit()
        let text = try readText(output)
        #expect(process.terminationStatus == 0, "the child run failed:\n\(text)")
        #expect(text.contains("resident memory:"), "the child measured:\n\(text)")
    }

    func measureInThisProcess() throws {
        let backend = try OpenCLBackend(device: .automatic, kernelTier: .specialized)
        var random = TestRandom()
        let x = try backend.tensor(shape: [1, 2, 9, 8], values: random.floats(144))
        let w = try backend.tensor(shape: [4, 2, 3, 3], values: random.floats(72))
        func call() throws { _ = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init(padding: .sameUpper)).values() }
        for _ in 0..<500 { try call() }
        let before = try residentBytes()
        for _ in 0..<10_000 { try call() }
        let growth = try residentBytes() - before
        print("resident memory: \(before / 1024) KiB after warm-up, grew \(growth / 1024) KiB over 10,000 calls")
        #expect(growth < 10 << 20, "resident memory grew by \(growth) bytes over 10,000 calls")
    }

    /// The process's resident set size, from /proc/self/statm.
    func residentBytes() throws -> Int {
        let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
