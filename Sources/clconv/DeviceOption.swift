import ArgumentParser
import ConvCL

/// `--device`, shared by the subcommands that run operators.
struct DeviceOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where to run: opencl (the first GPU, else the first OpenCL device, never the CPU reference), cpu (the CPU reference), or any CONVCL_DEVICE form: an index, gpu, a name substring.",
            discussion: "Default: the library's default device (CONVCL_DEVICE, else automatic, falling back to the CPU reference).",
            valueName: "device"))
    var device: String?

    func backend() throws -> any Backend {
        guard let device else { return try selectBackend().backend }
        switch device.lowercased() {
        case "opencl": return try OpenCLBackend(device: .automatic)
        case "cpu", "reference": return ReferenceBackend()
        default: return try selectBackend(DeviceSelector(device)).backend
        }
    }
}

/// Parses a comma-separated list of sizes with one value per spatial dimension.
func parseSizes(_ text: String, option: String, count: Int) throws -> [Int] {
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard values.allSatisfy({ $0 != nil }) else {
        throw ValidationError("--\(option) \(text): expected comma-separated integers")
    }
    guard values.count == count else {
        throw ValidationError("--\(option) \(text): expected \(count) value\(count == 1 ? "" : "s"), one per spatial dimension")
    }
    return values.map { $0! }
}

/// Parses `--padding`: sizes per side (2-D: top,left,bottom,right; 1-D: left,right) or a keyword.
func parsePadding(_ text: String?, rank: Int) throws -> Padding {
    guard let text else { return .valid }
    switch text.lowercased() {
    case "valid": return .valid
    case "same-upper": return .sameUpper
    case "same-lower": return .sameLower
    default: return .explicit(try parseSizes(text, option: "padding", count: 2 * rank))
    }
}
