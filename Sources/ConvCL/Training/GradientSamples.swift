/// Random cases of the backward primitives for the operator checks (`clconv verify`, the oclgrind
/// check, the property tests): unequal strides, dilations and pads per axis, groups with
/// stride > 1, true convolution, ceil mode, 1-D and 2-D.
extension OperatorRegistry {
    static let gradientEntries: [Entry] = [
        Entry(name: "ConvWeightGradient") { random in
            // Index 0: groups at stride 1 along the width, summed along rows (6 and 7 at strides
            // along the width too, over the input's phases); 4: 16 filters a group or
            // more, whose gradient is the GEMM, over enough positions for its reduction to run in
            // chunks; 5: 3×3 at stride 1 with 16 channels or more as well, whose gradient runs
            // through Winograd's transforms; 6: as 0 with rows of 30 windows or more, in whole
            // chunks of 16 (pairs, then one), a last chunk overlapping the one before, and taps
            // reaching into the pads, over one to three blocks of 16 taps; 7: one input channel
            // without groups and a long kernel (a filter bank over audio), also summed along rows.
            (0..<8).map { index in
                func draw(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
                // The input and an output gradient of the forward's output shape.
                func sample(_ descriptor: Conv2DDescriptor, input: [Int], weight: [Int]) -> OperatorSample {
                    let output = (try? descriptor.geometry(input: input, weight: weight, bias: nil).outputShape) ?? []
                    return finiteSample(ConvWeightGradient(descriptor: descriptor, weightShape: weight), [input, output], &random, sumOfProducts: true)
                }
                if index == 5 {
                    let descriptor = Conv2DDescriptor(
                        padding: .explicit((0..<4).map { _ in draw(0...2) }), mode: draw(0...1) == 0 ? .convolution : .crossCorrelation)
                    let input = [draw(1...2), draw(16...17), draw(5...14), draw(5...14)], weight = [draw(16...18), input[1], 3, 3]
                    return sample(descriptor, input: input, weight: weight)
                }
                if index == 6 {
                    let groups = draw(2...3), perGroup = draw(1...2), kernel = [draw(1...3), draw(1...11)]
                    let dilation = [draw(1...2), draw(1...2)], pads = [draw(0...2), draw(0...3), draw(0...2), draw(0...3)]
                    let descriptor = Conv2DDescriptor(
                        stride: [draw(1...2), draw(1...3)], padding: .explicit(pads), dilation: dilation, groups: groups,
                        mode: draw(0...1) == 0 ? .convolution : .crossCorrelation)
                    let input = [draw(1...2), groups * perGroup, dilation[0] * (kernel[0] - 1) + 1 + draw(0...4), dilation[1] * (kernel[1] - 1) + draw(30...60)]
                    let weight = [groups * draw(1...3), perGroup] + kernel
                    return sample(descriptor, input: input, weight: weight)
                }
                if index == 7 {
                    let kernel = [draw(1...2), draw(17...40)], pads = [draw(0...1), draw(0...4), draw(0...1), draw(0...4)]
                    let descriptor = Conv2DDescriptor(
                        stride: [draw(1...2), draw(1...3)], padding: .explicit(pads), dilation: [1, draw(1...2)],
                        mode: draw(0...1) == 0 ? .convolution : .crossCorrelation)
                    let input = [draw(1...2), 1, kernel[0] + draw(0...3), 2 * kernel[1] + draw(20...60)]
                    let weight = [draw(2...5), 1] + kernel
                    return sample(descriptor, input: input, weight: weight)
                }
                let many = index == 4
                let groups = draw((index == 0 ? 2 : 1)...(many ? 2 : 3)), perGroup = draw(1...3), filters = groups * (many ? draw(16...18) : draw(1...3))
                let kernel = [index % 2 == 0 ? draw(1...4) : 1, draw(1...5)]
                let stride = many ? [1, 2] : [draw(1...3), index == 0 ? 1 : draw(1...3)], dilation = [draw(1...2), draw(1...2)]
                let pads = [draw(0...2), draw(0...2), draw(0...2), draw(0...2)]
                let spatial = (0..<2).map { dilation[$0] * (kernel[$0] - 1) + 1 + (many ? draw(18...24) : draw(0...8)) }
                let descriptor = Conv2DDescriptor(
                    stride: stride, padding: .explicit(pads), dilation: dilation, groups: groups,
                    mode: index == 3 ? .convolution : .crossCorrelation)
                let input = [many ? 2 : draw(1...2), groups * perGroup] + spatial
                let weight = [filters, perGroup] + kernel
                return sample(descriptor, input: input, weight: weight)
            }
        },
        Entry(name: "PoolBackward") { random in
            (0..<4).map { index in
                func draw(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
                let rank = index < 2 ? 2 : 1
                let kernel = (0..<rank).map { _ in draw(1...4) }
                let descriptor = PoolDescriptor(
                    kernel: kernel, stride: (0..<rank).map { _ in draw(1...3) },
                    padding: .explicit((0..<(2 * rank)).map { draw(0...kernel[$0 % rank] - 1) }),
                    dilation: (0..<rank).map { _ in draw(1...2) }, ceilMode: draw(0...1) == 1, countIncludePad: draw(0...1) == 1)
                let input = [draw(1...2), draw(1...3)] + kernel.map { 2 * $0 + draw(0...7) }
                let mode: PoolingMode = index % 2 == 0 ? .max : .average
                let primitive = PoolBackward(mode: mode, descriptor: descriptor, inputShape: input)
                let output = (try? descriptor.geometry(input: input, operation: "pool").outputShape) ?? []
                var sample = finiteSample(primitive, [output], &random)
                if mode == .max {
                    // The forward's own indices, of a random input.
                    let reference = ReferenceBackend()
                    let x = values(TensorType(input), &random, finite: true)
                    let indices = (try? reference.maxPoolWithIndices(reference.tensor(shape: input, data: x), descriptor: descriptor))
                        .flatMap { try? $0.indices.data() } ?? .int64([])
                    sample = OperatorSample(
                        label: sample.label + " \(TensorType(output, .int64))", primitive: primitive,
                        inputs: sample.inputs + [(TensorType(output, .int64), indices)])
                }
                return sample
            }
        },
        Entry(name: "OptimizerStep") { random in
            let shape = [Int.random(in: 1...3, using: &random), Int.random(in: 1...70, using: &random)]
            let rules: [OptimizerStep.Rule] = [
                .sgd(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: false),
                .sgd(learningRate: 0.05, momentum: 0.5, weightDecay: 0, nesterov: true),
                .adam(learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2, step: Int.random(in: 1...50, using: &random)),
            ]
            return rules.map { rule in
                finiteSample(OptimizerStep(rule: rule), [[Int]](repeating: shape, count: 2 + rule.stateCount), &random, positiveLast: true)
            }
        },
    ]
}
