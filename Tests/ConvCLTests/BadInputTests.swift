import Foundation
import Testing

@testable import ConvCL

@Suite("Bad input is refused before dispatch")
struct BadInputTests {
    /// One bad call: what it runs, and the operation, argument and text its error must name.
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let operation: String
        let argument: String
        let mentions: [String]
        let run: @Sendable (any Backend) throws -> Void
    }

    static func tensor(_ backend: any Backend, _ shape: [Int]) throws -> Tensor {
        try backend.tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { Float($0 % 7) - 3 })
    }

    static let cases: [Case] = {
        func conv(_ input: [Int], _ weight: [Int], bias: [Int]? = nil, _ descriptor: Conv2DDescriptor = .init())
            -> @Sendable (any Backend) throws -> Void
        {
            { backend in
                _ = try backend.conv2d(
                    try tensor(backend, input), weight: try tensor(backend, weight),
                    bias: try bias.map { try tensor(backend, $0) }, descriptor: descriptor)
            }
        }
        func pool(_ input: [Int], _ descriptor: PoolDescriptor) -> @Sendable (any Backend) throws -> Void {
            { backend in _ = try backend.maxPool(try tensor(backend, input), descriptor: descriptor) }
        }
        func reduce(_ input: [Int], _ axes: [Int]) -> @Sendable (any Backend) throws -> Void {
            { backend in _ = try backend.reduce(try tensor(backend, input), descriptor: .init(.sum, axes: axes)) }
        }
        return [
            Case(description: "conv2d input of rank 3", operation: "conv2d", argument: "input", mentions: ["rank 4", "[1, 3, 5]"],
                 run: conv([1, 3, 5], [1, 3, 1, 1])),
            Case(description: "conv1d input of rank 4", operation: "conv1d", argument: "input", mentions: ["rank 3", "[1, 1, 4, 4]"],
                 run: { backend in _ = try backend.conv1d(try tensor(backend, [1, 1, 4, 4]), weight: try tensor(backend, [1, 1, 2]), bias: nil, descriptor: .init()) }),
            Case(description: "channels not divisible by groups", operation: "conv2d", argument: "groups", mentions: ["input channels 3", "groups 2"],
                 run: conv([1, 3, 5, 5], [2, 1, 1, 1], .init(groups: 2))),
            Case(description: "filters not divisible by groups", operation: "conv2d", argument: "groups", mentions: ["filters 3", "groups 2"],
                 run: conv([1, 4, 5, 5], [3, 2, 1, 1], .init(groups: 2))),
            Case(description: "weight channels ≠ C / groups", operation: "conv2d", argument: "weight", mentions: ["3 channels per filter", "= 2"],
                 run: conv([1, 4, 5, 5], [2, 3, 1, 1], .init(groups: 2))),
            Case(description: "bias length ≠ filters", operation: "conv2d", argument: "bias", mentions: ["[4]", "[3]"],
                 run: conv([1, 2, 5, 5], [4, 2, 3, 3], bias: [3])),
            Case(description: "stride 0", operation: "conv2d", argument: "stride", mentions: ["[1, 0]"],
                 run: conv([1, 1, 5, 5], [1, 1, 3, 3], .init(stride: [1, 0]))),
            Case(description: "dilation −1", operation: "conv2d", argument: "dilation", mentions: ["[-1, 1]"],
                 run: conv([1, 1, 5, 5], [1, 1, 3, 3], .init(dilation: [-1, 1]))),
            Case(description: "negative padding", operation: "conv2d", argument: "padding", mentions: ["[0, -1, 0, 0]"],
                 run: conv([1, 1, 5, 5], [1, 1, 3, 3], .init(padding: .explicit([0, -1, 0, 0])))),
            Case(description: "padding of the wrong length", operation: "conv2d", argument: "padding", mentions: ["expected 4 values", "[1, 1]"],
                 run: conv([1, 1, 5, 5], [1, 1, 3, 3], .init(padding: .explicit([1, 1])))),
            Case(description: "dilated kernel larger than the padded input", operation: "conv2d", argument: "kernel", mentions: ["spans 5", "padded input 4"],
                 run: conv([1, 1, 4, 9], [1, 1, 3, 3], .init(dilation: [2, 1]))),
            Case(description: "conv1d kernel longer than the input", operation: "conv1d", argument: "kernel", mentions: ["spans 9", "padded input 8"],
                 run: { backend in _ = try backend.conv1d(try tensor(backend, [1, 1, 8]), weight: try tensor(backend, [1, 1, 9]), bias: nil, descriptor: .init()) }),
            Case(description: "conv2d input with a zero-sized dimension", operation: "conv2d", argument: "input", mentions: ["[1, 1, 0, 5]"],
                 run: conv([1, 1, 0, 5], [1, 1, 1, 1])),
            Case(description: "max pool input with a zero-sized dimension", operation: "maxPool", argument: "input", mentions: ["[0, 1, 4, 4]"],
                 run: pool([0, 1, 4, 4], .init(kernel: [2, 2]))),
            Case(description: "global average pool of an empty map", operation: "globalAveragePool", argument: "input", mentions: ["[1, 2, 0]"],
                 run: { backend in _ = try backend.globalAveragePool(try tensor(backend, [1, 2, 0])) }),
            Case(description: "pool kernel of rank 2 on a 1-D input", operation: "maxPool", argument: "input", mentions: ["rank 4", "[1, 1, 8]"],
                 run: pool([1, 1, 8], .init(kernel: [2, 2]))),
            Case(description: "pool stride 0", operation: "maxPool", argument: "stride", mentions: ["[0]"],
                 run: pool([1, 1, 8], .init(kernel: [2], stride: [0]))),
            Case(description: "pool window larger than the padded input", operation: "maxPool", argument: "kernel", mentions: ["window 5", "padded input 4"],
                 run: pool([1, 1, 4], .init(kernel: [3], dilation: [2]))),
            Case(description: "pool padding not smaller than the kernel", operation: "maxPool", argument: "padding", mentions: ["3 is not smaller than the kernel 3"],
                 run: pool([1, 1, 8], .init(kernel: [3], padding: .explicit([2, 3])))),
            Case(description: "indices from average pooling", operation: "averagePool", argument: "returnIndices", mentions: ["only for max"],
                 run: { backend in _ = try backend.pool(try tensor(backend, [1, 1, 4]), mode: .average, descriptor: .init(kernel: [2]), returnIndices: true) }),
            Case(description: "axis out of range", operation: "reduce", argument: "axes", mentions: ["axis 3", "rank 3"],
                 run: reduce([2, 3, 4], [0, 3])),
            Case(description: "negative axis out of range", operation: "reduce", argument: "axes", mentions: ["axis -4"],
                 run: reduce([2, 3, 4], [-4])),
            Case(description: "axis repeated", operation: "reduce", argument: "axes", mentions: ["axis -1 is repeated", "[2, -1]"],
                 run: reduce([2, 3, 4], [2, -1])),
            Case(description: "non-finite leaky ReLU slope", operation: "activation", argument: "activation", mentions: ["nan"],
                 run: { backend in _ = try backend.activation(try tensor(backend, [3]), .leakyReLU(slope: .nan)) }),
            Case(description: "reshape to another count", operation: "reshape", argument: "values", mentions: ["[4]", "6"],
                 run: { backend in _ = try tensor(backend, [2, 3]).reshaped([4]) }),
            Case(description: "ConvTranspose weight whose first axis is not C", operation: "ConvTranspose", argument: "weight", mentions: ["first dimension 2", "channel count 3"],
                 run: { backend in _ = try backend.convTranspose(try tensor(backend, [1, 3, 5]), weight: try tensor(backend, [2, 3, 3])) }),
            Case(description: "ConvTranspose output padding not below stride or dilation", operation: "ConvTranspose", argument: "outputPadding", mentions: ["2 must be smaller than the stride 2"],
                 run: { backend in
                     _ = try backend.convTranspose(
                         try tensor(backend, [1, 1, 5]), weight: try tensor(backend, [1, 1, 3]), descriptor: .init(stride: [2], outputPadding: [2]))
                 }),
            Case(description: "ConvTranspose pads that leave no output", operation: "ConvTranspose", argument: "padding", mentions: ["[2, 1]", "leave no output"],
                 run: { backend in
                     _ = try backend.convTranspose(
                         try tensor(backend, [1, 1, 1]), weight: try tensor(backend, [1, 1, 3]), descriptor: .init(padding: .explicit([2, 1])))
                 }),
            Case(description: "Resize with neither scales nor sizes", operation: "Resize", argument: "scales", mentions: ["give scales, sizes, or both"],
                 run: { backend in _ = try backend.resize(try tensor(backend, [1, 2]), descriptor: .init()) }),
            Case(description: "Resize sizes with scales of the wrong count", operation: "Resize", argument: "scales", mentions: ["expected 2", "[0.5]"],
                 run: { backend in _ = try backend.resize(try tensor(backend, [1, 2]), descriptor: .init(scales: [0.5], sizes: [1, 1])) }),
            Case(description: "Resize scales of the wrong count", operation: "Resize", argument: "scales", mentions: ["expected 2", "[2.0]"],
                 run: { backend in _ = try backend.resize(try tensor(backend, [1, 2]), descriptor: .init(scales: [2])) }),
            Case(description: "shapes that do not broadcast", operation: "Add", argument: "shapes", mentions: ["[2, 3]", "[4]", "sizes 3 and 4"],
                 run: { backend in _ = try backend.elementwise(.add, try tensor(backend, [2, 3]), try tensor(backend, [4])) }),
            Case(description: "a comparison of float and int64", operation: "Less", argument: "inputs", mentions: ["float32, int64"],
                 run: { backend in
                     _ = try backend.elementwise(.less, try tensor(backend, [2]), try backend.tensor(shape: [2], int64Values: [1, 2]))
                 }),
            Case(description: "an elementwise operation given too few operands", operation: "Where", argument: "inputs", mentions: ["3 operands", "got 2"],
                 run: { backend in _ = try backend.elementwise(.where, try tensor(backend, [2]), try tensor(backend, [2])) }),
            Case(description: "a transpose that is no permutation", operation: "Transpose", argument: "perm", mentions: ["[0, 0, 1]"],
                 run: { backend in _ = try backend.transpose(try tensor(backend, [2, 3, 4]), permutation: [0, 0, 1]) }),
            Case(description: "a slice of step 0", operation: "Slice", argument: "steps", mentions: ["step 0"],
                 run: { backend in _ = try backend.slice(try tensor(backend, [5]), starts: [0], ends: [5], steps: [0]) }),
            Case(description: "a concat of mismatched shapes", operation: "Concat", argument: "inputs", mentions: ["[2, 3]", "[2, 4]", "axis 0"],
                 run: { backend in _ = try backend.concat([try tensor(backend, [2, 3]), try tensor(backend, [2, 4])], axis: 0) }),
            Case(description: "a reflect pad as wide as the axis", operation: "Pad", argument: "pads", mentions: ["below its size 3"],
                 run: { backend in _ = try backend.pad(try tensor(backend, [3]), pads: [3, 0], mode: .reflect) }),
            Case(description: "a gather index out of range", operation: "Gather", argument: "indices", mentions: ["index 4", "size 4"],
                 run: { backend in
                     _ = try backend.gather(try tensor(backend, [4, 2]), indices: try backend.tensor(shape: [2], int64Values: [1, 4]))
                 }),
            Case(description: "a matmul of mismatched inner sizes", operation: "MatMul", argument: "inputs", mentions: ["3 and 4"],
                 run: { backend in _ = try backend.matmul(try tensor(backend, [2, 3]), try tensor(backend, [4, 5])) }),
            Case(description: "a split that does not add up", operation: "Split", argument: "split", mentions: ["[1, 1]", "size 3"],
                 run: { backend in _ = try backend.split(try tensor(backend, [3, 2]), sizes: [1, 1]) }),
            Case(description: "an ONNX reshape with two -1", operation: "Reshape", argument: "shape", mentions: ["more than one -1"],
                 run: { backend in _ = try tensor(backend, [2, 3]).reshaped(onnx: [-1, -1]) }),
            Case(description: "a squeeze of a wide axis", operation: "Squeeze", argument: "axes", mentions: ["size 3"],
                 run: { backend in _ = try tensor(backend, [1, 3]).squeezed(axes: [1]) }),
            Case(description: "a softmax axis out of range", operation: "Softmax", argument: "axis", mentions: ["axis 2"],
                 run: { backend in _ = try backend.softmax(try tensor(backend, [2, 3]), axis: 2) }),
            Case(description: "batch normalisation parameters of the wrong length", operation: "BatchNormalization", argument: "input 3",
                 mentions: ["[3]", "[2]"],
                 run: { backend in
                     let p = try tensor(backend, [3]), wrong = try tensor(backend, [2])
                     _ = try backend.batchNormalization(try tensor(backend, [1, 3, 2]), scale: p, bias: p, mean: wrong, variance: p)
                 }),
        ]
    }()

    @Test("each bad argument gets an error naming the operation, the argument and the values", arguments: cases)
    func refused(_ bad: Case) throws {
        for backend in try allBackends() {
            do {
                try bad.run(backend)
                Issue.record("\(backend.name): \(bad) was accepted")
            } catch ConvCLError.invalidArgument(let operation, let argument, let reason) {
                #expect(operation == bad.operation, "\(backend.name): \(bad)")
                #expect(argument == bad.argument, "\(backend.name): \(bad): \(reason)")
                for text in bad.mentions {
                    #expect(reason.contains(text), "\(backend.name): \(bad): \"\(reason)\" does not mention \(text)")
                }
            }
        }
    }

    @Test("pooling and reductions refuse another backend's tensors", .needsOpenCL)
    func mixedBackends() throws {
        let device = try openCLBackend()
        let reference = ReferenceBackend()
        let hostTensor = try reference.tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init))
        let deviceTensor = try device.tensor(shape: [1, 1, 4, 4], values: (0..<16).map(Float.init))
        #expect(throws: ConvCLError.self) { try device.maxPool(hostTensor, descriptor: .init(kernel: [2, 2])) }
        #expect(throws: ConvCLError.self) { try device.reduce(hostTensor, descriptor: .init(.sum)) }
        #expect(throws: ConvCLError.self) { try reference.reduce(deviceTensor, descriptor: .init(.sum)) }
        #expect(throws: ConvCLError.self) { try reference.activation(deviceTensor, .relu) }
    }
}

@Suite("Tensors stay on the device")
struct ResidencyTests {
    @Test("conv → ReLU → maxpool → global average pool → reduce copies nothing to the host until read", .needsOpenCL)
    func chainMakesNoHostCopies() throws {
        let backend = try OpenCLBackend(device: .automatic, kernelTier: .specialized)
        var random = TestRandom()
        let x = try backend.tensor(shape: [2, 3, 17, 19], values: random.floats(2 * 3 * 17 * 19))
        let w = try backend.tensor(shape: [8, 3, 3, 3], values: random.floats(8 * 27))
        let before = backend.statistics
        #expect(before.hostToDeviceTransfers == 2 && before.deviceToHostTransfers == 0)

        let conv = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init(padding: .sameUpper))
        let relu = try backend.activation(conv, .relu)
        let pooled = try backend.maxPool(relu, descriptor: .init(kernel: [2, 2]))
        let summary = try backend.globalAveragePool(pooled)
        let total = try backend.reduce(summary, descriptor: .init(.sum, axes: [1], keepDims: false))
        let during = backend.statistics
        #expect(during.hostToDeviceTransfers == 2, "no uploads inside the chain")
        #expect(during.deviceToHostTransfers == 0, "no downloads inside the chain")
        let plan = try backend.plan(input: x.shape, weight: w.shape, bias: nil, descriptor: Conv2DDescriptor(padding: .sameUpper))
        let convLaunches = plan.algorithm == .direct ? 2 : 3  // packing the filters, then direct or im2col and GEMM
        // Both reductions fit one chunk per output, so each is one launch.
        #expect(during.kernelLaunches - before.kernelLaunches == convLaunches + 4,
                "conv (\(plan.algorithm)), ReLU, pool, and one stage per reduction")

        let values = try total.values()
        #expect(backend.statistics.deviceToHostTransfers == 1, "one read, by the caller")

        // The same chain on the reference.
        let reference = ReferenceBackend()
        let rx = try reference.tensor(shape: x.shape, values: try x.values())
        let rw = try reference.tensor(shape: w.shape, values: try w.values())
        let expected = try reference.reduce(
            try reference.globalAveragePool(
                try reference.maxPool(
                    try reference.activation(
                        try reference.conv2d(rx, weight: rw, bias: nil, descriptor: .init(padding: .sameUpper)), .relu),
                    descriptor: .init(kernel: [2, 2]))),
            descriptor: .init(.sum, axes: [1], keepDims: false))
        #expect(total.shape == [2, 1, 1])
        #expect(relativeL2Error(values, try expected.values()) <= 1e-5, "seed \(random.seed)")
    }

    @Test("in steady state a chain reuses pooled buffers and allocates none; results stay right", .needsOpenCL)
    func steadyStateAllocatesNothing() throws {
        let backend = try OpenCLBackend(device: .automatic, kernelTier: .specialized)
        var random = TestRandom()
        let x = try backend.tensor(shape: [2, 5, 21, 19], values: random.floats(2 * 5 * 21 * 19))
        let w = try backend.tensor(shape: [7, 5, 3, 3], values: random.floats(7 * 45))
        func chain() throws -> [Float] {
            let conv = try backend.conv2d(x, weight: w, bias: nil, descriptor: .init(padding: .sameUpper, activation: .relu))
            let pooled = try backend.maxPool(conv, descriptor: .init(kernel: [2, 2]))
            return try backend.reduce(backend.globalAveragePool(pooled), descriptor: .init(.sum, axes: [1])).values()
        }
        let first = try chain()
        let warm = backend.statistics.bufferAllocations
        #expect(warm > 0)
        for round in 0..<5 {
            // Each round reuses the buffers the last one released; the values must not change
            // (a buffer handed out while still in use would corrupt them).
            #expect(try chain() == first, "round \(round); seed \(random.seed)")
        }
        #expect(backend.statistics.bufferAllocations == warm, "no clCreateBuffer after the first round")
    }
}
