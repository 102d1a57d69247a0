import ArgumentParser
import ConvCL
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Trains a small CNN to name the pitch class of synthesized notes from raw audio.",
        discussion: """
            The notes (see NoteDataset) have random timbres: 1–8 stretched harmonics (the \
            fundamental sometimes missing), envelopes, detuning, vibrato and noise, three octaves \
            from G3, at 8 kHz. The network: a 1-D convolution with long \
            kernels over the samples (a learned filter bank) and ReLU; its filters as the channels \
            of a one-row image, a 2-D convolution over them and time, ReLU and max pooling; a second 2-D \
            convolution and ReLU; global average pooling; a dense layer to the 12 classes. Adam, \
            cross-entropy, dropout before the dense layer. Training and validation sets are drawn \
            from separate seeds. Prints one line per epoch; with --plot and --filters-plot writes \
            PNGs of the curves and of the first layer's frequency responses; with --export, the \
            trained network as ONNX.
            """
    )

    @Option(help: "Training examples.") var examples = 6000
    @Option(help: "Held-out validation examples.") var validation = 1000
    @Option(help: "Passes over the training set.") var epochs = 8
    @Option(help: "Examples per step.") var batch = 32
    @Option(help: "Adam's learning rate.") var learningRate: Float = 3e-3
    @Option(help: "Samples per example (8 kHz).") var samples = 1024
    @Option(help: "Filters of the first layer.") var filters = 24
    @Option(help: "Taps of the first layer's kernels.") var kernel = 255
    @Option(help: "Seed of the data, the initial weights and the order of the examples.") var seed: UInt64 = 1
    @Option(help: "Where to write the loss and accuracy curves (.png).") var plot: String?
    @Option(help: "Where to write the first layer's frequency responses (.png).") var filtersPlot: String?
    @Option(help: "Where to write the trained network (.onnx).") var export: String?
    @Option(help: "Where to write the first 16 held-out notes (.npy, [n, 1, samples]), to check an export against.")
    var sampleInput: String?
    @Option(help: "Where to write the trained network's logits of those notes (.npy, [n, 12]).") var sampleOutput: String?
    @OptionGroup var device: DeviceOption

    func validate() throws {
        for (name, value) in [("examples", examples), ("validation", validation), ("epochs", epochs), ("batch", batch), ("filters", filters)]
        where value < 1 {
            throw ValidationError("--\(name) must be at least 1, got \(value)")
        }
        guard kernel >= 1, kernel <= samples else { throw ValidationError("--kernel must lie in 1...\(samples) (--samples), got \(kernel)") }
        guard samples >= 64 else { throw ValidationError("--samples must be at least 64, got \(samples)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be > 0, got \(learningRate)") }
    }

    /// The network (see the discussion); `channels` of the 2-D convolutions.
    static func network(filters: Int, kernel: Int, channels: Int, seed: UInt64, backend: any Backend) throws -> Sequential {
        var generator = SeededGenerator(seed: seed)
        return Sequential([
            try Conv1d(1, filters, kernel: kernel, descriptor: .init(stride: 4), backend: backend, generator: &generator),
            ReLU(),
            Unsqueeze(axis: 2),
            try Conv2d(filters, channels, kernel: [1, 5], backend: backend, generator: &generator),
            ReLU(),
            MaxPool(PoolDescriptor(kernel: [1, 2])),
            try Conv2d(channels, channels, kernel: [1, 3], descriptor: .init(padding: .explicit([0, 1, 0, 1])), backend: backend, generator: &generator),
            ReLU(),
            GlobalAvgPool(),
            Dropout(0.1, seed: seed &+ 1),
            try Linear(channels, NoteDataset.classes, backend: backend, generator: &generator),
        ])
    }

    func run() throws {
        let backend = try device.backend()
        let start = Date()
        var dataGenerator = SeededGenerator(seed: seed)
        let training = NoteDataset(count: examples, samples: samples, generator: &dataGenerator)
        var heldOutGenerator = SeededGenerator(seed: seed &+ 0x5EED)
        let held = NoteDataset(count: validation, samples: samples, generator: &heldOutGenerator)
        let model = try Self.network(filters: filters, kernel: kernel, channels: 32, seed: seed, backend: backend)
        let optimizer = Adam(backend: backend, learningRate: learningRate)
        print("training on \(backend.name): \(examples) notes, \(validation) held out, \(model.parameters.map(\.count).reduce(0, +)) parameters")
        var orderGenerator = SeededGenerator(seed: seed &+ 2)
        var history: [TrainingPlots.Epoch] = []
        let steps = (examples + batch - 1) / batch
        for epoch in 1...epochs {
            // Cosine decay of the learning rate over the run.
            let bar = ProgressBar(label: "epoch \(epoch)/\(epochs)", unit: "steps")
            let order = Array(0..<examples).shuffled(using: &orderGenerator)
            var (lossSum, correct) = (0.0, 0)
            var stepSeconds = 0.0
            for step in 0..<steps {
                let progress = Double((epoch - 1) * steps + step) / Double(epochs * steps)
                optimizer.learningRate = learningRate * Float(0.5 * (1 + cos(Double.pi * progress)))
                let indices = order[step * batch..<min((step + 1) * batch, examples)]
                let (input, labels) = try training.batch(indices, backend: backend)
                let stepStart = Date()
                let (loss, output) = try model.trainingStep(input, backend: backend, optimizer: optimizer) { tape, output in
                    try tape.crossEntropy(output, labels: labels)
                }
                stepSeconds += Date().timeIntervalSince(stepStart)
                lossSum += Double(loss) * Double(indices.count)
                correct += zip(try Self.predictions(output), labels).filter { $0 == $1 }.count
                bar.show(done: step + 1, total: steps)
            }
            bar.finish()
            let (validLoss, validAccuracy) = try evaluate(model, held, backend)
            history.append(.init(
                trainLoss: lossSum / Double(examples), trainAccuracy: Double(correct) / Double(examples), validLoss: validLoss,
                validAccuracy: validAccuracy))
            let last = history[history.count - 1]
            print(String(
                format: "epoch %d/%d  loss %.3f  accuracy %.1f%%  held-out loss %.3f  accuracy %.1f%%  step %.1f ms  %.0f s", epoch, epochs,
                last.trainLoss, 100 * last.trainAccuracy, last.validLoss, 100 * last.validAccuracy, 1000 * stepSeconds / Double(steps),
                Date().timeIntervalSince(start)))
        }
        if let plot { try TrainingPlots.curves(history).write(path: plot) }
        if let filtersPlot {
            let weights = try model.layers[0].parameters[0].values()
            let kernels = (0..<filters).map { Array(weights[$0 * kernel..<($0 + 1) * kernel]) }
            try TrainingPlots.responses(
                kernels, sampleRate: NoteDataset.sampleRate, maxFrequency: 1600,
                notes: NoteDataset.lowestNote..<NoteDataset.lowestNote + 12 * NoteDataset.octaves
            ).write(path: filtersPlot)
        }
        if sampleInput != nil || sampleOutput != nil {
            let (input, _) = try held.batch(0..<min(16, held.count), backend: backend)
            if let sampleInput { try save(input, sampleInput) }
            if let sampleOutput { try save(try model(input, backend: backend), sampleOutput) }
        }
        if let export {
            let data = try model.onnxModel(inputShape: [nil, 1, samples])
            guard FileManager.default.createFile(atPath: export, contents: data) else {
                throw InputError("cannot write \(export)")
            }
        }
    }

    /// The loss and accuracy on `dataset`, in batches, outside training.
    func evaluate(_ model: Sequential, _ dataset: NoteDataset, _ backend: any Backend) throws -> (Double, Double) {
        var (lossSum, correct) = (0.0, 0)
        for first in stride(from: 0, to: dataset.count, by: 128) {
            let (input, labels) = try dataset.batch(first..<min(first + 128, dataset.count), backend: backend)
            let logits = try model(input, backend: backend)
            let values = try logits.values(), classes = logits.shape[1]
            for (row, label) in labels.enumerated() {
                let scores = values[row * classes..<(row + 1) * classes].map(Double.init)
                let top = scores.max()!
                lossSum += log(scores.reduce(0) { $0 + exp($1 - top) }) + top - scores[label]
            }
            correct += zip(try Self.predictions(logits), labels).filter { $0 == $1 }.count
        }
        return (lossSum / Double(dataset.count), Double(correct) / Double(dataset.count))
    }

    /// The class of the largest logit of each row.
    static func predictions(_ logits: Tensor) throws -> [Int] {
        let values = try logits.values(), classes = logits.shape[1]
        return (0..<logits.shape[0]).map { row in
            let scores = values[row * classes..<(row + 1) * classes]
            return scores.indices.max { scores[$0] < scores[$1] }! - row * classes
        }
    }
}
