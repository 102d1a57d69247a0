import Foundation
import Testing

@testable import ConvCL

/// ONNX models built here with the generated messages: loading, validation, planning per input
/// shape (shape arithmetic folded on the host) and running on both backends.
@Suite("ONNX models")
struct ModelTests {
    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = inputs
        node.output = outputs
        node.name = name.isEmpty ? "\(op)_\(outputs[0])" : name
        node.attribute = attributes
        return node
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto { .ints(name, values) }

    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto { .int(name, value) }

    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto { .string(name, value) }

    static func value(_ name: String, _ type: Int32, _ dims: [ModelDimension]) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = type
        info.type.tensorType.shape.dim = dims.map { dimension in
            var d = Onnx_TensorShapeProto.Dimension()
            switch dimension {
            case .fixed(let size): d.dimValue = Int64(size)
            case .symbolic(let name): d.dimParam = name
            case .unknown: break
            }
            return d
        }
        return info
    }

    static func model(_ nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto], inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto], opset: Int64 = 17) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var set = Onnx_OperatorSetIdProto()
        set.version = opset
        model.opsetImport = [set]
        model.graph.node = nodes
        model.graph.initializer = initializers
        model.graph.input = inputs
        model.graph.output = outputs
        return try model.serializedData()
    }

    /// Conv (pads 1) → Relu → MaxPool 2×2 → Reshape to [N, −1], the shape made by
    /// Shape → Gather → Unsqueeze → Concat from the input's batch, as exporters write it.
    func convNet(_ random: inout TestRandom) throws -> (Data, weight: [Float], bias: [Float]) {
        let weight = random.floats(3 * 2 * 3 * 3), bias = random.floats(3)
        let nodes = [
            Self.node("Conv", ["x", "W", "B"], ["conv"], [Self.ints("pads", [1, 1, 1, 1]), Self.ints("kernel_shape", [3, 3])]),
            Self.node("Relu", ["conv"], ["relu"]),
            Self.node("MaxPool", ["relu"], ["pool"], [Self.ints("kernel_shape", [2, 2]), Self.ints("strides", [2, 2])]),
            Self.node("Shape", ["x"], ["shape"]),
            Self.node("Gather", ["shape", "zero"], ["batch"]),
            Self.node("Unsqueeze", ["batch", "axes"], ["batch1"]),
            Self.node("Concat", ["batch1", "minusOne"], ["target"], [Self.int("axis", 0)]),
            Self.node("Reshape", ["pool", "target"], ["y"]),
        ]
        let initializers = [
            Onnx_TensorProto(name: "W", shape: [3, 2, 3, 3], data: .float32(weight)), Onnx_TensorProto(name: "B", shape: [3], data: .float32(bias)),
            Onnx_TensorProto(name: "zero", shape: [], data: .int64([0])), Onnx_TensorProto(name: "axes", shape: [1], data: .int64([0])),
            Onnx_TensorProto(name: "minusOne", shape: [1], data: .int64([-1])),
        ]
        let data = try Self.model(
            nodes, initializers: initializers, inputs: [Self.value("x", 1, [.symbolic("N"), .fixed(2), .fixed(6), .fixed(7)])],
            outputs: [Self.value("y", 1, [.symbolic("N"), .unknown])])
        return (data, weight, bias)
    }

    @Test("one Model shared by 8 concurrent tasks, each on its own batch size, gives the serial results bit for bit", .needsOpenCL)
    func sharedByTasks() async throws {
        var random = TestRandom()
        let (data, _, _) = try convNet(&random)
        let backend = try openCLBackend()
        let model = try Model(serializedData: data, backend: backend)
        let inputs = (0..<8).map { index in (batch: 1 + index % 4, values: random.floats((1 + index % 4) * 84)) }
        func run(_ input: (batch: Int, values: [Float])) throws -> [Float] {
            try model.run(["x": try backend.tensor(shape: [input.batch, 2, 6, 7], values: input.values)])["y"]!.values()
        }
        // A fresh model for the concurrent rounds, so that its first runs of each shape race too.
        let serial = try inputs.map(run)
        for round in 0..<10 {
            let shared = try Model(serializedData: data, backend: backend)
            let concurrent = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
                for (index, input) in inputs.enumerated() {
                    group.addTask {
                        (index, try shared.run(["x": try backend.tensor(shape: [input.batch, 2, 6, 7], values: input.values)])["y"]!.values())
                    }
                }
                var results = [[Float]](repeating: [], count: inputs.count)
                for try await (index, values) in group { results[index] = values }
                return results
            }
            #expect(concurrent == serial, "round \(round); seed \(random.seed)")
        }
    }

    @Test("a conv net with exported shape arithmetic runs on both backends, for two batch sizes, as the operators composed")
    func convNetRuns() throws {
        var random = TestRandom()
        let (data, weight, bias) = try convNet(&random)
        let reference = ReferenceBackend()
        for backend in try allBackends() {
            let model = try Model(serializedData: data, backend: backend)
            #expect(model.inputs.map(\.description) == ["x: FLOAT [N, 2, 6, 7]"])
            #expect(model.operatorCounts["Conv"] == 1 && model.operatorCounts.values.reduce(0, +) == 8)
            for batch in [1, 3, 1] {
                let x = random.floats(batch * 2 * 6 * 7)
                let y = try model.run(["x": try backend.tensor(shape: [batch, 2, 6, 7], values: x)])["y"]!
                let conv = try reference.conv2d(
                    try reference.tensor(shape: [batch, 2, 6, 7], values: x), weight: try reference.tensor(shape: [3, 2, 3, 3], values: weight),
                    bias: try reference.tensor(shape: [3], values: bias), descriptor: .init(padding: .explicit([1, 1, 1, 1]), activation: .relu))
                let expected = try reference.maxPool(conv, descriptor: .init(kernel: [2, 2])).values()
                #expect(y.shape == [batch, 27], "\(backend.name) seed \(random.seed)")
                let discrepancy = Discrepancy(actual: try y.values(), expected: expected)
                #expect(discrepancy.relativeL2 <= 1e-6, "\(backend.name) batch \(batch): \(discrepancy) seed \(random.seed)")
            }
        }
    }

    @Test("a run reads nothing back from the device: constant shapes, starts, pads and axes are read on the host", .needsOpenCL)
    func constantsReadOnTheHost() throws {
        var random = TestRandom()
        func int64(_ name: String, _ values: [Int64]) -> Onnx_TensorProto { Onnx_TensorProto(name: name, shape: [values.count], data: .int64(values)) }
        // Slice → Pad → Unsqueeze (opset 13: axes as an input) → Reshape, each reading a constant
        // int64 input; the Reshape's shape is folded from Shape and Concat for each input shape.
        let nodes = [
            Self.node("Slice", ["x", "starts", "ends", "sliceAxes"], ["sliced"]),
            Self.node("Pad", ["sliced", "pads"], ["padded"]),
            Self.node("Unsqueeze", ["padded", "axes"], ["unsqueezed"]),
            Self.node("Shape", ["x"], ["shape"]),
            Self.node("Gather", ["shape", "zero"], ["batch"]),
            Self.node("Unsqueeze", ["batch", "axes"], ["batch1"]),
            Self.node("Concat", ["batch1", "minusOne"], ["target"], [Self.int("axis", 0)]),
            Self.node("Reshape", ["unsqueezed", "target"], ["y"]),
        ]
        let initializers = [
            int64("starts", [1]), int64("ends", [4]), int64("sliceAxes", [3]), int64("pads", [0, 0, 1, 0, 0, 0, 0, 2]),
            int64("axes", [0]), Onnx_TensorProto(name: "zero", shape: [], data: .int64([0])), int64("minusOne", [-1]),
        ]
        let data = try Self.model(
            nodes, initializers: initializers, inputs: [Self.value("x", 1, [.symbolic("N"), .fixed(3), .fixed(4), .fixed(5)])],
            outputs: [Self.value("y", 1, [.unknown, .unknown])], opset: 13)
        // Its own backend: the statistics of the shared one count other tests' transfers too.
        let backend = try OpenCLBackend(device: .automatic, kernelTier: .specialized)
        let model = try Model(serializedData: data, backend: backend)
        let reference = try Model(serializedData: data, backend: ReferenceBackend())
        for (round, batch) in [2, 2, 3].enumerated() {
            let x = random.floats(batch * 60)
            let before = backend.statistics.deviceToHostTransfers
            let y = try model.run(["x": try backend.tensor(shape: [batch, 3, 4, 5], values: x)])["y"]!
            #expect(backend.statistics.deviceToHostTransfers == before, "round \(round): the run read a value back from the device")
            let expected = try reference.run(["x": try ReferenceBackend().tensor(shape: [batch, 3, 4, 5], values: x)])["y"]!
            #expect(y.shape == [batch, 3 * 5 * 5] && expected.shape == y.shape, "round \(round): \(y.shape)")
            #expect(try y.values() == expected.values(), "round \(round), seed \(random.seed)")
        }
    }

    @Test("the programs a first run asks for are predicted at load, from the graph's ops and types", .needsOpenCL)
    func programsAhead() throws {
        var random = TestRandom()
        func int64(_ name: String, _ values: [Int64]) -> Onnx_TensorProto { Onnx_TensorProto(name: name, shape: [values.count], data: .int64(values)) }
        let nodes = [
            Self.node("Conv", ["x", "W"], ["conv"], [Self.ints("pads", [1, 1, 1, 1]), Self.ints("kernel_shape", [3, 3])]),
            Self.node("Sigmoid", ["conv"], ["sigmoid"]),
            Self.node("Transpose", ["sigmoid"], ["transposed"], [Self.ints("perm", [0, 1, 3, 2])]),
            Self.node("ReduceSum", ["transposed", "axes"], ["sum"]),
            Self.node("Equal", ["sum", "sum"], ["same"]),
            Self.node("Where", ["same", "sum", "zero"], ["selected"]),
            Self.node("Cast", ["selected"], ["integers"], [Self.int("to", 7)]),
            Self.node("Cast", ["integers"], ["y"], [Self.int("to", 1)]),
            Self.node("MaxPool", ["conv"], ["pooled"], [Self.ints("kernel_shape", [2, 2])]),
            // Rows of 6 floats moved whole: as pairs, by the 8-byte copy program.
            Self.node("Transpose", ["conv"], ["rows"], [Self.ints("perm", [0, 2, 1, 3])]),
            // A Max of one input is that input: no program (its binary row must not be named).
            Self.node("Max", ["sigmoid"], ["single"]),
            // Folded on the host: no program.
            Self.node("Shape", ["x"], ["shape"]),
            Self.node("Cast", ["shape"], ["shapeFloat"], [Self.int("to", 1)]),
            Self.node("Neg", ["shapeFloat"], ["negatedShape"]),
        ]
        let initializers = [
            Onnx_TensorProto(name: "W", shape: [3, 2, 3, 3], data: .float32(random.floats(54))), int64("axes", [3]),
            Onnx_TensorProto(name: "zero", shape: [], data: .float32([0])),
        ]
        let data = try Self.model(
            nodes, initializers: initializers, inputs: [Self.value("x", 1, [.fixed(1), .fixed(2), .fixed(5), .fixed(6)])],
            outputs: [
                Self.value("y", 1, []), Self.value("pooled", 1, []), Self.value("rows", 1, []), Self.value("single", 1, []),
                Self.value("negatedShape", 1, []),
            ],
            opset: 13)
        // The generic tier: every operation runs the programs the prediction names, whatever the
        // on-disk cache holds.
        let backend = try OpenCLBackend(device: .automatic, kernelTier: .generic)
        let model = try Model(serializedData: data, backend: backend)
        let x = random.floats(60)
        let outputs = try model.run(["x": try backend.tensor(shape: [1, 2, 5, 6], values: x)])
        #expect(Set(model.programsAhead) == backend.builtPrograms, "predicted \(model.programsAhead), built \(backend.builtPrograms)")
        // The generic convolution, unary float, the 4- and 8-byte copies, reduction, comparison,
        // Where, two casts, pooling.
        #expect(model.programsAhead.count == 10, "\(model.programsAhead)")
        let expected = try Model(serializedData: data, backend: ReferenceBackend()).run(["x": try ReferenceBackend().tensor(shape: [1, 2, 5, 6], values: x)])
        for name in ["y", "pooled", "rows", "single", "negatedShape"] {
            let discrepancy = Discrepancy(actual: try outputs[name]!.values(), expected: try expected[name]!.values())
            #expect(discrepancy.relativeL2 <= 1e-6, "\(name): \(discrepancy); seed \(random.seed)")
        }
    }

    @Test("an unsupported model is one error naming every offending node")
    func unsupportedNodes() throws {
        let nodes = [
            Self.node("FooBar", ["x"], ["a"], name: "mystery"),
            Self.node("Resize", ["a", "", "scales"], ["b"], name: "upsample", [Self.string("mode", "cubic")]),
            Self.node("Relu", ["b"], ["y"]),
        ]
        let data = try Self.model(
            nodes, initializers: [Onnx_TensorProto(name: "scales", shape: [4], data: .float32([1, 1, 2, 2]))],
            inputs: [Self.value("x", 1, [.fixed(1), .fixed(1), .fixed(2), .fixed(2)])], outputs: [Self.value("y", 1, [])])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("convcl-model-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: file) }
        try data.write(to: file)
        let listed = try Model.unsupportedNodes(contentsOf: file)
        #expect(listed.map(\.name) == ["mystery", "upsample"] && listed[0].reason == "operator not supported")
        #expect {
            _ = try Model(serializedData: data, backend: ReferenceBackend())
        } throws: { error in
            let text = "\(error)"
            return text.contains("2 node(s) cannot run") && text.contains("mystery (FooBar, opset 17): operator not supported")
                && text.contains("upsample (Resize, opset 17): mode: \"cubic\" is not supported")
        }
    }

    @Test("bad bytes, missing inputs and contradicting shapes get clear errors")
    func badInput() throws {
        #expect {
            _ = try Model(serializedData: Data([0xFF, 0x01, 0x02]), backend: ReferenceBackend())
        } throws: { "\($0)".contains("not an ONNX model") }
        var random = TestRandom()
        let model = try Model(serializedData: try convNet(&random).0, backend: ReferenceBackend())
        let backend = ReferenceBackend()
        #expect { _ = try model.run([:]) } throws: { "\($0)".contains("x") && "\($0)".contains("the input is not given") }
        #expect {
            _ = try model.run(["x": try backend.tensor(shape: [1, 3, 6, 7], values: random.floats(126))])
        } throws: { "\($0)".contains("expected shape [N, 2, 6, 7], got [1, 3, 6, 7]") }
        #expect {
            _ = try model.run(["x": try backend.tensor(shape: [1, 2, 6, 7], values: random.floats(84)), "z": try backend.tensor(shape: [1], values: [1])])
        } throws: { "\($0)".contains("is not an input of the model") }
    }

    @Test("tensors from raw_data, typed fields and int32 round-trip as ONNX stores them")
    func tensorDecoding() throws {
        var typed = Onnx_TensorProto()
        typed.name = "t"
        typed.dims = [2, 2]
        typed.dataType = ONNXElementType.int32
        typed.int32Data = [1, -2, 3, Int32.min]
        #expect(try typed.decoded(directory: nil).data == .int64([1, -2, 3, Int64(Int32.min)]))
        let raw = Onnx_TensorProto(name: "r", shape: [3], data: .float32([1.5, -0, .infinity]))
        #expect(try raw.decoded(directory: nil).data == .float32([1.5, -0, .infinity]))
        var short = raw
        short.dims = [4]
        #expect { _ = try short.decoded(directory: nil) } throws: { "\($0)".contains("raw data holds 12 bytes") }
        var external = raw
        external.dataLocation = .external
        var entry = Onnx_StringStringEntryProto()
        entry.key = "location"
        entry.value = "../secret.bin"
        external.externalData = [entry]
        #expect { _ = try external.decoded(directory: URL(fileURLWithPath: "/tmp")) } throws: { "\($0)".contains("inside the model's folder") }
        // A tensor file, as ONNX's test data sets hold them.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("convcl-tensor-\(UUID().uuidString).pb")
        defer { try? FileManager.default.removeItem(at: file) }
        try raw.serializedData().write(to: file)
        let read = try Tensor.readONNX(contentsOf: file)
        #expect(read.name == "r" && read.tensor.shape == [3])
        #expect(try read.tensor.data() == .float32([1.5, -0, .infinity]))
        try Data([0xFF, 0xFF]).write(to: file)
        #expect { _ = try Tensor.readONNX(contentsOf: file) } throws: { "\($0)".contains("not a readable ONNX tensor") }
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto { .float(name, value) }

    /// x → Pad (zeros, asymmetric spatial pads) → Conv (asymmetric pads, `groups`) →
    /// BatchNormalization → Add (a per-channel constant) → `activation` → y, in 1-D or 2-D.
    func fusableChain(_ random: inout TestRandom, spatial: Int, channels c: Int, filters k: Int, groups: Int, activation: String)
        throws -> (data: Data, inputShape: [Int])
    {
        let kernel = spatial == 2 ? [3, 2] : [5]
        let padPads = spatial == 2 ? [0, 0, 1, 2, 0, 0, 2, 0] : [0, 0, 3, 0, 0, 1]
        let convPads = spatial == 2 ? [0, 1, 1, 0] : [1, 2]
        let weightShape = [k, c / groups] + kernel
        let variance = random.floats(k).map { abs($0) + 0.1 }
        let nodes = [
            Self.node("Pad", ["x", "pads", "zero"], ["padded"]),
            Self.node("Conv", ["padded", "W", "B"], ["conv"], [Self.ints("pads", convPads), Self.int("group", groups)]),
            Self.node("BatchNormalization", ["conv", "scale", "beta", "mean", "variance"], ["normal"], [Self.float("epsilon", 1e-3)]),
            Self.node("Add", ["shift", "normal"], ["shifted"]),
            Self.node(activation, ["shifted"], ["y"], activation == "LeakyRelu" ? [Self.float("alpha", 0.2)] : []),
        ]
        let initializers = [
            Onnx_TensorProto(name: "pads", shape: [padPads.count], data: .int64(padPads.map(Int64.init))),
            Onnx_TensorProto(name: "zero", shape: [], data: .float32([0])),
            Onnx_TensorProto(name: "W", shape: weightShape, data: .float32(random.floats(weightShape.reduce(1, *)))),
            Onnx_TensorProto(name: "B", shape: [k], data: .float32(random.floats(k))),
            Onnx_TensorProto(name: "scale", shape: [k], data: .float32(random.floats(k))),
            Onnx_TensorProto(name: "beta", shape: [k], data: .float32(random.floats(k))),
            Onnx_TensorProto(name: "mean", shape: [k], data: .float32(random.floats(k))),
            Onnx_TensorProto(name: "variance", shape: [k], data: .float32(variance)),
            Onnx_TensorProto(name: "shift", shape: [k] + [Int](repeating: 1, count: spatial), data: .float32(random.floats(k))),
        ]
        let inputShape = [2, c] + (spatial == 2 ? [6, 9] : [17])
        let data = try Self.model(
            nodes, initializers: initializers, inputs: [Self.value("x", 1, inputShape.map { .fixed($0) })], outputs: [Self.value("y", 1, [])])
        return (data, inputShape)
    }

    @Test("rewrites merge Pad, BatchNormalization, Add and the activation into Conv, with groups, depthwise and asymmetric pads, matching the graph run node for node")
    func rewrites() throws {
        var random = TestRandom()
        let reference = ReferenceBackend()
        // (spatial axes, channels, filters, groups): one group, two groups, depthwise.
        let cases = [(2, 3, 5, 1), (2, 4, 6, 2), (2, 5, 5, 5), (1, 3, 4, 1), (1, 4, 4, 4)]
        for (index, (spatial, c, k, groups)) in cases.enumerated() {
            let activation = ["Relu", "LeakyRelu"][index % 2]
            let (data, shape) = try fusableChain(&random, spatial: spatial, channels: c, filters: k, groups: groups, activation: activation)
            let context = "\(spatial)-D c \(c) k \(k) groups \(groups) \(activation) seed \(random.seed)"
            let x = random.floats(shape.reduce(1, *))
            let plain = try Model(serializedData: data, backend: reference, rewrites: false)
            #expect(plain.rewrites.isEmpty && plain.plannedOperatorCounts.values.reduce(0, +) == 5, "\(context)")
            let expected = try plain.run(["x": try reference.tensor(shape: shape, values: x)])["y"]!
            for backend in try allBackends() {
                let model = try Model(serializedData: data, backend: backend)
                #expect(model.rewrites.map(\.removed) == ["Pad_padded (Pad)", "BatchNormalization_normal (BatchNormalization)", "Add_shifted (Add)", "\(activation)_y (\(activation))"], "\(context)")
                #expect(model.plannedOperatorCounts == ["Conv+\(activation)": 1], "\(context)")
                let y = try model.run(["x": try backend.tensor(shape: shape, values: x)])["y"]!
                #expect(y.shape == expected.shape, "\(context)")
                let discrepancy = Discrepancy(actual: try y.values(), expected: try expected.values())
                #expect(discrepancy.relativeL2 <= 1e-5, "\(backend.name) \(context): \(discrepancy)")
            }
        }
    }

    @Test("rewrites leave a node that is not exactly mergeable: a Pad of ones, a Pad of the channel axis, an intermediate read twice or a graph output, a Sigmoid")
    func rewritesRefused() throws {
        var random = TestRandom()
        let weight = Onnx_TensorProto(name: "W", shape: [2, 2, 3, 3], data: .float32(random.floats(36)))
        let input = [Self.value("x", 1, [.fixed(1), .fixed(2), .fixed(5), .fixed(5)])]
        func load(_ nodes: [Onnx_NodeProto], _ extra: [Onnx_TensorProto], outputs: [String]) throws -> Model {
            try Model(
                serializedData: try Self.model(nodes, initializers: [weight] + extra, inputs: input, outputs: outputs.map { Self.value($0, 1, []) }),
                backend: ReferenceBackend())
        }
        let ones = try load(
            [Self.node("Pad", ["x", "pads", "one"], ["p"]), Self.node("Conv", ["p", "W"], ["y"])],
            [Onnx_TensorProto(name: "pads", shape: [8], data: .int64([0, 0, 1, 1, 0, 0, 1, 1])), Onnx_TensorProto(name: "one", shape: [], data: .float32([1]))],
            outputs: ["y"])
        #expect(ones.rewrites.isEmpty)
        let channel = try load(
            [Self.node("Pad", ["x", "pads"], ["p"]), Self.node("Conv", ["p", "W3"], ["y"])],
            [Onnx_TensorProto(name: "pads", shape: [8], data: .int64([0, 1, 1, 1, 0, 0, 1, 1])),
             Onnx_TensorProto(name: "W3", shape: [2, 3, 3, 3], data: .float32(random.floats(54)))],
            outputs: ["y"])
        #expect(channel.rewrites.isEmpty)
        let twice = try load(
            [Self.node("Conv", ["x", "W"], ["c"]), Self.node("Relu", ["c"], ["r"]), Self.node("Add", ["c", "r"], ["y"])], [], outputs: ["y"])
        #expect(twice.rewrites.isEmpty)
        let output = try load([Self.node("Conv", ["x", "W"], ["c"]), Self.node("Relu", ["c"], ["y"])], [], outputs: ["c", "y"])
        #expect(output.rewrites.isEmpty && output.plannedOperatorCounts == ["Conv": 1, "Relu": 1])
        let sigmoid = try load([Self.node("Conv", ["x", "W"], ["c"]), Self.node("Sigmoid", ["c"], ["y"])], [], outputs: ["y"])
        #expect(sigmoid.rewrites.isEmpty)
    }

    @Test("model run: a 300-character output name gets a file name that fits; two outputs that would share a file are refused")
    func outputFileNames() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let long = String(repeating: "model_1/conv2d;", count: 20)
        func write(_ outputs: [String], to name: String) throws -> String {
            let nodes = outputs.enumerated().map { Self.node($0.offset == 0 ? "Neg" : "Relu", ["x"], [$0.element]) }
            let data = try Self.model(nodes, initializers: [], inputs: [Self.value("x", 1, [.fixed(2), .fixed(3)])],
                                      outputs: outputs.map { Self.value($0, 1, []) })
            let path = directory.appendingPathComponent(name).path
            try data.write(to: URL(fileURLWithPath: path))
            return path
        }
        var random = TestRandom()
        let x = random.floats(6)
        let input = directory.appendingPathComponent("x.npy").path
        try NPY.write(NPYArray(shape: [2, 3], float32: x), path: input)
        let out = directory.appendingPathComponent("out").path
        let run = try runCLConv(["model", "run", try write([long, "a:b"], to: "long.onnx"), "--input", input, "--output-dir", out, "--device", "cpu"])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files.count == 2 && files.allSatisfy { $0.utf8.count <= 204 } && files.contains("a_b.npy"), "\(files)")
        if let longFile = files.first(where: { $0.hasPrefix("model_1_conv2d_") }) {
            #expect(try NPY.read(path: out + "/" + longFile).float32Values() == x.map { -$0 }, "seed \(random.seed)")
        }
        let shared = try runCLConv(["model", "run", try write(["a/b", "a:b"], to: "shared.onnx"), "--input", input, "--output-dir", out + "2", "--device", "cpu"])
        #expect(shared.status == 1 && shared.stderr.contains("\"a/b\" and \"a:b\" would both be written to a_b.npy"), "\(shared.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "2"))
    }

    @Test("hostile model files: huge declared sizes, repeated names, negative dimensions and 2^62 attributes are refused by name, before any allocation",
          arguments: try allBackends())
    func hostileModels(_ backend: any Backend) throws {
        let x = Self.value("x", 1, [.fixed(1), .fixed(1), .fixed(2), .fixed(2)]), y = Self.value("y", 1, [])
        func int64(_ name: String, _ values: [Int64]) -> Onnx_TensorProto { Onnx_TensorProto(name: name, shape: [values.count], data: .int64(values)) }
        var huge = Onnx_TensorProto(name: "w", shape: [1], data: .float32([1, 2]))
        huge.dims = [1_000_000, 1_000_000]  // 10^12 elements declared, 8 bytes given
        let big = Int64(1) << 62
        let cases: [(label: String, nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto], inputs: [Onnx_ValueInfoProto], error: String)] = [
            ("huge initializer", [Self.node("Add", ["x", "w"], ["y"])], [huge], [x], "holds more than 2147483647 elements"),
            ("repeated output", [Self.node("Relu", ["x"], ["y"]), Self.node("Neg", ["x"], ["y"])], [], [x], "output \"y\" is already defined"),
            ("negative input dimension", [Self.node("Relu", ["x"], ["y"])], [], [Self.value("x", 1, [.fixed(1), .fixed(-4)])], "has a negative dimension"),
            ("cycle", [Self.node("Relu", ["b"], ["a"]), Self.node("Relu", ["a"], ["b"]), Self.node("Add", ["x", "a"], ["y"])], [], [x],
             "input \"b\" is not defined before the node"),
            ("ConstantOfShape of 10^12", [Self.node("ConstantOfShape", ["s"], ["c"]), Self.node("Add", ["x", "c"], ["y"])],
             [int64("s", [1_000_000, 1_000_000])], [x], "holds more than 2147483647 elements"),
            ("Conv pads 2^62", [Self.node("Conv", ["x", "k"], ["y"], [Self.ints("pads", Array(repeating: Int(big), count: 4))])],
             [Onnx_TensorProto(name: "k", shape: [1, 1, 1, 1], data: .float32([1]))], [x], "padding: must be at most 2147483647"),
            ("Pad 2^62", [Self.node("Pad", ["x", "p"], ["y"])], [int64("p", [0, 0, big, big, 0, 0, big, big])], [x], "beyond ±2147483647"),
            ("AveragePool window 10^18", [Self.node("AveragePool", ["x"], ["y"], [Self.ints("kernel_shape", [1_000_000_000, 1_000_000_000]),
                                                                                 Self.ints("pads", Array(repeating: 999_999_999, count: 4))])],
             [], [x], "kernel: [1000000000, 1000000000] holds more than 2147483647 elements"),
            // Found by ci/fuzz.sh (an index out of range): opset 18 Pad's axes unchecked.
            ("Pad axis 7", [Self.node("Pad", ["x", "p", "", "ax"], ["y"])], [int64("p", [1, 1]), int64("ax", [7])], [x], "axis 7 is out of range"),
            ("Pad one pad for an axis", [Self.node("Pad", ["x", "p", "", "ax"], ["y"])], [int64("p", [1]), int64("ax", [2])], [x], "two pads per axis"),
            // Found by ci/fuzz.sh (a crash): Resize keeping the aspect ratio with no axes, or to sizes past 32 bits.
            ("Resize aspect ratio, no axes", [Self.node("Resize", ["x", "", "", "s"], ["y"], [Self.ints("axes", []), Self.string("keep_aspect_ratio_policy", "not_larger")])],
             [int64("s", [4])], [x], "has 1 values for axes []"),
            ("Resize aspect ratio to 2^62", [Self.node("Resize", ["x", "", "", "s"], ["y"], [Self.ints("axes", [2, 3]), Self.string("keep_aspect_ratio_policy", "not_smaller")])],
             [int64("s", [big, 1])], [x], "outside 0...2147483647"),
            // A float32 input added to an int64 initializer: refused by the node, before it runs.
            ("type mismatch", [Self.node("Add", ["x", "i"], ["y"])], [int64("i", [1, 2])], [x],
             "Add node Add_y: invalid run: Add: invalid inputs: expected operands of one type, float32 or int64, got float32, int64"),
            ("Slice step Int64.min", [Self.node("Slice", ["x", "a", "b", "c", "d"], ["y"])],
             [int64("a", [.min]), int64("b", [.max]), int64("c", [3]), int64("d", [.min])], [x], ""),
        ]
        let input = try backend.tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        for hostile in cases {
            do {
                let model = try Model(serializedData: try Self.model(hostile.nodes, initializers: hostile.initializers, inputs: hostile.inputs, outputs: [y]),
                                      backend: backend)
                let output = try model.run(["x": input])["y"]!
                #expect(hostile.error.isEmpty, "\(hostile.label): ran, giving \(output.shape)")
                if hostile.label.hasPrefix("Slice") { #expect(output.shape == [1, 1, 2, 0], "\(hostile.label)") }
            } catch {
                #expect(!hostile.error.isEmpty && "\(error)".contains(hostile.error), "\(hostile.label): \(error)")
            }
        }
        // ONNX clamps a negative step's start to [0, size - 1] (onnxruntime agrees; NumPy would slice nothing).
        let slice = try Model(serializedData: try Self.model(
            [Self.node("Slice", ["x", "a", "b", "c", "d"], ["y"])], initializers: [int64("a", [-1000]), int64("b", [-1000]), int64("c", [3]), int64("d", [-1])],
            inputs: [x], outputs: [y]), backend: backend)
        #expect(try slice.run(["x": input])["y"]!.values() == [1, 3])
    }
}
