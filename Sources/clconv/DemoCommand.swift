import ArgumentParser
import ConvCL

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Runs a conv2d on the default device and checks it against the CPU reference."
    )

    @Option(help: "The random seed of the input and weights.")
    var seed: UInt64 = 1

    func run() throws {
        let selection = try selectBackend()
        print("device: \(selection.backend.name) — \(selection.reason)")
        var random = SeededGenerator(seed: seed)
        let inputShape = [2, 3, 33, 47]
        let weightShape = [8, 3, 3, 3]
        let input = random.floats(inputShape.reduce(1, *))
        let weight = random.floats(weightShape.reduce(1, *))
        let descriptor = Conv2DDescriptor()

        let reference = ReferenceBackend()
        let expected = try reference.conv2d(
            try reference.tensor(shape: inputShape, values: input),
            weight: try reference.tensor(shape: weightShape, values: weight), bias: nil, descriptor: descriptor)
        let backend = selection.backend
        let result = try backend.conv2d(
            try backend.tensor(shape: inputShape, values: input),
            weight: try backend.tensor(shape: weightShape, values: weight), bias: nil, descriptor: descriptor)
        let actual = try result.values()
        let maxError = zip(actual, try expected.values()).map { abs($0 - $1) }.max() ?? 0
        print("conv2d \(inputShape) * \(weightShape) -> \(result.shape): max |device - reference| = \(maxError)")
        guard maxError <= 1e-4 else { throw ValidationError("the device result differs from the CPU reference") }
        print("OK")
    }
}
