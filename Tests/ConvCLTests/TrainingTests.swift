import Foundation
import Testing

@testable import ConvCL

/// A small network of every layer kind the example uses, smooth where `smooth` (no ReLU or max
/// pooling, so central differences are exact enough to check the tape against).
private func network(_ backend: any Backend, seed: UInt64, smooth: Bool) throws -> Sequential {
    var generator = SeededGenerator(seed: seed)
    var layers: [any Layer] = [
        try Conv1d(1, 3, kernel: 5, descriptor: .init(stride: 2, padding: .explicit([2, 1])), backend: backend, generator: &generator)
    ]
    if !smooth { layers.append(ReLU()) }
    layers += [
        Unsqueeze(axis: 1),
        try Conv2d(1, 4, kernel: [3, 3], descriptor: .init(stride: [1, 2], padding: .explicit([0, 1, 0, 1])), backend: backend, generator: &generator),
        smooth ? AvgPool(PoolDescriptor(kernel: [1, 2])) : MaxPool(PoolDescriptor(kernel: [1, 2])),
        GlobalAvgPool(),
        try Linear(4, 5, backend: backend, generator: &generator),
    ]
    if !smooth { layers.insert(Dropout(0.25, seed: seed), at: layers.count - 1) }
    return Sequential(layers)
}

@Suite("Training")
struct TrainingTests {
    @Test("the tape's gradients of a whole network equal central differences of its loss (reference backend)")
    func tapeAgainstDifferences() throws {
        var random = TestRandom()
        let backend = ReferenceBackend()
        let model = try network(backend, seed: random.seed, smooth: true)
        let input = try backend.tensor(shape: [3, 1, 23], values: random.floats(69))
        let labels = (0..<3).map { _ in random.int(0...4) }
        func loss(_ parameters: [Tensor]) throws -> (Tensor, [Tensor]) {
            try valueAndGradients(on: backend, with: parameters) { tape, variables in
                try tape.crossEntropy(try model.forward(tape.constant(input), parameters: variables, on: tape, training: true), labels: labels)
            }
        }
        let parameters = model.parameters
        let (_, gradients) = try loss(parameters)
        for (index, parameter) in parameters.enumerated() {
            var values = try parameter.values()
            let analytic = try gradients[index].values()
            var worst = 0.0
            for element in values.indices {
                let original = values[element]
                func lossAt(_ value: Float) throws -> Double {
                    values[element] = value
                    var changed = parameters
                    changed[index] = try backend.tensor(shape: parameter.shape, values: values)
                    return Double(try loss(changed).0.values()[0])
                }
                let step: Float = 1e-2
                let numeric = (try lossAt(original + step) - lossAt(original - step)) / Double(2 * step)
                values[element] = original
                worst = max(worst, abs(numeric - Double(analytic[element])))
            }
            #expect(worst < 2e-3, "parameter \(index) \(parameter.shape): worst difference \(worst); seed \(random.seed)")
        }
    }

    @Test("a variable used twice gets the sum of its gradients; mean squared error's gradient reaches both operands")
    func accumulation() throws {
        var random = TestRandom()
        let backend = ReferenceBackend()
        let (x, w, t) = (random.floats(6), random.floats(9), random.floats(6))
        let (loss, gradients) = try valueAndGradients(
            on: backend, with: [try backend.tensor(shape: [3, 3], values: w), try backend.tensor(shape: [2, 3], values: t)]
        ) { tape, variables in
            let once = try tape.linear(tape.constant(try backend.tensor(shape: [2, 3], values: x)), weight: variables[0])
            return try tape.meanSquaredError(try tape.linear(once, weight: variables[0]), variables[1])
        }
        // In Double: y = x Wᵀ Wᵀ, L = mean((y − t)²); dL/dW = Σ over both uses.
        let (xd, wd, td) = (x.map(Double.init), w.map(Double.init), t.map(Double.init))
        func product(_ a: [Double], _ rows: Int, _ b: [Double]) -> [Double] {  // a [rows, 3] · bᵀ (b [3, 3])
            var result = [Double](repeating: 0, count: rows * 3)
            for n in 0..<rows {
                for o in 0..<3 {
                    for i in 0..<3 { result[n * 3 + o] += a[n * 3 + i] * b[o * 3 + i] }
                }
            }
            return result
        }
        let once = product(xd, 2, wd), y = product(once, 2, wd)
        var dy = [Double](repeating: 0, count: 6)
        for i in 0..<6 { dy[i] = 2 * (y[i] - td[i]) / 6 }
        // The gradient at `once` (dy · W), then both uses of W.
        var donce = [Double](repeating: 0, count: 6)
        for n in 0..<2 {
            for i in 0..<3 {
                for o in 0..<3 { donce[n * 3 + i] += dy[n * 3 + o] * wd[o * 3 + i] }
            }
        }
        var dw = [Double](repeating: 0, count: 9)
        for o in 0..<3 {
            for i in 0..<3 {
                for n in 0..<2 {
                    dw[o * 3 + i] += dy[n * 3 + o] * once[n * 3 + i]
                    dw[o * 3 + i] += donce[n * 3 + o] * xd[n * 3 + i]
                }
            }
        }
        var expectedLoss = 0.0
        for i in 0..<6 { expectedLoss += (y[i] - td[i]) * (y[i] - td[i]) / 6 }
        #expect(abs(Double(try loss.values()[0]) - expectedLoss) < 1e-5 * max(1, expectedLoss), "seed \(random.seed)")
        let worstW = zip(try gradients[0].values(), dw).map { abs(Double($0) - $1) }.max()!
        let worstT = zip(try gradients[1].values(), dy).map { abs(Double($0) + $1) }.max()!
        #expect(worstW < 1e-5 && worstT < 1e-5, "weight \(worstW), target \(worstT); seed \(random.seed)")
    }

    @Test("matmul's gradients with a broadcast batch equal the Double products, summed over the batch")
    func matmulGradients() throws {
        var random = TestRandom()
        let (a, b, dy) = (random.floats(2 * 3 * 4).map(Double.init), random.floats(4 * 5).map(Double.init), random.floats(2 * 3 * 5).map(Double.init))
        var da = [Double](repeating: 0, count: 24), db = [Double](repeating: 0, count: 20)
        for batch in 0..<2 {
            for i in 0..<3 {
                for j in 0..<5 {
                    for k in 0..<4 {
                        let g = dy[(batch * 3 + i) * 5 + j]
                        da[(batch * 3 + i) * 4 + k] += g * b[k * 5 + j]
                        db[k * 5 + j] += g * a[(batch * 3 + i) * 4 + k]
                    }
                }
            }
        }
        for backend in try allBackends() {
            let tape = Tape(backend: backend)
            let (va, vb) = (tape.parameter(try backend.tensor(shape: [2, 3, 4], values: a.map(Float.init))),
                            tape.parameter(try backend.tensor(shape: [4, 5], values: b.map(Float.init))))
            let y = try tape.matmul(va, vb)
            let loss = try tape.sum(try tape.elementwise(.mul, y, tape.constant(try backend.tensor(shape: [2, 3, 5], values: dy.map(Float.init)))))
            let gradients = try tape.gradients(of: loss, withRespectTo: [va, vb])
            #expect(gradients[0].shape == [2, 3, 4] && gradients[1].shape == [4, 5])
            #expect(zip(try gradients[0].values(), da).map { abs(Double($0) - $1) }.max()! < 1e-5, "\(backend.name) dA; seed \(random.seed)")
            #expect(zip(try gradients[1].values(), db).map { abs(Double($0) - $1) }.max()! < 1e-5, "\(backend.name) dB; seed \(random.seed)")
        }
    }

    @Test("a tape is freed with its last reference: no backward rule holds it (AddressSanitizer found one that did)")
    func tapeIsFreed() throws {
        var random = TestRandom()
        let backend = ReferenceBackend()
        weak var freed: Tape?
        do {
            let tape = Tape(backend: backend)
            freed = tape
            let x = tape.parameter(try backend.tensor(shape: [2, 3, 8], values: random.floats(48)))
            var generator = SeededGenerator(seed: 1)
            let conv = try tape.conv1d(x, weight: tape.parameter(try backend.tensor(shape: [4, 3, 3], values: random.floats(36))), descriptor: .init(activation: .relu))
            let pooled = try tape.maxPool(try tape.averagePool(conv, descriptor: .init(kernel: [2])), descriptor: .init(kernel: [2]))
            let (normalized, _, _) = try tape.batchNormalization(
                pooled, scale: tape.parameter(try backend.tensor(shape: [4], values: [1, 2, 3, 4])), bias: tape.constant(try backend.tensor(shape: [4], values: [0, 0, 0, 0])))
            let flat = try tape.dropout(try tape.flatten(try tape.globalAveragePool(normalized)), probability: 0.5, generator: &generator)
            let logits = try tape.linear(flat, weight: tape.parameter(try backend.tensor(shape: [3, 4], values: random.floats(12))))
            let mixed = try tape.elementwise(.tanh, try tape.matmul(try tape.softmax(logits), tape.parameter(try backend.tensor(shape: [3, 3], values: random.floats(9)))))
            let losses = [
                try tape.crossEntropy(mixed, labels: [0, 2]), try tape.binaryCrossEntropyWithLogits(mixed, tape.constant(try backend.tensor(shape: [2, 3], values: random.floats(6)))),
                try tape.meanSquaredError(try tape.logSoftmax(mixed), mixed), try tape.reduce(mixed, .logSumExp),
            ]
            var total = losses[0]
            for loss in losses.dropFirst() { total = try tape.elementwise(.add, total, loss) }
            _ = try tape.gradients(of: total, withRespectTo: [x])
        }
        #expect(freed == nil, "the tape is still alive: a backward rule holds it")
    }

    @Test("SGD with momentum and Adam follow PyTorch's update rules step by step")
    func optimizers() throws {
        var random = TestRandom()
        for backend in try allBackends() {
            let w0 = random.floats(37), gradients = (0..<3).map { _ in random.floats(37) }
            var sgdWeights = [try backend.tensor(shape: [37], values: w0)], adamWeights = sgdWeights
            let sgd = SGD(backend: backend, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
            let adam = Adam(backend: backend, learningRate: 0.01, weightDecay: 0.001)
            var (w, v) = (w0.map(Double.init), [Double](repeating: 0, count: 37))
            var (aw, m, s) = (w, v, v)
            for (step, g) in gradients.enumerated() {
                let tensor = try backend.tensor(shape: [37], values: g)
                try sgd.step(&sgdWeights, gradients: [tensor])
                try adam.step(&adamWeights, gradients: [tensor])
                for i in 0..<37 {
                    let d = Double(g[i]) + 0.01 * w[i]
                    v[i] = 0.9 * v[i] + d
                    w[i] -= 0.1 * v[i]
                    let da = Double(g[i]) + 0.001 * aw[i]
                    m[i] = 0.9 * m[i] + 0.1 * da
                    s[i] = 0.999 * s[i] + 0.001 * da * da
                    let t = Double(step + 1)
                    aw[i] -= 0.01 * (m[i] / (1 - pow(0.9, t))) / ((s[i] / (1 - pow(0.999, t))).squareRoot() + 1e-8)
                }
            }
            let sgdError = zip(try sgdWeights[0].values(), w).map { abs(Double($0) - $1) }.max()!
            let adamError = zip(try adamWeights[0].values(), aw).map { abs(Double($0) - $1) }.max()!
            #expect(sgdError < 1e-5 && adamError < 1e-5, "\(backend.name): SGD \(sgdError), Adam \(adamError); seed \(random.seed)")
            #expect(throws: ConvCLError.self) { try sgd.step(&sgdWeights, gradients: []) }
        }
    }

    @Test("training on OpenCL: gradients match the reference's, the loss falls, and the same seed gives bit-identical weights", .needsOpenCL)
    func trainingOnDevice() throws {
        var random = TestRandom()
        let device = try openCLBackend()
        let reference = ReferenceBackend()
        // Two classes: a low tone or a high one, each at a random phase.
        func batch() throws -> ([Float], [Int]) {
            var samples: [Float] = []
            var labels: [Int] = []
            for _ in 0..<8 {
                let label = random.int(0...1), phase = Float(random.int(0...99)) / 16
                samples += (0..<23).map { sinf(Float($0) * (label == 0 ? 0.4 : 1.9) + phase) }
                labels.append(label)
            }
            return (samples, labels)
        }
        func train(_ backend: any Backend, _ batches: [([Float], [Int])]) throws -> (losses: [Float], weights: [[Float]]) {
            let model = try network(backend, seed: 7, smooth: false)
            let optimizer = Adam(backend: backend, learningRate: 0.02)
            var losses: [Float] = []
            for (samples, labels) in batches {
                let input = try backend.tensor(shape: [8, 1, 23], values: samples)
                losses.append(try model.trainingStep(input, backend: backend, optimizer: optimizer) { tape, output in
                    try tape.crossEntropy(output, labels: labels)
                }.loss)
            }
            return (losses, try model.parameters.map { try $0.values() })
        }
        let batches = try (0..<60).map { _ in try batch() }
        let first = try train(device, batches), second = try train(device, batches)
        #expect(first.weights == second.weights, "weights differ between two runs of one seed")
        let early = first.losses.prefix(10).reduce(0, +) / 10, late = first.losses.suffix(10).reduce(0, +) / 10
        #expect(late < 0.5 * early, "loss \(early) → \(late); seed \(random.seed)")
        // Three steps on both backends: the same weights within float32 rounding.
        let onDevice = try train(device, Array(batches.prefix(3))), onReference = try train(reference, Array(batches.prefix(3)))
        for (a, e) in zip(onDevice.weights, onReference.weights) {
            #expect(relativeL2Error(a, e) < 1e-4, "seed \(random.seed)")
        }
    }

    @Test("a trained network exported as ONNX loads into Model and gives the network's outputs on both backends")
    func exportRoundTrip() throws {
        var random = TestRandom()
        var generator = SeededGenerator(seed: random.seed)
        for backend in try allBackends() {
            let layers: [any Layer] = [
                try Conv1d(2, 3, kernel: 7, descriptor: .init(stride: 2, padding: .explicit([3, 1]), dilation: 2, mode: .convolution, activation: .relu),
                           backend: backend, generator: &generator),
                AvgPool(PoolDescriptor(kernel: [3], stride: [2], padding: .explicit([1, 1]), ceilMode: true, countIncludePad: true)),
                try BatchNorm(3, backend: backend),
                Unsqueeze(axis: 2),
                try Conv2d(3, 4, kernel: [1, 3], descriptor: .init(padding: .sameUpper, activation: .leakyReLU(slope: 0.2)),
                           backend: backend, generator: &generator),
                MaxPool(PoolDescriptor(kernel: [1, 2], stride: [1, 2], dilation: [1, 1], ceilMode: true)),
                ReLU(),
                Sequential([GlobalAvgPool(), Dropout(0.5, seed: 1)]),
                try Linear(4, 6, backend: backend, generator: &generator),
            ]
            let network = Sequential(layers)
            let input = try backend.tensor(shape: [3, 2, 41], values: random.floats(246))
            // A step, so that the running statistics and the weights are not the initial ones.
            try network.trainingStep(input, backend: backend, optimizer: SGD(backend: backend, learningRate: 0.1)) { tape, output in
                try tape.crossEntropy(output, labels: [1, 5, 3])
            }
            let expected = try network(input, backend: backend)
            let model = try Model(serializedData: try network.onnxModel(inputShape: [nil, 2, 41]), backend: backend)
            let output = try model.run(["input": input])["output"]!
            #expect(output.shape == [3, 6])
            try expectClose(output, expected, tolerance: 1e-6, "\(backend.name); seed \(random.seed)")
        }
        #expect(throws: ConvCLError.self) {
            try Sequential([AvgPool(PoolDescriptor(kernel: [2], dilation: [2]))]).onnxModel(inputShape: [1, 1, 8])
        }
    }
}

@Suite("Reduction and loss gradients")
struct ReductionGradientTests {
    @Test("reductions (sum, mean, max, min, sum of squares, log-sum-exp), softmax, log-softmax and binary cross-entropy: gradients equal central differences in Double, on both backends")
    func againstDifferences() throws {
        var random = TestRandom()
        let shape = [3, 4, 5]
        let x = random.floats(60).map { Double($0) * 2 }
        let t = (0..<60).map { _ in Double(random.int(0...10)) / 10 }
        let dy = random.floats(60).map(Double.init)
        // The functions in Double, and the tape's versions: (name, Double loss of x, tape loss).
        func rows(_ x: [Double]) -> [[Double]] { (0..<12).map { Array(x[$0 * 5..<$0 * 5 + 5]) } }  // rows along the last axis
        func logSumExp(_ row: [Double]) -> Double { let top = row.max()!; return top + log(row.reduce(0) { $0 + exp($1 - top) }) }
        func weightedSum(_ x: [Double]) -> Double {
            var total = 0.0
            for index in 0..<60 { total += x[index] * dy[index / 20 * 5 + index % 5] }  // Σ over axis 1 of [3, 4, 5], weighted by dy[n, 0, w]
            return total
        }
        func weightedRowMax(_ x: [Double]) -> Double {
            var total = 0.0
            for (index, row) in rows(x).enumerated() { total += row.max()! * dy[index] }
            return total
        }
        func weightedLogSumExp(_ x: [Double]) -> Double {
            var total = 0.0
            for (index, row) in rows(x).enumerated() { total += logSumExp(row) * dy[index] }
            return total
        }
        func weightedSoftmax(_ x: [Double]) -> Double {
            var total = 0.0
            for (index, row) in rows(x).enumerated() {
                let lse = logSumExp(row)
                for (column, value) in row.enumerated() { total += exp(value - lse) * dy[index * 5 + column] }
            }
            return total
        }
        func weightedLogSoftmaxAxis1(_ x: [Double]) -> Double {
            var total = 0.0
            for n in 0..<3 {
                for w in 0..<5 {
                    let values = (0..<4).map { x[n * 20 + $0 * 5 + w] }
                    let lse = logSumExp(values)
                    for c in 0..<4 { total += (values[c] - lse) * dy[n * 20 + c * 5 + w] }
                }
            }
            return total
        }
        func crossEntropy(_ x: [Double]) -> Double {
            var total = 0.0
            for index in 0..<60 { total += max(x[index], 0) - x[index] * t[index] + log(1 + exp(-abs(x[index]))) }
            return total / 60
        }
        func constant(_ tape: Tape, _ shape: [Int], _ values: [Double]) throws -> Variable {
            tape.constant(try tape.backend.tensor(shape: shape, values: values.map(Float.init)))
        }
        typealias Case = (String, ([Double]) -> Double, (Tape, Variable) throws -> Variable)
        let cases: [Case] = [
            ("sum over axis 1", weightedSum, { tape, v in
                try tape.sum(try tape.elementwise(.mul, try tape.reduce(v, .sum, axes: [1], keepDims: true), try constant(tape, [3, 1, 5], Array(dy.prefix(15)))))
            }),
            ("mean of all", { x in x.reduce(0, +) / 60 }, { tape, v in try tape.reduce(v, .mean) }),
            ("max over the last axis", weightedRowMax, { tape, v in
                try tape.sum(try tape.elementwise(.mul, try tape.reduce(v, .max, axes: [-1]), try constant(tape, [3, 4], Array(dy.prefix(12)))))
            }),
            ("min of all", { x in x.min()! }, { tape, v in try tape.reduce(v, .min) }),
            ("sum of squares", { x in x.reduce(0) { $0 + $1 * $1 } }, { tape, v in try tape.reduce(v, .sumSquare) }),
            ("log-sum-exp over the last axis", weightedLogSumExp, { tape, v in
                try tape.sum(try tape.elementwise(.mul, try tape.reduce(v, .logSumExp, axes: [2]), try constant(tape, [3, 4], Array(dy.prefix(12)))))
            }),
            ("softmax", weightedSoftmax, { tape, v in try tape.sum(try tape.elementwise(.mul, try tape.softmax(v), try constant(tape, shape, dy))) }),
            ("log-softmax over axis 1", weightedLogSoftmaxAxis1, { tape, v in
                try tape.sum(try tape.elementwise(.mul, try tape.logSoftmax(v, axis: 1), try constant(tape, shape, dy)))
            }),
            ("binary cross-entropy with logits", crossEntropy, { tape, v in try tape.binaryCrossEntropyWithLogits(v, try constant(tape, shape, t)) }),
        ]
        for backend in try allBackends() {
            for (name, function, taped) in cases {
                let tape = Tape(backend: backend)
                let variable = tape.parameter(try backend.tensor(shape: shape, values: x.map(Float.init)))
                let loss = try taped(tape, variable)
                let gradient = try tape.gradients(of: loss, withRespectTo: [variable])[0].values()
                #expect(abs(Double(try loss.value.values()[0]) - function(x)) < 1e-5 * max(1, abs(function(x))), "\(name) value on \(backend.name)")
                let worst = (0..<60).map { index -> Double in
                    var (plus, minus) = (x, x)
                    plus[index] += 1e-6
                    minus[index] -= 1e-6
                    return abs((function(plus) - function(minus)) / 2e-6 - Double(gradient[index]))
                }.max()!
                #expect(worst < 1e-4, "\(name) on \(backend.name): gradient error \(worst); seed \(random.seed)")
            }
        }
    }
}

@Suite("Batch normalisation")
struct BatchNormTests {
    @Test("training mode: output and gradients of x, scale and bias equal central differences of the Double definition; running statistics follow PyTorch's update; outside training the running ones are used, with their gradients")
    func training() throws {
        var random = TestRandom()
        let shape = [3, 2, 2, 5], channels = 2, count = 30
        let x = random.floats(60).map(Double.init), gamma = random.floats(2).map { Double($0) + 1.5 }, beta = random.floats(2).map(Double.init)
        let dy = random.floats(60).map(Double.init)
        func channel(_ index: Int) -> Int { index / 10 % 2 }
        func forward(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> [Double] {
            var mean = [0.0, 0.0], variance = [0.0, 0.0]
            for i in 0..<60 { mean[channel(i)] += x[i] / Double(count) }
            for i in 0..<60 { variance[channel(i)] += (x[i] - mean[channel(i)]) * (x[i] - mean[channel(i)]) / Double(count) }
            return (0..<60).map { i in gamma[channel(i)] * (x[i] - mean[channel(i)]) / (variance[channel(i)] + 1e-5).squareRoot() + beta[channel(i)] }
        }
        func loss(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
            zip(forward(x, gamma, beta), dy).reduce(0) { $0 + $1.0 * $1.1 }
        }
        func numerical(_ values: [Double], _ f: ([Double]) -> Double) -> [Double] {
            values.indices.map { i in
                var (plus, minus) = (values, values)
                plus[i] += 1e-6
                minus[i] -= 1e-6
                return (f(plus) - f(minus)) / 2e-6
            }
        }
        let expected = [numerical(x) { loss($0, gamma, beta) }, numerical(gamma) { loss(x, $0, beta) }, numerical(beta) { loss(x, gamma, $0) }]
        for backend in try allBackends() {
            let layer = try BatchNorm(channels, momentum: 0.25, backend: backend)
            layer.parameters = [try backend.tensor(shape: [2], values: gamma.map(Float.init)), try backend.tensor(shape: [2], values: beta.map(Float.init))]
            let tape = Tape(backend: backend)
            let input = tape.parameter(try backend.tensor(shape: shape, values: x.map(Float.init)))
            let parameters = layer.parameters.map(tape.parameter)
            let y = try layer.forward(input, parameters: parameters, on: tape, training: true)
            let weighted = try tape.sum(try tape.elementwise(.mul, y, tape.constant(try backend.tensor(shape: shape, values: dy.map(Float.init)))))
            let gradients = try tape.gradients(of: weighted, withRespectTo: [input] + parameters)
            let outputError = zip(try y.value.values(), forward(x, gamma, beta)).map { abs(Double($0) - $1) }.max()!
            #expect(outputError < 1e-5, "\(backend.name): output error \(outputError); seed \(random.seed)")
            for (name, (gradient, want)) in zip(["x", "scale", "bias"], zip(gradients, expected)) {
                let error = zip(try gradient.values(), want).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!
                #expect(error < 1e-4, "\(backend.name) \(name): gradient error \(error); seed \(random.seed)")
            }
            // Running statistics: (1 − m)·old + m·batch, the variance unbiased (PyTorch).
            for c in 0..<2 {
                let values = (0..<60).filter { channel($0) == c }.map { x[$0] }
                let mean = values.reduce(0, +) / 30, unbiased = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 29
                #expect(abs(Double(try layer.runningMean.values()[c]) - 0.25 * mean) < 1e-5, "\(backend.name) running mean")
                #expect(abs(Double(try layer.runningVariance.values()[c]) - (0.75 + 0.25 * unbiased)) < 1e-5, "\(backend.name) running variance")
            }
            // Outside training: the running statistics, and a gradient through them.
            let evalTape = Tape(backend: backend)
            let evalInput = evalTape.parameter(try backend.tensor(shape: shape, values: x.map(Float.init)))
            let evalY = try layer.forward(evalInput, parameters: layer.parameters.map(evalTape.parameter), on: evalTape, training: false)
            let (rm, rv) = (try layer.runningMean.values(), try layer.runningVariance.values())
            let want = (0..<60).map { i in gamma[channel(i)] * (x[i] - Double(rm[channel(i)])) / (Double(rv[channel(i)]) + 1e-5).squareRoot() + beta[channel(i)] }
            #expect(zip(try evalY.value.values(), want).map { abs(Double($0) - $1) }.max()! < 1e-5, "\(backend.name) inference")
            let evalGradient = try evalTape.gradients(of: try evalTape.sum(evalY), withRespectTo: [evalInput])[0].values()
            let slope = (0..<60).map { gamma[channel($0)] / (Double(rv[channel($0)]) + 1e-5).squareRoot() }
            #expect(zip(evalGradient, slope).map { abs(Double($0) - $1) }.max()! < 1e-5, "\(backend.name) inference gradient")
        }
    }
}
