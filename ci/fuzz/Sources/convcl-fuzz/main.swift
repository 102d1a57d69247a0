import CFuzzer
import ConvCL
import Foundation

/// What this process fuzzes: `model` (ONNX files into `Model`), `wav` (`WAVReader`, read to the
/// end) or `npy` (`NPY.read`), from CONVCL_FUZZ_TARGET.
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
            _ = try Model(serializedData: data, backend: ReferenceBackend())
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
