import Foundation

/// How ConvCL runs one ONNX operator: the opsets it follows, the checks of its attributes that
/// loading makes (so an unsupported model fails before it runs, naming each node), and the run,
/// one line or a few into the `Backend` operators.
struct ONNXOperator: Sendable {
    /// The lowest default-domain opset whose definition `run` follows.
    var since = 11
    var check: @Sendable (ONNXNode) throws -> Void = { _ in }
    let run: @Sendable (ONNXNodeRun) throws -> [Tensor]
}

enum ONNXOperators {
    /// Every ONNX operator ConvCL runs, by op type.
    static let table: [String: ONNXOperator] = {
        var table: [String: ONNXOperator] = [:]
        // Elementwise: one table row each.
        let unary: [String: ElementwiseOperation] = [
            "Neg": .neg, "Abs": .abs, "Sqrt": .sqrt, "Reciprocal": .reciprocal, "Exp": .exp, "Log": .log, "Erf": .erf,
            "Floor": .floor, "Ceil": .ceil, "Relu": .relu, "Sigmoid": .sigmoid, "Tanh": .tanh, "Softplus": .softplus, "Not": .not,
        ]
        for (name, operation) in unary {
            table[name] = ONNXOperator { [try $0.backend.elementwise(operation, $0.input(0))] }
        }
        let binary: [String: ElementwiseOperation] = [
            "Add": .add, "Sub": .sub, "Mul": .mul, "Div": .div, "Pow": .pow, "Equal": .equal, "Greater": .greater, "Less": .less,
            "GreaterOrEqual": .greaterOrEqual, "LessOrEqual": .lessOrEqual, "And": .and, "Or": .or, "Xor": .xor, "PRelu": .prelu,
        ]
        for (name, operation) in binary {
            table[name] = ONNXOperator { [try $0.backend.elementwise(operation, $0.input(0), $0.input(1))] }
        }
        // Variadic: folded left to right.
        for (name, operation) in [("Min", ElementwiseOperation.min), ("Max", .max), ("Sum", .add)] {
            table[name] = ONNXOperator { run in
                var result = try run.input(0)
                for index in 1..<run.count { result = try run.backend.elementwise(operation, result, run.input(index)) }
                return [result]
            }
        }
        table["Mean"] = ONNXOperator { run in
            var result = try run.input(0)
            for index in 1..<run.count { result = try run.backend.elementwise(.add, result, run.input(index)) }
            return [try run.backend.elementwise(.div, result, run.scalar(Double(run.count), like: result))]
        }
        table["Where"] = ONNXOperator { [try $0.backend.elementwise(.where, $0.input(0), $0.input(1), $0.input(2))] }
        table["Mod"] = ONNXOperator { run in
            [try run.backend.elementwise(run.node.int("fmod", 0) == 1 ? .fmod : .mod, run.input(0), run.input(1))]
        }
        table["LeakyRelu"] = ONNXOperator { [try $0.backend.elementwise(.leakyRelu(alpha: $0.node.float("alpha", 0.01)), $0.input(0))] }
        table["Elu"] = ONNXOperator { [try $0.backend.elementwise(.elu(alpha: $0.node.float("alpha", 1)), $0.input(0))] }
        table["HardSigmoid"] = ONNXOperator { run in
            [try run.backend.elementwise(.hardSigmoid(alpha: run.node.float("alpha", 0.2), beta: run.node.float("beta", 0.5)), run.input(0))]
        }
        table["Gelu"] = ONNXOperator(check: { try $0.require("approximate", in: ["none", "tanh"], default: "none") }) { run in
            [try run.backend.elementwise(run.node.string("approximate", "none") == "tanh" ? .geluTanh : .gelu, run.input(0))]
        }
        table["Clip"] = ONNXOperator { run in
            let low = run.optional(1) == nil ? -Float.infinity : try run.floats(1)[0]
            let high = run.optional(2) == nil ? Float.infinity : try run.floats(2)[0]
            return [try run.backend.elementwise(.clip(min: low, max: high), run.input(0))]
        }
        table["Cast"] = ONNXOperator(check: { node in
            guard ONNXElementType.dataType(Int32(node.int("to", 0))) != nil else {
                throw node.fail("to", "\(ONNXElementType.name(Int32(node.int("to", 0)))) is not supported (float32, int32, int64, bool)")
            }
        }) { run in
            let code = Int32(run.node.int("to", 0))
            var result = try run.backend.elementwise(.cast(to: ONNXElementType.dataType(code)!), run.input(0))
            if code == ONNXElementType.int32 {
                // int32 is carried as int64: keep the value a real int32 would (two's complement wrap).
                let values = try result.int64Values().map { Int64(Int32(truncatingIfNeeded: $0)) }
                result = try run.backend.tensor(shape: result.shape, int64Values: values)
            }
            return [result]
        }
        for name in ["Identity", "Dropout"] {
            table[name] = ONNXOperator { run in
                let x = try run.input(0)
                // Dropout at inference (or with ratio 0): the input, and a mask of ones when asked for.
                if let training = run.optional(2), try training.boolValues().first == true {
                    let ratio = run.optional(1) == nil ? 0.5 : try run.floats(1)[0]
                    if ratio != 0 { throw run.node.fail("training_mode", "true with ratio \(ratio) is not supported: ConvCL's Dropout is inference only") }
                }
                return run.node.proto.output.count > 1 ? [x, try run.backend.constantOfShape(x.shape, value: .bool([true]))] : [x]
            }
        }

        // Convolution and pooling.
        table["Conv"] = ONNXOperator(check: checkSpatial) { run in
            let x = try run.input(0), w = try run.input(1)
            switch try convolution(run) {
            case .oneD(let descriptor): return [try run.backend.conv1d(x, weight: w, bias: run.optional(2), descriptor: descriptor)]
            case .twoD(let descriptor): return [try run.backend.conv2d(x, weight: w, bias: run.optional(2), descriptor: descriptor)]
            }
        }
        table["ConvTranspose"] = ONNXOperator(check: checkSpatial) { run in
            let x = try run.input(0)
            let (padding, stride, dilation) = try spatial(run.node, rank: x.shape.count - 2)
            let descriptor = ConvTransposeDescriptor(
                stride: stride, padding: padding, outputPadding: run.node.ints("output_padding"), dilation: dilation,
                groups: run.node.int("group", 1), outputShape: run.node.ints("output_shape"))
            return [try run.backend.convTranspose(x, weight: run.input(1), bias: run.optional(2), descriptor: descriptor)]
        }
        table["MaxPool"] = ONNXOperator(check: { node in
            try checkSpatial(node)
            try node.requireInt("storage_order", in: [0], default: 0)
        }) { run in
            let x = try run.input(0)
            let descriptor = try pool(run.node, rank: x.shape.count - 2)
            guard run.node.proto.output.count > 1 else { return [try run.backend.maxPool(x, descriptor: descriptor)] }
            // ONNX's indices count over the whole tensor; ConvCL's (PyTorch's) within each plane.
            let (values, indices) = try run.backend.maxPoolWithIndices(x, descriptor: descriptor)
            let plane = Int64(x.shape.dropFirst(2).reduce(1, *)), planes = x.shape[0] * x.shape[1]
            let offsets = try run.backend.tensor(
                shape: [x.shape[0], x.shape[1]] + [Int](repeating: 1, count: x.shape.count - 2),
                int64Values: (0..<planes).map { Int64($0) * plane })
            return [values, try run.backend.elementwise(.add, indices, offsets)]
        }
        table["AveragePool"] = ONNXOperator(check: checkSpatial) { run in
            let x = try run.input(0)
            var descriptor = try pool(run.node, rank: x.shape.count - 2)
            descriptor.countIncludePad = run.node.int("count_include_pad", 0) == 1
            return [try run.backend.averagePool(x, descriptor: descriptor)]
        }
        table["GlobalAveragePool"] = ONNXOperator { [try $0.backend.globalAveragePool($0.input(0))] }
        table["GlobalMaxPool"] = ONNXOperator { [try $0.backend.globalMaxPool($0.input(0))] }

        // Reductions: axes an attribute before opset 18 (ReduceSum: 13), an input after.
        let reductions: [String: ReductionOperation] = [
            "ReduceSum": .sum, "ReduceMean": .mean, "ReduceMax": .max, "ReduceMin": .min, "ReduceProd": .prod, "ReduceL1": .l1,
            "ReduceL2": .l2, "ReduceSumSquare": .sumSquare, "ReduceLogSum": .logSum, "ReduceLogSumExp": .logSumExp,
        ]
        for (name, operation) in reductions {
            table[name] = ONNXOperator { run in
                let axesAreInput = run.node.opset >= (name == "ReduceSum" ? 13 : 18)
                var axes = axesAreInput ? try run.optionalInts(1) : run.node.ints("axes")
                if axes?.isEmpty ?? true {
                    if run.node.int("noop_with_empty_axes", 0) == 1 { return [try run.input(0)] }
                    axes = nil
                }
                let keep = run.node.int("keepdims", 1) == 1, x = try run.input(0), descriptor = ReduceDescriptor(operation, axes: axes, keepDims: keep)
                // Opset 20's bool ReduceMax and ReduceMin (any and all), exact through float32.
                if x.dataType == .bool, operation == .max || operation == .min {
                    let reduced = try run.backend.reduce(run.backend.elementwise(.cast(to: .float32), x), descriptor: descriptor)
                    return [try run.backend.elementwise(.cast(to: .bool), reduced)]
                }
                return [try run.backend.reduce(x, descriptor: descriptor)]
            }
        }

        // Dense and normalisation.
        table["MatMul"] = ONNXOperator { [try $0.backend.matmul($0.input(0), $0.input(1))] }
        table["Gemm"] = ONNXOperator { run in
            [try run.backend.gemm(
                run.input(0), run.input(1), run.optional(2), alpha: run.node.float("alpha", 1), beta: run.node.float("beta", 1),
                transA: run.node.int("transA", 0) == 1, transB: run.node.int("transB", 0) == 1)]
        }
        table["BatchNormalization"] = ONNXOperator(check: { node in
            try node.requireInt("training_mode", in: [0], default: 0)
            guard node.proto.output.count == 1 else { throw node.fail("outputs", "only Y is supported (inference), got \(node.proto.output.count) outputs") }
        }) { run in
            [try run.backend.batchNormalization(
                run.input(0), scale: run.input(1), bias: run.input(2), mean: run.input(3), variance: run.input(4),
                epsilon: run.node.float("epsilon", 1e-5))]
        }
        table["InstanceNormalization"] = ONNXOperator { run in
            [try run.backend.instanceNormalization(run.input(0), scale: run.input(1), bias: run.input(2), epsilon: run.node.float("epsilon", 1e-5))]
        }
        table["LayerNormalization"] = ONNXOperator { run in
            let x = try run.input(0), axis = run.node.int("axis", -1), epsilon = run.node.float("epsilon", 1e-5)
            // An absent bias is zero.
            let bias = try run.optional(2) ?? run.backend.constantOfShape(try run.input(1).shape)
            let y = try run.backend.layerNormalization(x, scale: run.input(1), bias: bias, axis: axis, epsilon: epsilon)
            guard run.node.proto.output.dropFirst().contains(where: { !$0.isEmpty }) else { return [y] }
            // Mean and InvStdDev, when asked for: over the normalised axes, kept as size 1.
            let axes = Array((axis < 0 ? axis + x.shape.count : axis)..<x.shape.count)
            let b = run.backend, descriptor = ReduceDescriptor(.mean, axes: axes, keepDims: true)
            let mean = try b.reduce(x, descriptor: descriptor)
            let centered = try b.elementwise(.sub, x, mean)
            let variance = try b.reduce(b.elementwise(.mul, centered, centered), descriptor: descriptor)
            let inverse = try b.elementwise(.reciprocal, b.elementwise(.sqrt, b.elementwise(.add, variance, run.scalar(Double(epsilon), like: variance))))
            return [y, mean, inverse]
        }
        table["Softmax"] = ONNXOperator(since: 13) { [try $0.backend.softmax($0.input(0), axis: $0.node.int("axis", -1))] }
        table["LogSoftmax"] = ONNXOperator(since: 13) { [try $0.backend.logSoftmax($0.input(0), axis: $0.node.int("axis", -1))] }

        // Shapes and data movement.
        table["Reshape"] = ONNXOperator { run in
            [try run.input(0).reshaped(onnx: try run.ints(1), allowZero: run.node.int("allowzero", 0) != 0)]
        }
        table["Flatten"] = ONNXOperator { [try $0.input(0).flattened(axis: $0.node.int("axis", 1))] }
        table["Squeeze"] = ONNXOperator { run in
            [try run.input(0).squeezed(axes: run.node.opset >= 13 ? try run.optionalInts(1) : run.node.ints("axes"))]
        }
        table["Unsqueeze"] = ONNXOperator { run in
            guard let axes = run.node.opset >= 13 ? try run.optionalInts(1) : run.node.ints("axes") else {
                throw run.node.fail("axes", "are required")
            }
            return [try run.input(0).unsqueezed(axes: axes)]
        }
        table["Transpose"] = ONNXOperator { [try $0.backend.transpose($0.input(0), permutation: $0.node.ints("perm"))] }
        table["Concat"] = ONNXOperator { run in
            guard let axis = run.node.attribute("axis").map({ Int($0.i) }) else { throw run.node.fail("axis", "is required") }
            return [try run.backend.concat(run.inputs.compactMap { $0 }, axis: axis)]
        }
        table["Split"] = ONNXOperator { run in
            let x = try run.input(0), axis = run.node.int("axis", 0)
            if let sizes = run.node.opset >= 13 ? try run.optionalInts(1) : run.node.ints("split") {
                return try run.backend.split(x, axis: axis, sizes: sizes)
            }
            return try run.backend.split(x, axis: axis, parts: run.node.int("num_outputs", run.node.proto.output.count))
        }
        table["Slice"] = ONNXOperator { run in
            [try run.backend.slice(run.input(0), starts: run.ints(1), ends: run.ints(2), axes: run.optionalInts(3), steps: run.optionalInts(4))]
        }
        table["Gather"] = ONNXOperator { [try $0.backend.gather($0.input(0), indices: $0.input(1), axis: $0.node.int("axis", 0))] }
        table["Expand"] = ONNXOperator { [try $0.backend.expand($0.input(0), to: $0.ints(1))] }
        table["Tile"] = ONNXOperator { [try $0.backend.tile($0.input(0), repeats: $0.ints(1))] }
        table["Pad"] = ONNXOperator(check: { try $0.require("mode", in: PadMode.allCases.map(\.rawValue), default: "constant") }) { run in
            let x = try run.input(0)
            var pads = try run.ints(1)
            if let axes = try run.optionalInts(3) {
                // Opset 18: pads for the listed axes only.
                let rank = x.shape.count
                let normalized = try axes.map { try Layout.axis($0, rank: rank, operation: "Pad", argument: "axes") }
                guard pads.count == 2 * axes.count, Set(normalized).count == axes.count else {
                    throw ConvCLError.invalidArgument(
                        operation: "Pad", argument: "axes", reason: "\(axes) must not repeat an axis, with two pads per axis; pads \(pads)")
                }
                var full = [Int](repeating: 0, count: 2 * rank)
                for (index, a) in normalized.enumerated() {
                    full[a] = pads[index]
                    full[rank + a] = pads[axes.count + index]
                }
                pads = full
            }
            let value = try run.optional(2).map { try $0.data().doubles.first ?? 0 } ?? 0
            return [try run.backend.pad(x, pads: pads, mode: PadMode(rawValue: run.node.string("mode", "constant"))!, value: value)]
        }
        table["Shape"] = ONNXOperator { run in
            [try run.backend.shape(of: run.input(0), start: run.node.int("start", 0), end: run.node.attribute("end").map { Int($0.i) })]
        }
        table["Size"] = ONNXOperator { [try $0.backend.size(of: $0.input(0))] }
        table["Constant"] = ONNXOperator(check: { node in
            guard ["value", "value_float", "value_floats", "value_int", "value_ints"].contains(where: { node.attribute($0) != nil }) else {
                throw node.fail("value", "only value, value_float(s) and value_int(s) are supported")
            }
        }) { run in
            let node = run.node
            if let (shape, data) = try node.tensor("value") { return [try run.backend.tensor(shape: shape, data: data)] }
            if let a = node.attribute("value_float") { return [try run.backend.tensor(shape: [], values: [a.f])] }
            if let a = node.attribute("value_floats") { return [try run.backend.tensor(shape: [a.floats.count], values: a.floats)] }
            if let a = node.attribute("value_int") { return [try run.backend.tensor(shape: [], int64Values: [a.i])] }
            let ints = node.attribute("value_ints")?.ints ?? []
            return [try run.backend.tensor(shape: [ints.count], int64Values: ints)]
        }
        table["ConstantOfShape"] = ONNXOperator { run in
            let value = try run.node.tensor("value")?.data ?? .float32([0])
            return [try run.backend.constantOfShape(run.ints(0), value: value)]
        }
        table["Range"] = ONNXOperator { run in
            let start = try run.input(0)
            if start.dataType == .int64 {
                return [try run.backend.range(start: Int64(run.ints(0)[0]), limit: Int64(run.ints(1)[0]), delta: Int64(run.ints(2)[0]))]
            }
            return [try run.backend.range(start: run.floats(0)[0], limit: run.floats(1)[0], delta: run.floats(2)[0])]
        }
        table["Resize"] = ONNXOperator(check: { node in
            try node.require("mode", in: ["nearest", "linear"], default: "nearest")
            try node.require("coordinate_transformation_mode", in: ResizeCoordinates.allCases.map(\.rawValue), default: "half_pixel")
            try node.require("nearest_mode", in: ResizeRounding.allCases.map(\.rawValue), default: "round_prefer_floor")
            try node.requireInt("antialias", in: [0], default: 0)
            try node.requireInt("exclude_outside", in: [0], default: 0)
            try node.require("keep_aspect_ratio_policy", in: ["stretch", "not_larger", "not_smaller"], default: "stretch")
        }) { run in
            let node = run.node
            let mode: ResizeMode = node.string("mode", "nearest") == "linear"
                ? .linear : .nearest(ResizeRounding(rawValue: node.string("nearest_mode", "round_prefer_floor"))!)
            var descriptor = ResizeDescriptor(mode: mode, coordinates: ResizeCoordinates(rawValue: node.string("coordinate_transformation_mode", "half_pixel"))!)
            let x = try run.input(0), rank = x.shape.count
            // `axes` (opset 18) lists the axes that scales or sizes give; the others keep their size.
            let axes = try (node.ints("axes") ?? Array(0..<rank)).map { axis in
                guard (-rank..<rank).contains(axis) else { throw node.fail("axes", "\(axis) is out of range for rank \(rank)") }
                return axis < 0 ? axis + rank : axis
            }
            guard Set(axes).count == axes.count else { throw node.fail("axes", "\(axes) repeats an axis") }
            func full<T>(_ given: [T], _ keep: (Int) -> T, _ argument: String) throws -> [T] {
                guard given.count == axes.count else { throw node.fail(argument, "has \(given.count) values for axes \(axes)") }
                var values = (0..<rank).map(keep)
                for (axis, value) in zip(axes, given) { values[axis] = value }
                return values
            }
            if let sizes = try run.optionalInts(3), !sizes.isEmpty {
                let policy = node.string("keep_aspect_ratio_policy", "stretch")
                if policy == "stretch" {
                    descriptor.sizes = try full(sizes, { x.shape[$0] }, "sizes")
                } else {
                    // One scale for the listed axes: the smallest or largest asked for; each size
                    // is that scale times the input's, rounded half up (ONNX's rule).
                    guard sizes.count == axes.count else { throw node.fail("sizes", "has \(sizes.count) values for axes \(axes)") }
                    guard axes.allSatisfy({ x.shape[$0] > 0 }) else {
                        throw node.fail("sizes", "keeping the aspect ratio needs non-empty axes \(axes), input \(x.shape)")
                    }
                    let ratios = zip(axes, sizes).map { Double($1) / Double(x.shape[$0]) }
                    let scale = policy == "not_larger" ? ratios.min()! : ratios.max()!
                    let scaled = axes.map { (scale * Double(x.shape[$0]) + 0.5).rounded(.down) }
                    guard scaled.allSatisfy({ $0 >= 0 && $0 <= Double(Int32.max) }) else {
                        throw node.fail("sizes", "\(sizes) for axes \(axes) of input \(x.shape) give sizes \(scaled), outside 0...\(Int32.max)")
                    }
                    descriptor.scales = try full(axes.map { _ in scale }, { _ in 1 }, "sizes")
                    descriptor.sizes = try full(scaled.map { Int($0) }, { x.shape[$0] }, "sizes")
                }
            } else {
                descriptor.scales = try full(try run.floats(2).map(Double.init), { _ in 1 }, "scales")
            }
            return [try run.backend.resize(x, descriptor: descriptor)]
        }
        return table
    }()

    enum Convolution {
        case oneD(Conv1DDescriptor)
        case twoD(Conv2DDescriptor)
    }

    /// A Conv node's descriptor, 1-D or 2-D by its input's rank.
    static func convolution(_ run: ONNXNodeRun) throws -> Convolution {
        let x = try run.input(0)
        let (padding, stride, dilation) = try spatial(run.node, rank: x.shape.count - 2)
        let groups = run.node.int("group", 1)
        let activation = run.node.activation
        return x.shape.count == 3
            ? .oneD(.init(stride: stride[0], padding: padding, dilation: dilation[0], groups: groups, activation: activation))
            : .twoD(.init(stride: stride, padding: padding, dilation: dilation, groups: groups, activation: activation))
    }

    /// The plan an OpenCL backend follows for a Conv node (nil for other nodes and backends).
    static func convolutionPlan(_ run: ONNXNodeRun) throws -> ConvolutionPlan? {
        guard run.node.opType == "Conv", let backend = run.backend as? OpenCLBackend else { return nil }
        let (x, w) = (try run.input(0).shape, try run.input(1).shape), bias = run.optional(2)?.shape
        switch try convolution(run) {
        case .oneD(let descriptor): return try backend.plan(input: x, weight: w, bias: bias, descriptor: descriptor)
        case .twoD(let descriptor): return try backend.plan(input: x, weight: w, bias: bias, descriptor: descriptor)
        }
    }

    /// Conv's, ConvTranspose's and the pools' padding attributes.
    static func checkSpatial(_ node: ONNXNode) throws {
        try node.require("auto_pad", in: ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"], default: "NOTSET")
    }

    /// The padding, strides and dilations of a node over `rank` spatial axes.
    static func spatial(_ node: ONNXNode, rank: Int) throws -> (Padding, [Int], [Int]) {
        guard rank == 1 || rank == 2 else { throw node.fail("input", "only 1-D and 2-D \(node.opType) are supported, got \(rank) spatial axes") }
        let padding: Padding =
            switch node.string("auto_pad", "NOTSET") {
            case "VALID": .valid
            case "SAME_UPPER": .sameUpper
            case "SAME_LOWER": .sameLower
            default: .explicit(node.ints("pads") ?? [Int](repeating: 0, count: 2 * rank))
            }
        let ones = [Int](repeating: 1, count: rank)
        return (padding, node.ints("strides") ?? ones, node.ints("dilations") ?? ones)
    }

    /// A pooling node's descriptor.
    static func pool(_ node: ONNXNode, rank: Int) throws -> PoolDescriptor {
        guard let kernel = node.ints("kernel_shape") else { throw node.fail("kernel_shape", "is required") }
        let (padding, stride, dilation) = try spatial(node, rank: rank)
        return PoolDescriptor(kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: node.int("ceil_mode", 0) == 1)
    }
}
