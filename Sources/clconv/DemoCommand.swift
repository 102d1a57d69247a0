import ArgumentParser
import ConvCL
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A CNN on music: spectrogram by conv1d, then conv2d + ReLU + max pooling layers and a global average pool.",
        discussion: """
            Reads a WAV file (PCM or float, any channel count), or synthesizes a melody when none is given. The log-magnitude \
            spectrogram is the library's own conv1d with a bank of Hann-windowed cosine and sine filters \
            (stride = hop length), the magnitude an L2 reduction over each cosine/sine pair. Each layer \
            prints its shape, its device time and its largest difference from the CPU reference.
            """
    )

    @Argument(help: "A WAV file. Default: a synthesized melody of a few seconds.")
    var file: String?
    @Option(help: "Write a PNG of the spectrogram and the first layer's feature maps here. Default: not written.")
    var png: String?
    @Option(help: "The seed of the layers' weights.")
    var seed: UInt64 = 7
    @OptionGroup var device: DeviceOption

    static let frameLength = 512
    static let hopLength = 128
    static let bins = 64

    func run() throws {
        let audio = try file.map { try Audio.readWAV(path: $0) } ?? Audio.melody()
        guard audio.samples.count >= Self.frameLength else {
            throw InputError("\(file ?? "audio"): \(audio.samples.count) samples; at least \(Self.frameLength) are needed")
        }
        let backend = try device.backend()
        let reference = ReferenceBackend()
        print("audio: \(file ?? "synthesized melody"), \(audio.samples.count) samples at \(audio.sampleRate) Hz")
        print("device: \(backend.name); reference: \(reference.name)")
        print("layer                         shape               device ms   max |device − reference|")

        if let device = backend as? OpenCLBackend {
            // Every layer's programs, built before the first layer runs (half of them by the build helper).
            try device.prepare(Self.plannedOperations(samples: audio.samples.count))
        }
        var random = SeededGenerator(seed: seed)
        let layers = Self.layers(&random)
        let filters = Self.filterBank()
        var deviceInput = try backend.tensor(shape: [1, 1, audio.samples.count], values: audio.samples)
        var referenceInput = try reference.tensor(shape: [1, 1, audio.samples.count], values: audio.samples)
        var spectrogram: [Float] = []
        var firstMaps: (values: [Float], shape: [Int])?
        for (index, layer) in layers.enumerated() {
            let (output, seconds) = try measure(backend) { try layer.run(backend, deviceInput, filters) }
            let expected = try layer.run(reference, referenceInput, filters)
            var values = try output.values()
            let discrepancy = Discrepancy(actual: values, expected: try expected.values())
            let time = seconds.map { String(format: "%9.3f", $0 * 1e3) } ?? "        -"
            print("\(layer.name.padding(toLength: 30, withPad: " ", startingAt: 0))\("\(output.shape)".padding(toLength: 20, withPad: " ", startingAt: 0))\(time)   \(String(format: "%.2e", discrepancy.maxAbsolute))")
            guard discrepancy.relativeL2 <= 1e-4 else {
                throw RuntimeFailure("layer \(layer.name) differs from the CPU reference (relative L2 \(discrepancy.relativeL2))")
            }
            deviceInput = output
            referenceInput = expected
            if index == 0 {
                // Log magnitude, normalized, becomes the network's input image [1, 1, bins, frames].
                values = values.map { log10($0 + 1e-3) }
                let mean = values.reduce(0, +) / Float(values.count)
                let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
                values = values.map { ($0 - mean) / max(deviation, 1e-6) }
                spectrogram = values
                let shape = [1, 1, Self.bins, output.shape[2]]
                deviceInput = try backend.tensor(shape: shape, values: values)
                referenceInput = try reference.tensor(shape: shape, values: values)
            } else if index == 1 {
                firstMaps = (values, output.shape)
            }
        }
        let summary = try deviceInput.values()
        print("summary (global average of \(summary.count) maps): " + summary.prefix(8).map { String(format: "%.3f", $0) }.joined(separator: " ") + (summary.count > 8 ? " …" : ""))
        if let png, let firstMaps {
            try picture(spectrogram: spectrogram, maps: firstMaps.values, mapShape: firstMaps.shape).write(path: png)
            print("wrote \(png)")
        }
    }

    /// One stage of the pipeline.
    struct Layer {
        let name: String
        let run: (any Backend, Tensor, [Float]) throws -> Tensor
    }

    /// The spectrogram stage, then three conv2d + ReLU layers (two followed by max pooling), then a
    /// global average pool; weights uniform in ±√(6 / fan-in) from the seed.
    static func layers(_ random: inout SeededGenerator) -> [Layer] {
        func conv(_ name: String, _ input: Int, _ output: Int, _ random: inout SeededGenerator) -> Layer {
            let limit = (6 / Float(input * 9)).squareRoot()
            let weights = random.floats(output * input * 9, in: -limit..<limit)
            let bias = random.floats(output, in: -0.1..<0.1)
            return Layer(name: name) { backend, x, _ in
                try backend.conv2d(
                    x, weight: try backend.tensor(shape: [output, input, 3, 3], values: weights),
                    bias: try backend.tensor(shape: [output], values: bias),
                    descriptor: .init(padding: .sameUpper, activation: .relu))
            }
        }
        let pool = { (name: String) in
            Layer(name: name) { backend, x, _ in try backend.maxPool(x, descriptor: .init(kernel: [2, 2])) }
        }
        return [
            Layer(name: "spectrogram (conv1d + L2)") { backend, audio, filters in
                let pairs = try backend.conv1d(
                    audio, weight: try backend.tensor(shape: [2 * bins, 1, frameLength], values: filters), bias: nil,
                    descriptor: .init(stride: hopLength))
                let frames = pairs.shape[2]
                return try backend.reduce(
                    try pairs.reshaped([1, 2, bins, frames]), descriptor: .init(.l2, axes: [1], keepDims: false))
            },
            conv("conv2d 3×3 1→8 + ReLU", 1, 8, &random),
            pool("maxpool 2×2"),
            conv("conv2d 3×3 8→16 + ReLU", 8, 16, &random),
            pool("maxpool 2×2"),
            conv("conv2d 3×3 16→16 + ReLU", 16, 16, &random),
            Layer(name: "global average pool") { backend, x, _ in try backend.globalAveragePool(x) },
        ]
    }

    /// The operations of `layers` on `samples` samples of audio, by their shapes.
    static func plannedOperations(samples: Int) -> [PlannedOperation] {
        let frames = (samples - frameLength) / hopLength + 1
        var operations: [PlannedOperation] = [
            .conv1d(input: [1, 1, samples], weight: [2 * bins, 1, frameLength], bias: nil, .init(stride: hopLength)),
            .reduce(input: [1, 2, bins, frames], .init(.l2, axes: [1], keepDims: false)),
        ]
        var (height, width) = (bins, frames)
        for (index, (input, output)) in [(1, 8), (8, 16), (16, 16)].enumerated() {
            operations.append(.conv2d(
                input: [1, input, height, width], weight: [output, input, 3, 3], bias: [output],
                .init(padding: .sameUpper, activation: .relu)))
            if index < 2 {
                operations.append(.pool(input: [1, output, height, width], .max, .init(kernel: [2, 2])))
                (height, width) = (height / 2, width / 2)
            }
        }
        operations.append(.reduce(input: [1, 16, height, width], .init(.mean, axes: [2, 3], keepDims: true)))
        return operations
    }

    /// Hann-windowed cosines then sines of DFT bins 1…bins: weight [2·bins, 1, frameLength].
    static func filterBank() -> [Float] {
        var weights = [Float](repeating: 0, count: 2 * bins * frameLength)
        for bin in 0..<bins {
            for n in 0..<frameLength {
                let window = 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(frameLength))
                let phase = 2 * Double.pi * Double(bin + 1) * Double(n) / Double(frameLength)
                weights[bin * frameLength + n] = Float(window * cos(phase))
                weights[(bins + bin) * frameLength + n] = Float(window * sin(phase))
            }
        }
        return weights
    }

    /// The device time of `body` on an OpenCL backend; nil on the reference.
    func measure(_ backend: any Backend, _ body: () throws -> Tensor) throws -> (Tensor, Double?) {
        guard let device = backend as? OpenCLBackend else { return (try body(), nil) }
        let (output, seconds) = try device.measureDeviceTime(body)
        return (output, seconds)
    }

    /// The spectrogram on top (2× scale), the first layer's maps below in two columns.
    func picture(spectrogram: [Float], maps: [Float], mapShape: [Int]) -> RGBImage {
        let (channels, rows, columns) = (mapShape[1], mapShape[2], mapShape[3])
        let gap = 6
        let gridRows = (channels + 1) / 2
        let width = 2 * columns + gap
        let height = 2 * Self.bins + gap + gridRows * (rows + gap)
        var image = RGBImage(width: width, height: height)
        image.paint(spectrogram, rows: Self.bins, columns: columns, x: 0, y: 0, scale: 2, flipped: true)
        let plane = rows * columns
        for channel in 0..<channels {
            let x = (channel % 2) * (columns + gap)
            let y = 2 * Self.bins + gap + (channel / 2) * (rows + gap)
            image.paint(Array(maps[channel * plane..<(channel + 1) * plane]), rows: rows, columns: columns, x: x, y: y, scale: 1, flipped: true)
        }
        return image
    }
}
