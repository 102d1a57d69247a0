import CFuzzer
import ConvCL
import Foundation

/// What this process fuzzes: `model` (ONNX files into `Model`, run on the CPU reference when its
/// inputs have small fixed shapes), `wav` (`WAVReader`, read to the end) or `npy` (`NPY.read`),
/// from CONVCL_FUZZ_TARGET.
let target = ProcessInfo.processInfo.environment["CONVCL_FUZZ_TARGET"] ?? "model"

/// The file the WAV and .npy readers are given (they read files, as users call them).
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("convcl-fuzz-\(getpid()).bin")

/// An input must give a result or a clear error: one line that names the file. A crash, a hang
/// or an allocation past libFuzzer's limit is what the fuzzer reports; a bad error is made one.
func expectClearError(_ error: any Error, naming path: String) {
    let text = "\(error)"
    guard !text.isEmpty, !text.contains("\n"), text.contains(path) else {
        fatalError("unclear error (not one line naming \(path)): \(text)")
    }
}

/// One input, as libFuzzer calls it.
func fuzz(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
    switch target {
    case "model":
        do {
            let backend = ReferenceBackend()
            let model = try Model(serializedData: data, backend: backend)
            // A model whose inputs all have small fixed shapes also runs, on the CPU reference.
            var feeds: [String: Tensor] = [:]
            for input in model.inputs {
                let sizes = input.shape?.compactMap { dimension -> Int? in if case .fixed(let size) = dimension { size } else { nil } }
                guard let sizes, sizes.count == input.shape?.count, sizes.reduce(1, *) <= 4096, let type = input.dataType else { return 0 }
                let count = sizes.reduce(1, *)
                switch type {
                case .float32: feeds[input.name] = try backend.tensor(shape: sizes, values: (0..<count).map { Float($0 % 7) - 3 })
                case .int64: feeds[input.name] = try backend.tensor(shape: sizes, int64Values: (0..<count).map { Int64($0 % 5) })
                case .bool: feeds[input.name] = try backend.tensor(shape: sizes, boolValues: (0..<count).map { $0 % 2 == 0 })
                }
            }
            _ = try model.run(feeds)
        } catch {
            if "\(error)".isEmpty { fatalError("an empty error") }
        }
    case "wav":
        do {
            try data.write(to: scratch)
            let reader = try WAVReader(contentsOf: scratch)
            while try !reader.read(maxFrames: 4096).isEmpty {}
        } catch {
            expectClearError(error, naming: scratch.path)
        }
    case "npy":
        do {
            try data.write(to: scratch)
            _ = try NPY.read(path: scratch.path)
        } catch {
            expectClearError(error, naming: scratch.path)
        }
    default:
        fatalError("CONVCL_FUZZ_TARGET=\(target): model, wav or npy")
    }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzz($0, $1) })
