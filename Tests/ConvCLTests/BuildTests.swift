import Foundation
import Testing

@testable import ConvCL

/// Random operations over the shapes and options that choose among program variants.
func randomOperations(_ random: inout TestRandom, count: Int) -> [PlannedOperation] {
    (0..<count).map { _ in
        switch random.int(0...4) {
        case 0:
            let groups = [1, 1, 2, 3][random.int(0...3)]
            let depthwise = random.int(0...2) == 0
            let channels = depthwise ? groups * random.int(1...4) : groups * random.int(1...9)
            let filters = depthwise ? channels : groups * random.int(1...20)
            let (r, s) = [(1, 1), (3, 3), (5, 5), (7, 7), (1, 3), (3, 1), (2, 4), (1, 9)][random.int(0...7)]
            let pads = (0..<4).map { _ in random.int(0...3) }
            return .conv2d(
                input: [random.int(1...3), channels, random.int(r...30), random.int(s...40)],
                weight: [filters, channels / (depthwise ? channels : groups), r, s], bias: random.int(0...1) == 0 ? nil : [filters],
                .init(
                    stride: [random.int(1...2), random.int(1...3)], padding: .explicit(pads),
                    dilation: [random.int(1...2), random.int(1...2)], groups: depthwise ? channels : groups))
        case 1:
            let length = random.int(40...600), taps = random.int(1...33)
            return .conv1d(
                input: [random.int(1...2), 2, length], weight: [random.int(1...40), 2, taps], bias: nil,
                .init(stride: random.int(1...4), padding: .sameLower))
        case 2:
            let window = [random.int(1...4), random.int(1...4)]
            let mode: PoolingMode = random.int(0...1) == 0 ? .max : .average
            return .pool(
                input: [random.int(1...2), random.int(1...4), random.int(4...30), random.int(4...50)], mode,
                .init(kernel: window, stride: [random.int(1...3), random.int(1...3)]),
                returnIndices: mode == .max && random.int(0...1) == 0)
        case 3:
            let shape = [random.int(1...3), random.int(1...40), random.int(1...70)]
            let axes = [[0], [1], [2], [-1], [1, 2], [0, 2], []][random.int(0...6)]
            let operation = ReductionOperation.allCases[random.int(0...ReductionOperation.allCases.count - 1)]
            return .reduce(input: shape, .init(operation, axes: axes, keepDims: random.int(0...1) == 0))
        default:
            return .activation([.relu, .leakyReLU(slope: 0.2)][random.int(0...1)])
        }
    }
}

@Suite("Program builds: few programs, built ahead, quietly")
struct BuildTests {
    @Test("every program an operation can choose is in the catalogue that `clconv prepare` builds", .needsOpenCL)
    func catalogueCoversOperations() throws {
        let backend = try openCLBackend()
        let catalogue = Set(backend.programCatalogue)
        // 107 on PoCL here: each elementwise type signature has a generic first-call program too.
        #expect(catalogue.count < 120, "a short, fixed list: \(catalogue.count)")
        var random = TestRandom()
        for operation in randomOperations(&random, count: 400) {
            guard let programs = try? backend.programs(for: operation) else { continue }  // an invalid combination
            for program in programs.specialized + programs.generic {
                #expect(catalogue.contains(program), "\(program) for \(operation); seed \(random.seed)")
            }
        }
    }

    @Test("prepare builds what a chain of operations uses; the chain then builds nothing", .needsOpenCL)
    func prepareThenRun() throws {
        let cache = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        var random = TestRandom()
        let reference = ReferenceBackend()
        let operations: [PlannedOperation] = [
            .conv2d(input: [2, 8, 20, 18], weight: [12, 8, 3, 3], bias: [12], .init(padding: .sameUpper, activation: .relu)),  // winograd
            .conv2d(input: [2, 5, 11, 13], weight: [40, 5, 3, 3], bias: nil, .init(stride: [2, 1])),  // im2col-gemm
            .conv2d(input: [2, 5, 11, 13], weight: [7, 5, 3, 3], bias: nil, .init(stride: [2, 1])),  // direct, 4 filters a work-item
            .conv2d(input: [1, 6, 17, 20], weight: [6, 1, 3, 3], bias: nil, .init(padding: .sameUpper, groups: 6)),  // conv2d_rows
            .conv2d(input: [1, 6, 17, 20], weight: [6, 1, 3, 3], bias: nil, .init(stride: [2, 2], groups: 6)),  // direct, 1 filter
            .pool(input: [2, 3, 16, 31], .max, .init(kernel: [2, 2]), returnIndices: true),
            .reduce(input: [2, 3, 16, 31], .init(.mean, axes: [2, 3])),
            .reduce(input: [2, 3, 16, 31], .init(.l2, axes: [1])),
        ]
        for tier in [KernelTier.specialized, .generic] {
            let backend = try OpenCLBackend(device: .automatic, cache: .directory(cache), kernelTier: tier)
            try backend.prepare(operations)
            let prepared = backend.statistics.programsBuiltFromSource + backend.statistics.programsLoadedFromCache
            let built = backend.builtPrograms
            #expect(built.isSubset(of: Set(backend.programCatalogue)))
            for operation in operations {
                let (device, host) = try run(operation, backend, reference, &random)
                try expectClose(device, host, "\(operation) on the \(tier) tier; seed \(random.seed)")
            }
            #expect(backend.statistics.programsBuiltFromSource + backend.statistics.programsLoadedFromCache == prepared,
                    "the \(tier) tier's runs built nothing more")
            #expect(backend.builtPrograms == built)
        }
    }

    @Test("the automatic tier runs a first call on the generic kernels, then the specialised ones once built", .needsOpenCL)
    func automaticTier() throws {
        let cache = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cache) }
        var random = TestRandom()
        let reference = ReferenceBackend()
        let operation = PlannedOperation.conv2d(input: [1, 3, 9, 11], weight: [5, 3, 3, 3], bias: [5], .init(activation: .relu))
        let backend = try OpenCLBackend(device: .automatic, cache: .directory(cache), kernelTier: .automatic)
        let programs = try backend.programs(for: operation)
        let (first, expected) = try run(operation, backend, reference, &random)
        try expectClose(first, expected, "first call; seed \(random.seed)")
        #expect(backend.builtPrograms.contains(OpenCLBackend.genericConvolutionProgram))
        backend.waitForBackgroundBuilds()
        #expect(Set(programs.specialized).isSubset(of: backend.builtPrograms), "built in the background")
        let launches = backend.statistics.kernelLaunches
        let (second, expectedAgain) = try run(operation, backend, reference, &random)
        try expectClose(second, expectedAgain, "after the background build; seed \(random.seed)")
        #expect(backend.statistics.kernelLaunches - launches == 2, "the direct algorithm's two kernels ran (packing the filters, the convolution)")

        // A new backend finds the specialised program in the on-disk cache and runs it at once.
        let next = try OpenCLBackend(device: .automatic, cache: .directory(cache), kernelTier: .automatic)
        let (third, expectedThird) = try run(operation, next, reference, &random)
        try expectClose(third, expectedThird, "from the cache; seed \(random.seed)")
        #expect(next.builtPrograms == Set(programs.specialized))
        #expect(next.statistics.programsBuiltFromSource == 0)
    }

    @Test("every program compiles without a warning", .needsOpenCL)
    func noWarnings() throws {
        let backend = try openCLBackend()
        for program in backend.programCatalogue {
            let log: String
            if BuildLog.keepsWarnings {
                // ci/test.sh sets CONVCL_BUILD_WARNINGS: the backend's builds keep warnings, and
                // a program it compiles (for this test or an earlier one) leaves its log.
                try backend.build([program])
                if let kept = backend.sourceBuildLogs.withLock({ $0[program] }) {
                    log = kept
                } else {
                    log = try compiledWithWarnings(program, backend)  // loaded from the on-disk cache
                }
            } else {
                log = try compiledWithWarnings(program, backend)
            }
            #expect(!log.localizedCaseInsensitiveContains("warning"), "\(program): \(log)")
        }
    }

    /// The log of `program` compiled with warnings on (ConvCL's own builds pass -w unless
    /// `BuildLog.keepsWarnings`) and without caching.
    private func compiledWithWarnings(_ program: ProgramSpec, _ backend: OpenCLBackend) throws -> String {
        try CLProgram(source: try program.text(), name: program.source, options: program.options, context: backend.context)
            .buildLog()
    }

    @Test("CONVCL_KERNEL_TIER names the tier; anything else is an error")
    func tierFromEnvironment() throws {
        #expect(try KernelTier.fromEnvironment([:]) == .automatic)
        #expect(try KernelTier.fromEnvironment(["CONVCL_KERNEL_TIER": "Specialized"]) == .specialized)
        #expect(try KernelTier.fromEnvironment(["CONVCL_KERNEL_TIER": "generic"]) == .generic)
        #expect(throws: ConvCLError.self) { try KernelTier.fromEnvironment(["CONVCL_KERNEL_TIER": "fast"]) }
    }

    @Test("program specs sort their defines, so equal variants share a program")
    func specs() {
        #expect(ProgramSpec("pool2d", ["MODE": 1, "INDICES": 0]) == ProgramSpec(source: "pool2d", options: "-DINDICES=0 -DMODE=1"))
        #expect(ProgramSpec("activation").options.isEmpty)
    }

    /// Runs `operation` on random operands of its shapes on `backend` and on the reference.
    func run(_ operation: PlannedOperation, _ backend: any Backend, _ reference: ReferenceBackend, _ random: inout TestRandom)
        throws -> (Tensor, Tensor)
    {
        func operands(_ shapes: [[Int]]) -> [[Float]] { shapes.map { random.floats($0.reduce(1, *)) } }
        func tensors(_ on: any Backend, _ shapes: [[Int]], _ values: [[Float]]) throws -> [Tensor] {
            try zip(shapes, values).map { try on.tensor(shape: $0, values: $1) }
        }
        let body: (any Backend, [Tensor]) throws -> Tensor
        let shapes: [[Int]]
        switch operation {
        case .conv2d(let input, let weight, let bias, let descriptor):
            shapes = [input, weight] + (bias.map { [$0] } ?? [])
            body = { try $0.conv2d($1[0], weight: $1[1], bias: $1.count > 2 ? $1[2] : nil, descriptor: descriptor) }
        case .conv1d(let input, let weight, let bias, let descriptor):
            shapes = [input, weight] + (bias.map { [$0] } ?? [])
            body = { try $0.conv1d($1[0], weight: $1[1], bias: $1.count > 2 ? $1[2] : nil, descriptor: descriptor) }
        case .pool(let input, let mode, let descriptor, let returnIndices):
            shapes = [input]
            body = { try $0.pool($1[0], mode: mode, descriptor: descriptor, returnIndices: returnIndices).values }
        case .reduce(let input, let descriptor):
            shapes = [input]
            body = { try $0.reduce($1[0], descriptor: descriptor) }
        case .activation(let activation):
            shapes = [[3, 7, 5]]
            body = { try $0.activation($1[0], activation) }
        }
        let values = operands(shapes)
        return (try body(backend, try tensors(backend, shapes, values)), try body(reference, try tensors(reference, shapes, values)))
    }
}
